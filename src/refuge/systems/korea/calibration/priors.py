"""The parameter space calibration explores: which parameters, their priors and why.

Each calibrated model parameter keeps the :class:`~refuge.model.definition.Prior`
written next to its evidence in ``korea/parameters.py``; the sampler works in
internal coordinates (the logarithm for log-uniform priors), where every prior
is uniform on a box.

Parameters with a prior that the targets cannot inform stay at their
defaults (``FIXED``, each with its reason), so the sampler does not spend its
budget wandering over their priors.

Five parameters are not the model's: ``sigma_arrivals``, the log-scale spread
of the record around the model's annual arrivals (model discrepancy plus record
revisions); ``permeability_step`` and ``tilt_step``, the yearly steps of the
log walks that the route's permeability and the ratio of women to men it
carries follow; ``permeability_persistence``, how much of the permeability's
departure from its level is left a year later; and ``permeability_level``, that
level (see :mod:`refuge.systems.korea.calibration.latent`). All are calibrated with the
rest, so predictive bands are as wide as the misfit and the year-to-year
surprises the record shows.

>>> space = parameter_space()
>>> space.names[0], space.ndim > 10
('attempt_base', True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ....errors import RunError
from ....model.definition import Model, Prior
from .. import north_korea

#: Model parameters the calibration fits, in sampler order.
CALIBRATED = (
    "attempt_base",
    "push_floor",
    "security_deterrence",
    "female_attempt_ratio",
    "direct_defection",
    "arrest_in_china",
    "male_arrest_ratio",
    "hiding_capacity",
    "return_home",
    "onward_escape",
    "female_onward_ratio",
    "cost_elasticity",
    "kin_rescue",
)

#: Parameters with a prior that calibration holds at their defaults, and why. The targets do not inform
#: the first four; the fit to 2019 left the others with 88% or more of their prior spread (the record cannot
#: separate them from ``security_deterrence`` and ``attempt_base``, which move the same crossings at the
#: same dates).
FIXED = {
    "shot_at_border": "no target counts deaths at the border",
    "detention_mortality": "no target counts deaths in detention",
    "arrest_in_transit": "the deportations counted mix arrests on the road with arrests in hiding, which "
    "arrest_in_china (calibrated) carries: the record cannot tell them apart",
    "resettle_abroad": "resettlement abroad is in the evidence as context (the US's totals), not a target",
    "punishment_deterrence": "moves attempts with the same dates as security_deterrence (2008, 2012)",
    "propaganda_deterrence": "one step in 2012, the same year as border security's build-up",
    "catch_at_border": "acts through border security as security_deterrence does",
    "news_effect": "grows with the settled stock, as kin_rescue does",
    "pipeline_share": "scales the fast pipeline as the latent route permeability does: only their product is "
    "identified, and the walk's level carries it",
}

#: Calibrated parameters that are not the model's: the observation model and the latent walks' steps.
SIGMA_ARRIVALS = "sigma_arrivals"
PERMEABILITY_STEP = "permeability_step"
TILT_STEP = "tilt_step"
PERMEABILITY_PERSISTENCE = "permeability_persistence"
PERMEABILITY_LEVEL = "permeability_level"
#: Each latent driver's step, in the order of ``drivers.LATENT``.
LATENT_STEPS = (PERMEABILITY_STEP, TILT_STEP)
OBSERVATION = {
    SIGMA_ARRIVALS: Prior(
        0.03, 1.0, log=True,
        reason="log-scale spread of the annual record around the model: from 3% (record revisions alone) "
        "to a factor of e (a model that only gets the order of magnitude)",
    ),
    PERMEABILITY_STEP: Prior(
        0.02, 1.5, log=True,
        reason="yearly log step of the route's permeability: from a steady route (2% a year) to one that can "
        "open or shut by a factor of four in a year (the 2012 break halved arrivals)",
    ),
    PERMEABILITY_PERSISTENCE: Prior(
        0.3, 1.0,
        reason="share of a year's departure of the route's permeability from its level that is "
        "still there a year later: from a route that returns to it within two years (0.3) to a random walk (1); "
        "brokers rebuild a network after a crackdown, and a crackdown eases, but no source says how fast",
    ),
    PERMEABILITY_LEVEL: Prior(
        -3.0, 3.0,
        reason="log of the permeability the route is drawn back to, against the structure's 1: within a factor "
        "of e^3 either way",
    ),
    TILT_STEP: Prior(
        0.02, 1.5, log=True,
        reason="yearly log step of the ratio of women to men the route carries: from steady to a factor of four "
        "in a year (women were 69% of 2020's arrivals and 37% of 2021's)",
    ),
}


@dataclass(frozen=True)
class Space:
    """A box in internal coordinates: ``theta[i]`` is ``log(value)`` where ``logs[i]``, else the value."""

    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    logs: np.ndarray
    priors: tuple[Prior, ...]

    @property
    def ndim(self) -> int:
        return len(self.names)

    @property
    def model_names(self) -> tuple[str, ...]:
        return tuple(n for n in self.names if n not in OBSERVATION)

    def values(self, theta: np.ndarray) -> np.ndarray:
        """Internal coordinates ``(n, ndim)`` to parameter values."""
        theta = np.atleast_2d(theta)
        return np.where(self.logs, np.exp(theta), theta)

    def internal(self, values: np.ndarray) -> np.ndarray:
        values = np.atleast_2d(np.asarray(values, dtype=float))
        with np.errstate(divide="ignore"):
            return np.where(self.logs, np.log(values), values)

    def log_prior(self, theta: np.ndarray) -> np.ndarray:
        """0 inside the box, ``-inf`` outside (uniform in internal coordinates)."""
        theta = np.atleast_2d(theta)
        inside = np.all((theta >= self.low) & (theta <= self.high), axis=1)
        return np.where(inside, 0.0, -np.inf)

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=(n, self.ndim))


def parameter_space(names: tuple[str, ...] = CALIBRATED, model: Model | None = None,
                    steady: tuple[str, ...] = ()) -> Space:  # fmt: skip
    """The calibration's space: the named model parameters (each must have a prior) plus the observation spread.

    ``steady`` names latent steps held at their prior's lowest value (a route
    that barely moves, 2% a year): the structure without that walk, whose
    evidence can be set against the full one's.
    """
    model = model or north_korea()
    priors = []
    for name in names:
        prior = model.parameter(name).prior
        if prior is None:
            raise RunError(f"parameter {name!r} has no prior, so it cannot be calibrated")
        priors.append(prior)
    all_names = (*names, *OBSERVATION)
    for name, prior in OBSERVATION.items():
        if name in steady:
            prior = Prior(prior.low, prior.low, log=prior.log, reason=f"held steady at {prior.low} (no walk)")
        priors.append(prior)
    if any(p.log and p.low <= 0 for p in priors):
        raise RunError("a log-uniform prior needs a low bound above 0")
    logs = np.array([p.log for p in priors])
    low = np.array([np.log(p.low) if p.log else p.low for p in priors])
    high = np.array([np.log(p.high) if p.log else p.high for p in priors])
    return Space(all_names, low, high, logs, tuple(priors))


def persistence(column: np.ndarray | None, members: int) -> np.ndarray:
    """The walks' persistence ``(members, dims)`` from the samples' ``permeability_persistence`` (``None``: a
    calibration without it, whose walks are random walks); the tilt is a random walk."""
    return _permeability_only(column, members, 1.0)


def level(column: np.ndarray | None, members: int) -> np.ndarray:
    """The level ``(members, dims)`` each walk is drawn back to (the permeability's ``permeability_level``; 0
    without it); the tilt's is 0, where its persistence of 1 makes it a random walk."""
    return _permeability_only(column, members, 0.0)


def _permeability_only(column: np.ndarray | None, members: int, otherwise: float) -> np.ndarray:
    """``(members, dims)``: the permeability's walk takes ``column``, the tilt's (and the permeability's
    without one) ``otherwise``."""
    permeability = np.full(members, otherwise) if column is None else np.asarray(column, dtype=float)
    return np.stack([permeability, np.full(members, otherwise)], axis=-1)
