"""The broker route's openness, and whom it carries, as latent walks filtered out of the record.

No source measures how open the broker route from the North is from year to
year, nor how its traffic splits between women and men, and hand-shaped knots
for either would smuggle hindsight into forecasts. So the state ``x`` holds
their logarithms, each a walk,

    x[1990] ~ N(0, INITIAL_SD^2 I),    x[t] = level + persistence * (x[t-1] - level) + step * e[t],
    e[t] ~ N(0, I),

with one calibrated step per walk: the route's permeability is drawn back
towards a level calibrated with it (a departure in one year, a crackdown or a
brokers' boom, fades by the calibrated persistence a year), the tilt is a
random walk (persistence 1, level 0). The walks scale only the fast pipeline
(brokered crossings and kin-funded escapes), which draws on the millions at
risk: the hidden population, and so the other arrivals, do not depend on them.
A year's arrivals are therefore ``a + sum_j b_j exp(c_j . x)``: ``a`` comes the
slow way (through hiding in China, or straight across the DMZ), ``b_j`` is the
pipeline's part ``j`` (women, men) at ``x = 0`` and ``c_j`` how the walks scale
it (:data:`LOADINGS`): two runs of the model give ``a`` and ``b``. The mean
time abroad of the year's arrivals is the same mix of the routes' times.

Given the model's parameters, the record is then a state-space model in ``x``
with log-normal observations: an extended Kalman filter (linearised at each
prediction) gives the likelihood with ``x`` integrated out, so the sampler
explores the parameters only, and backward sampling draws each posterior
sample's paths. Feedbacks the split leaves out (kin-funded escapes grow with
the settled population, which grows with arrivals) are second order; the
full model is run on the sampled paths for every figure reported.

>>> seen = Observation(1, np.log(2.0), 0.1, a=np.zeros(1), b=np.ones((1, 1)), loading=np.ones((1, 1)))
>>> round(float(filter_paths([seen], members=1, years=3, step=0.5).mean[0, 1, 0]), 2)
0.69
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Prior spread of each walk's first value (log): the structure sets the level within a factor of ~e.
INITIAL_SD = 1.0
#: How the walks (route permeability, female tilt) scale the pipeline's women and men: the permeability
#: scales both; the tilt, the ratio of women to men, raises one by its square root and lowers the other.
LOADINGS = {"female": np.array([1.0, 0.5]), "male": np.array([1.0, -0.5])}
_LOG_2PI = np.log(2 * np.pi)


@dataclass(frozen=True)
class Observation:
    """One record of one year: ``log(value)`` observed with spread ``sd`` around ``a + sum_j b_j exp(c_j . x)``.

    ``a``: the slow route's arrivals, ``(members,)``; ``b``: the pipeline's
    parts at ``x = 0``, ``(members, parts)``; ``loading``: ``c``, ``(parts,
    dims)``. With ``times`` (the same routes' person-years abroad) it observes
    the mean time abroad ``(aT + sum bT_j exp(c_j . x)) / (a + sum b_j exp(c_j . x))`` instead.
    """

    year: int  # index from the first year
    value: float  # log
    sd: float | np.ndarray
    a: np.ndarray
    b: np.ndarray
    loading: np.ndarray
    times: tuple[np.ndarray, np.ndarray] | None = None

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The observation function at ``x`` ``(members, dims)`` and its gradient ``(members, dims)``."""
        scale = np.exp(x @ self.loading.T)
        parts = self.b * scale
        arrivals = np.maximum(self.a + parts.sum(axis=1), 1e-9)
        slope = parts @ self.loading / arrivals[:, None]
        if self.times is None:
            return np.log(arrivals), slope
        a_time, b_time = self.times
        spent_parts = b_time * scale
        spent = np.maximum(a_time + spent_parts.sum(axis=1), 1e-9)
        return np.log(spent) - np.log(arrivals), spent_parts @ self.loading / spent[:, None] - slope


@dataclass(frozen=True)
class Filtered:
    """The filter's output per member and year: mean ``(members, years, dims)`` and covariance of ``x``, and the
    log-likelihood ``(members,)``."""

    mean: np.ndarray
    var: np.ndarray  # (members, years, dims, dims)
    log_likelihood: np.ndarray


def filter_paths(observations: Sequence[Observation], members: int, years: int,
                 step: np.ndarray | float, persistence: np.ndarray | float = 1.0,
                 level: np.ndarray | float = 0.0) -> Filtered:
    """Extended Kalman filter of ``x`` over ``years``, each observation linearised at the prediction.

    ``step``, ``persistence``, ``level``: each walk's yearly step, persistence and level, broadcast to
    ``(members, dims)``.
    """
    dims = observations[0].loading.shape[1] if observations else (np.shape(step)[-1] if np.ndim(step) == 2 else 1)
    noise = np.broadcast_to(np.asarray(step, dtype=float) ** 2, (members, dims))
    kept = np.broadcast_to(np.asarray(persistence, dtype=float), (members, dims))
    mu = np.broadcast_to(np.asarray(level, dtype=float), (members, dims))
    by_year: dict[int, list[Observation]] = {}
    for obs in observations:
        by_year.setdefault(obs.year, []).append(obs)
    m = np.zeros((members, dims))
    p = np.broadcast_to(INITIAL_SD**2 * np.eye(dims), (members, dims, dims)).copy()
    means, variances = np.empty((members, years, dims)), np.empty((members, years, dims, dims))
    loglik = np.zeros(members)
    diagonal = np.arange(dims)
    with np.errstate(over="ignore", invalid="ignore"):  # a walk run far off overflows: that member scores -inf
        for t in range(years):
            if t:
                m = mu + kept * (m - mu)
                p = kept[:, :, None] * p * kept[:, None, :]
                p[:, diagonal, diagonal] += noise
            for obs in by_year.get(t, ()):
                h, slope = obs.predict(m)
                ph = np.einsum("mij,mj->mi", p, slope)
                s = np.einsum("mi,mi->m", slope, ph) + np.asarray(obs.sd, dtype=float) ** 2
                v = obs.value - h
                loglik += -0.5 * (_LOG_2PI + np.log(s) + v**2 / s)
                gain = ph / s[:, None]
                m = m + gain * v[:, None]
                p = p - gain[:, :, None] * ph[:, None, :]
            means[:, t], variances[:, t] = m, p
    return Filtered(means, variances, np.where(np.isfinite(loglik), loglik, -np.inf))


def sample_paths(filtered: Filtered, step: np.ndarray | float, normals: np.ndarray,
                 persistence: np.ndarray | float = 1.0, level: np.ndarray | float = 0.0) -> np.ndarray:
    """Draw each member's paths ``(members, years, dims)`` given the record (backward sampling).

    ``normals`` ``(members, years, dims)``; zeros give the smoothed mean.
    """
    members, years, dims = filtered.mean.shape
    noise = np.broadcast_to(np.asarray(step, dtype=float) ** 2, (members, dims))
    kept = np.broadcast_to(np.asarray(persistence, dtype=float), (members, dims))
    mu = np.broadcast_to(np.asarray(level, dtype=float), (members, dims))
    x = np.empty((members, years, dims))
    x[:, -1] = filtered.mean[:, -1] + _correlate(filtered.var[:, -1], normals[:, -1])
    for t in range(years - 2, -1, -1):
        m, p = filtered.mean[:, t], filtered.var[:, t]
        carried = p * kept[:, None, :]  # cov(x[t], x[t+1]) before its noise: p F'
        ahead = kept[:, :, None] * carried + noise[:, :, None] * np.eye(dims)
        gain = np.linalg.solve(ahead, carried.transpose(0, 2, 1)).transpose(0, 2, 1)  # p F' ahead^-1
        mean = m + np.einsum("mij,mj->mi", gain, x[:, t + 1] - mu - kept * (m - mu))
        x[:, t] = mean + _correlate(p - gain @ carried.transpose(0, 2, 1), normals[:, t])
    return x


def _correlate(cov: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """``normals`` ``(members, dims)`` given covariances ``cov`` ``(members, dims, dims)``."""
    values, vectors = np.linalg.eigh(0.5 * (cov + cov.transpose(0, 2, 1)))
    root = vectors * np.sqrt(np.maximum(values, 0.0))[:, None, :]
    return np.einsum("mij,mj->mi", root, normals)


def continue_paths(x: np.ndarray, step: np.ndarray | float, normals: np.ndarray,
                   persistence: np.ndarray | float = 1.0, level: np.ndarray | float = 0.0) -> np.ndarray:
    """Extend paths ``(members, years, dims)`` by ``normals.shape[1]`` more years of the walks."""
    shape = (x.shape[0], x.shape[2])
    steps = np.broadcast_to(np.asarray(step, dtype=float), shape)[:, None, :] * normals
    kept = np.broadcast_to(np.asarray(persistence, dtype=float), shape)
    mu = np.broadcast_to(np.asarray(level, dtype=float), shape)
    ahead = np.empty_like(steps)
    last = x[:, -1]
    for h in range(steps.shape[1]):
        last = ahead[:, h] = mu + kept * (last - mu) + steps[:, h]
    return np.concatenate([x, ahead], axis=1)
