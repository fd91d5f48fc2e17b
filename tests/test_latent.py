"""The latent route permeability and female tilt: the filter against exact Gaussian algebra, path draws, runs on
member paths."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

import refuge
from refuge.backends.random import member_keys
from refuge.model.timeline import Timeline
from refuge.systems.korea.calibration import shipped_posterior
from refuge.systems.korea.calibration.latent import (
    INITIAL_SD,
    LOADINGS,
    Filtered,
    Observation,
    continue_paths,
    filter_paths,
    sample_paths,
)
from refuge.systems.korea.calibration.posterior import latent_array
from refuge.systems.korea.drivers import LATENT, ROUTE_FEMALE_TILT, ROUTE_PERMEABILITY

ONE = np.ones((1, 1))


def linear_observations(values, sd):
    """Arrivals all by the pipeline at scale one: log arrivals observe ``u`` itself, so the filter is exact."""
    return [Observation(t, v, sd, a=np.zeros(1), b=ONE, loading=ONE) for t, v in enumerate(values)]


def walk_covariance(years: int, step: float, kept: float) -> np.ndarray:
    """Covariance of ``u[0 .. years-1]``: ``u[0] ~ N(0, INITIAL_SD^2)``, ``u[t] = kept u[t-1] + step e[t]``."""
    var = np.empty(years)
    var[0] = INITIAL_SD**2
    for t in range(1, years):
        var[t] = kept**2 * var[t - 1] + step**2
    t = np.arange(years)
    early, late = np.minimum.outer(t, t), np.maximum.outer(t, t)
    return kept ** (late - early) * var[early]


@pytest.mark.parametrize("kept", [1.0, 0.6])
def test_the_filter_likelihood_is_the_exact_gaussian_marginal_in_the_linear_case(kept):
    step, sd = 0.3, 0.2
    y = np.array([0.1, -0.2, 0.4, 0.9])
    # u is a walk from N(0, INITIAL_SD^2) (drawn back to 0 when kept < 1); y = u + noise: y is jointly normal
    cov_u = walk_covariance(len(y), step, kept)
    exact = multivariate_normal(np.zeros(len(y)), cov_u + sd**2 * np.eye(len(y))).logpdf(y)
    filtered = filter_paths(linear_observations(y, sd), members=1, years=len(y), step=step, persistence=kept)
    assert filtered.log_likelihood[0] == pytest.approx(exact, rel=1e-10)
    # the last filtered mean is the exact conditional mean of u[-1] given all of y
    gain = cov_u[-1] @ np.linalg.inv(cov_u + sd**2 * np.eye(len(y)))
    assert filtered.mean[0, -1, 0] == pytest.approx(gain @ y, rel=1e-10)


@pytest.mark.parametrize("kept", [1.0, 0.6])
def test_backward_draws_have_the_exact_smoothed_mean_and_spread(kept):
    step, sd = 0.4, 0.1
    y = np.array([0.0, 0.5, -0.3])
    cov_u = walk_covariance(3, step, kept)
    gain = cov_u @ np.linalg.inv(cov_u + sd**2 * np.eye(3))
    mean, cov = gain @ y, cov_u - gain @ cov_u
    draws = 40_000
    filtered = filter_paths(linear_observations(y, sd), members=1, years=3, step=step, persistence=kept)
    many = Filtered(np.repeat(filtered.mean, draws, 0), np.repeat(filtered.var, draws, 0), filtered.log_likelihood)
    u = sample_paths(many, step, np.random.default_rng(1).standard_normal((draws, 3, 1)), kept)[..., 0]
    assert np.allclose(u.mean(axis=0), mean, atol=4 * np.sqrt(np.diag(cov) / draws))
    assert np.allclose(np.cov(u, rowvar=False), cov, atol=0.003)


def test_an_observation_of_the_slow_route_alone_says_nothing_of_the_walk():
    seen = Observation(0, np.log(50.0), 0.1, a=np.array([50.0]), b=np.zeros((1, 1)), loading=ONE)
    filtered = filter_paths([seen], members=1, years=2, step=0.5)
    assert filtered.mean[0, 0, 0] == 0.0 and filtered.var[0, 0, 0, 0] == INITIAL_SD**2


def test_time_abroad_mixes_the_two_routes_by_their_arrivals():
    a, b, a_years, b_years = np.array([100.0]), np.array([[100.0]]), np.array([400.0]), np.array([[20.0]])
    survey = Observation(0, 0.0, 0.2, a, b, ONE, (a_years, b_years))
    h, _ = survey.predict(np.log(np.array([[3.0]])))  # three times the pipeline: (400 + 60) / (100 + 300) years
    assert np.exp(h[0]) == pytest.approx(460 / 400)


def test_paths_continue_by_the_walk_with_the_given_step():
    u = np.zeros((20_000, 2, 2))
    out = continue_paths(u, np.array([0.5, 0.2]), np.random.default_rng(0).standard_normal((20_000, 3, 2)))
    assert out.shape == (20_000, 5, 2)
    assert np.allclose(out[:, 2:].std(axis=0), np.sqrt([1, 2, 3])[:, None] * [0.5, 0.2], rtol=0.03)


def test_paths_drawn_back_to_the_level_continue_as_the_walk_does():
    u = np.full((20_000, 1, 1), 2.0)
    out = continue_paths(u, 0.5, np.random.default_rng(0).standard_normal((20_000, 3, 1)), persistence=0.5)
    assert np.allclose(out[:, 1:, 0].mean(axis=0), 2.0 * 0.5 ** np.arange(1, 4), atol=0.02)
    assert np.allclose(out[:, 1:, 0].std(axis=0), 0.5 * np.sqrt([1, 1.25, 1.3125]), rtol=0.03)


def test_member_paths_of_the_shipped_posterior_do_not_depend_on_how_the_ensemble_is_split():
    posterior = shipped_posterior()
    rows = posterior.rows(6, seed=4)
    timeline = Timeline(1990, 2040)
    first, paths = latent_array(posterior.latent)
    seen = first + paths.shape[1] - 1 - 1990
    whole = posterior.paths(rows, member_keys(4, 6), timeline)
    parts = [posterior.paths(rows[i : i + 2], member_keys(4, 2, i), timeline) for i in (0, 2, 4)]
    for k, name in enumerate(LATENT):
        assert np.array_equal(whole[name], np.concatenate([part[name] for part in parts]))
        assert np.allclose(np.log(whole[name][:, : seen + 1]), paths[rows, :, k])
        assert not np.allclose(whole[name][:, -1], whole[name][:, seen])  # the future is drawn, not held
    # each walk draws its future from its own stream
    assert not np.allclose(np.diff(np.log(whole[ROUTE_PERMEABILITY][:, seen:])),
                           np.diff(np.log(whole[ROUTE_FEMALE_TILT][:, seen:])))


def test_a_run_follows_each_members_path_of_a_driver():
    timeline = Timeline(2000, 2004)
    common = dict(members=2, seed=0, backend="mean", timeline=timeline, calibrated=False)
    path = np.ones((2, 5))
    path[1, 2:] = 3.0
    res = refuge.run("baseline", paths={ROUTE_PERMEABILITY: path}, **common)
    brokered = res.outputs().sel(variable="brokered_crossings").values
    plain = refuge.run("baseline", **common).outputs().sel(variable="brokered_crossings").values
    assert np.allclose(brokered[0], plain[0])
    assert np.allclose(brokered[1, :2], plain[1, :2]) and np.all(brokered[1, 2:] > 2.5 * plain[1, 2:])
    hiding = res.outputs().sel(variable="hiding_in_china").values
    # the pipeline draws extra crossers rather than those who would hide: the hidden stock moves only by the
    # news that more arrivals send home (M8), a second-order feedback
    assert np.allclose(hiding[0, :2], hiding[1, :2]) and np.allclose(hiding[0], hiding[1], rtol=0.02)
    with pytest.raises(refuge.errors.RunError, match="allowed: \\(members, years\\)"):
        refuge.run("baseline", paths={ROUTE_PERMEABILITY: np.ones((2, 3))}, **common)


def two_walk_observations(female, male, sd):
    """Women and men all by the pipeline at scale one: their logs observe ``u + v/2`` and ``u - v/2``."""
    return [obs for t in range(len(female)) for obs in (
        Observation(t, female[t], sd, a=np.zeros(1), b=ONE, loading=LOADINGS["female"][None]),
        Observation(t, male[t], sd, a=np.zeros(1), b=ONE, loading=LOADINGS["male"][None]))]


def test_with_two_walks_the_filter_is_exact_and_the_tilt_is_read_from_the_sex_split():
    steps, sd = np.array([0.3, 0.2]), 0.1
    female, male = np.array([0.2, 0.6, 1.0]), np.array([0.0, -0.1, -0.6])
    years = np.arange(3)
    # x = (u, v) stacked by year; y stacks (u + v/2, u - v/2) by year: all jointly normal
    cov_x = np.kron(INITIAL_SD**2 + np.minimum.outer(years, years), np.eye(2))
    cov_x = np.kron(np.ones((3, 3)), INITIAL_SD**2 * np.eye(2)) + np.kron(np.minimum.outer(years, years),
                                                                          np.diag(steps**2))
    loads = np.kron(np.eye(3), np.stack([LOADINGS["female"], LOADINGS["male"]]))
    y = np.ravel(np.column_stack([female, male]))
    cov_y = loads @ cov_x @ loads.T + sd**2 * np.eye(6)
    filtered = filter_paths(two_walk_observations(female, male, sd), members=1, years=3, step=steps)
    assert filtered.log_likelihood[0] == pytest.approx(multivariate_normal(np.zeros(6), cov_y).logpdf(y), rel=1e-10)
    gain = cov_x @ loads.T @ np.linalg.inv(cov_y)
    mean, cov = gain @ y, cov_x - gain @ loads @ cov_x
    assert np.allclose(filtered.mean[0, -1], mean[-2:], rtol=1e-10)
    # women rising against men (their log difference 0.2, 0.7, 1.6): the tilt, the log ratio, rises with it
    assert np.all(np.diff(filtered.mean[0, :, 1]) > 0.2)
    draws = 40_000
    many = Filtered(np.repeat(filtered.mean, draws, 0), np.repeat(filtered.var, draws, 0), filtered.log_likelihood)
    x = sample_paths(many, steps, np.random.default_rng(3).standard_normal((draws, 3, 2))).reshape(draws, 6)
    assert np.allclose(x.mean(axis=0), mean, atol=4 * np.sqrt(np.diag(cov) / draws))
    assert np.allclose(np.cov(x, rowvar=False), cov, atol=0.003)


def test_the_tilt_moves_women_against_men_in_the_pipeline_and_nothing_else():
    timeline = Timeline(2005, 2007)
    common = dict(members=1, seed=0, backend="mean", timeline=timeline, calibrated=False)
    plain = refuge.run("baseline", **common).data
    tilted = refuge.run("baseline", paths={ROUTE_FEMALE_TILT: np.full((1, 3), 4.0)}, **common).data
    ratio = (tilted.flows / plain.flows).sel(flow="brokered_crossing").values[0]  # (year, sex)
    assert np.allclose(ratio, [2.0, 0.5], rtol=0.01)  # women x sqrt(4), men / sqrt(4)
    # hiding in China moves only by the news arrivals send home (second order)
    assert np.allclose(tilted.stocks.sel(stock="china_hiding"), plain.stocks.sel(stock="china_hiding"), rtol=0.02)


def test_the_split_reads_the_slow_route_and_the_pipelines_slope_where_it_linearises():
    """Arrivals ``a + b p`` in the route's permeability ``p``: the runs at 1 and at PROBE give ``a`` and ``b``
    for each sex, whatever PROBE is, and the pipeline's person-years abroad likewise."""
    from refuge.systems.korea.calibration.likelihood import COLUMNS, PROBE, split_routes

    slow, pipeline = {"female": 10.0, "male": 20.0}, {"female": 5.0, "male": 8.0}
    sims = np.zeros((1, 3, len(COLUMNS), 2))
    for k, p in enumerate((1.0, PROBE)):
        women, men = slow["female"] + pipeline["female"] * p, slow["male"] + pipeline["male"] * p
        sims[0, :, COLUMNS.index("arrivals"), k] = women + men
        sims[0, :, COLUMNS.index("arrivals_female"), k] = women
        years = 3.0 * (slow["female"] + slow["male"]) + 0.2 * p * (pipeline["female"] + pipeline["male"])
        sims[0, :, COLUMNS.index("time_abroad"), k] = years / (women + men)  # the mean of the year's arrivals
    routes = split_routes(sims)
    for sex in ("female", "male"):
        a, b = routes[sex]
        np.testing.assert_allclose(a, slow[sex], rtol=1e-9)
        np.testing.assert_allclose(b, pipeline[sex], rtol=1e-9)
    spent_slow, spent_pipeline = routes["time"]
    np.testing.assert_allclose(spent_slow, 3.0 * 30.0, rtol=1e-9)
    np.testing.assert_allclose(spent_pipeline.sum(axis=-1), 0.2 * 13.0, rtol=1e-9)
