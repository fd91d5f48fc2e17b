"""Calibration of the model to the historical record, validation, and estimates of hidden populations.

* :mod:`.priors`: which parameters are fitted and their priors;
* :mod:`.likelihood`: the targets from :mod:`refuge.systems.korea.evidence` and the likelihood;
* :mod:`.sampler`: the calibration: settings, the batched log-posterior, runs side by side;
* :mod:`.nested`: nested sampling runs with nautilus, their evidence and R-hat between them;
* :mod:`.ensemble`: emcee's ensembles, started by a batched search of the prior;
* :mod:`.posterior`: posterior samples with provenance; the shipped posterior;
* :mod:`.report`: posterior predictive, fit error, hold-out validation, hidden populations.
"""

from .posterior import Posterior, posterior_parameters, shipped_posterior
from .priors import CALIBRATED, parameter_space


def __getattr__(name: str):
    """The sampler on first use: a run reads the shipped posterior and needs neither a sampler nor the likelihood."""
    if name in ("Settings", "calibrate"):
        from . import sampler

        return getattr(sampler, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CALIBRATED", "Posterior", "Settings", "calibrate", "parameter_space", "posterior_parameters",
           "shipped_posterior"]
