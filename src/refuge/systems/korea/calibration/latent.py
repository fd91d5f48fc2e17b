"""The route's permeability as a latent log random walk, filtered out of the record.

No source measures how open the broker route from the North is from year to
year, and hand-shaped knots for it would smuggle hindsight into forecasts. So
its logarithm ``u`` is a random walk,

    u[1990] ~ N(0, INITIAL_SD^2),    u[t] = u[t-1] + step * e[t],    e[t] ~ N(0, 1),

whose step is calibrated with the other parameters. The permeability scales
only the fast pipeline (brokered crossings and kin-funded escapes), which draws
on the millions at risk: the hidden population, and so the other arrivals, do
not depend on it. A year's arrivals are therefore ``a + b exp(u)``, where ``a``
comes the slow way (through hiding in China, or straight across the DMZ) and
``b`` is the pipeline at ``u = 0``; two runs of the model (``u = 0`` and
``u = log 2``) give both. The mean time abroad of the year's arrivals is the
same mix of the two routes' times.

Given the model's parameters, the record is then a state-space model in ``u``
with log-normal observations: an extended Kalman filter (linearised at each
prediction) gives the likelihood with ``u`` integrated out, so the sampler
explores the parameters only, and backward sampling draws each posterior
sample's path. Feedbacks the split leaves out (kin-funded escapes grow with
the settled population, which grows with arrivals) are second order; the
full model is run on the sampled paths for every figure reported.

>>> seen = Observation(1, np.log(2.0), 0.1, a=np.zeros(1), b=np.ones(1))  # all by the pipeline: u = log 2
>>> round(float(filter_paths([seen], members=1, years=3, step=0.5).mean[0, 1]), 2)
0.69
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Prior spread of the walk's first value (log): the structure sets the level within a factor of ~e.
INITIAL_SD = 1.0
_LOG_2PI = np.log(2 * np.pi)

@dataclass(frozen=True)
class Observation:
    """One record of one year: ``log(value)`` observed with spread ``sd`` around ``a + b exp(u)``.

    ``a``, ``b``: the slow and fast routes' arrivals, ``(members,)``. With
    ``times`` (their person-years abroad) it observes the mean time abroad
    ``(aT + bT exp(u)) / (a + b exp(u))`` instead.
    """

    year: int  # index from the first year
    value: float  # log
    sd: float | np.ndarray
    a: np.ndarray
    b: np.ndarray
    times: tuple[np.ndarray, np.ndarray] | None = None

    def predict(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The observation function at ``u`` and its slope."""
        e = np.exp(u)
        arrivals = np.maximum(self.a + self.b * e, 1e-9)
        slope = self.b * e / arrivals
        if self.times is None:
            return np.log(arrivals), slope
        a_time, b_time = self.times
        spent = np.maximum(a_time + b_time * e, 1e-9)
        return np.log(spent) - np.log(arrivals), b_time * e / spent - slope


@dataclass(frozen=True)
class Filtered:
    """The filter's output per member and year: mean and variance of ``u``, and the log-likelihood."""

    mean: np.ndarray  # (members, years)
    var: np.ndarray
    log_likelihood: np.ndarray  # (members,)


def filter_paths(observations: Sequence[Observation], members: int, years: int,
                 step: np.ndarray | float) -> Filtered:
    """Extended Kalman filter of ``u`` over ``years``, each observation linearised at the prediction."""
    step2 = np.broadcast_to(np.asarray(step, dtype=float) ** 2, (members,))
    by_year: dict[int, list[Observation]] = {}
    for obs in observations:
        by_year.setdefault(obs.year, []).append(obs)
    m = np.zeros(members)
    p = np.full(members, INITIAL_SD**2)
    means, variances = np.empty((members, years)), np.empty((members, years))
    loglik = np.zeros(members)
    for t in range(years):
        if t:
            p = p + step2
        for obs in by_year.get(t, ()):
            h, slope = obs.predict(m)
            s = slope**2 * p + np.asarray(obs.sd, dtype=float) ** 2
            v = obs.value - h
            loglik += -0.5 * (_LOG_2PI + np.log(s) + v**2 / s)
            gain = p * slope / s
            m = m + gain * v
            p = p * (1.0 - gain * slope)
        means[:, t], variances[:, t] = m, p
    return Filtered(means, variances, np.where(np.isfinite(loglik), loglik, -np.inf))


def sample_paths(filtered: Filtered, step: np.ndarray | float, normals: np.ndarray) -> np.ndarray:
    """Draw each member's path of ``u`` given the record (backward sampling), ``normals`` ``(members, years)``."""
    members, years = filtered.mean.shape
    step2 = np.broadcast_to(np.asarray(step, dtype=float) ** 2, (members,))
    u = np.empty((members, years))
    u[:, -1] = filtered.mean[:, -1] + np.sqrt(filtered.var[:, -1]) * normals[:, -1]
    for t in range(years - 2, -1, -1):
        m, p = filtered.mean[:, t], filtered.var[:, t]
        gain = p / (p + step2)
        u[:, t] = m + gain * (u[:, t + 1] - m) + np.sqrt(np.maximum(p * (1.0 - gain), 0.0)) * normals[:, t]
    return u


def continue_paths(u: np.ndarray, step: np.ndarray | float, normals: np.ndarray) -> np.ndarray:
    """Extend paths ``(members, years)`` by ``normals.shape[1]`` more years of the walk."""
    steps = np.asarray(step, dtype=float).reshape(-1, 1) * normals
    return np.concatenate([u, u[:, -1:] + np.cumsum(steps, axis=1)], axis=1)
