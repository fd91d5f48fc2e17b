"""The latent route permeability: the filter against exact Gaussian algebra, path draws, runs on member paths."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

import refuge
from refuge.backends.random import member_keys
from refuge.model.timeline import Timeline
from refuge.systems.korea.calibration import shipped_posterior
from refuge.systems.korea.calibration.latent import INITIAL_SD, Observation, continue_paths, filter_paths, sample_paths
from refuge.systems.korea.drivers import ROUTE_PERMEABILITY


def linear_observations(values, sd):
    """Arrivals all by the pipeline at scale one: log arrivals observe ``u`` itself, so the filter is exact."""
    return [Observation(t, v, sd, a=np.zeros(1), b=np.ones(1)) for t, v in enumerate(values)]


def test_the_filter_likelihood_is_the_exact_gaussian_marginal_in_the_linear_case():
    step, sd = 0.3, 0.2
    y = np.array([0.1, -0.2, 0.4, 0.9])
    years = np.arange(len(y))
    # u is a random walk from N(0, INITIAL_SD^2); y = u + noise: y is jointly normal with this covariance
    cov_u = INITIAL_SD**2 + step**2 * np.minimum.outer(years, years)
    exact = multivariate_normal(np.zeros(len(y)), cov_u + sd**2 * np.eye(len(y))).logpdf(y)
    filtered = filter_paths(linear_observations(y, sd), members=1, years=len(y), step=step)
    assert filtered.log_likelihood[0] == pytest.approx(exact, rel=1e-10)
    # the last filtered mean is the exact conditional mean of u[-1] given all of y
    gain = cov_u[-1] @ np.linalg.inv(cov_u + sd**2 * np.eye(len(y)))
    assert filtered.mean[0, -1] == pytest.approx(gain @ y, rel=1e-10)


def test_backward_draws_have_the_exact_smoothed_mean_and_spread():
    step, sd = 0.4, 0.1
    y = np.array([0.0, 0.5, -0.3])
    years = np.arange(3)
    cov_u = INITIAL_SD**2 + step**2 * np.minimum.outer(years, years)
    gain = cov_u @ np.linalg.inv(cov_u + sd**2 * np.eye(3))
    mean, cov = gain @ y, cov_u - gain @ cov_u
    draws = 40_000
    filtered = filter_paths(linear_observations(y, sd), members=1, years=3, step=step)
    many = type(filtered)(np.repeat(filtered.mean, draws, 0), np.repeat(filtered.var, draws, 0),
                          filtered.log_likelihood)
    u = sample_paths(many, step, np.random.default_rng(1).standard_normal((draws, 3)))
    assert np.allclose(u.mean(axis=0), mean, atol=4 * np.sqrt(np.diag(cov) / draws))
    assert np.allclose(np.cov(u, rowvar=False), cov, atol=0.003)


def test_an_observation_of_the_slow_route_alone_says_nothing_of_the_walk():
    seen = Observation(0, np.log(50.0), 0.1, a=np.array([50.0]), b=np.zeros(1))
    filtered = filter_paths([seen], members=1, years=2, step=0.5)
    assert filtered.mean[0, 0] == 0.0 and filtered.var[0, 0] == INITIAL_SD**2


def test_time_abroad_mixes_the_two_routes_by_their_arrivals():
    a, b, a_years, b_years = np.array([100.0]), np.array([100.0]), np.array([400.0]), np.array([20.0])
    survey = Observation(0, 0.0, 0.2, a, b, (a_years, b_years))
    h, _ = survey.predict(np.log(np.array([3.0])))  # three times the pipeline: (400 + 60) / (100 + 300) years
    assert np.exp(h[0]) == pytest.approx(460 / 400)


def test_paths_continue_by_the_walk_with_the_given_step():
    u = np.zeros((20_000, 2))
    out = continue_paths(u, np.full(20_000, 0.5), np.random.default_rng(0).standard_normal((20_000, 3)))
    assert out.shape == (20_000, 5)
    assert np.allclose(out[:, 2:].std(axis=0), 0.5 * np.sqrt([1, 2, 3]), rtol=0.03)


def test_member_paths_of_the_shipped_posterior_do_not_depend_on_how_the_ensemble_is_split():
    posterior = shipped_posterior()
    rows = posterior.rows(6, seed=4)
    timeline = Timeline(1990, 2040)
    whole = posterior.paths(rows, member_keys(4, 6), timeline)[ROUTE_PERMEABILITY]
    parts = [posterior.paths(rows[i : i + 2], member_keys(4, 2, i), timeline)[ROUTE_PERMEABILITY] for i in (0, 2, 4)]
    assert np.array_equal(whole, np.concatenate(parts))
    seen = int(posterior.latent.columns[-1]) - 1990
    assert np.allclose(np.log(whole[:, : seen + 1]), posterior.latent.to_numpy()[rows])
    assert not np.allclose(whole[:, -1], whole[:, seen])  # the future is drawn, not held


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
