"""What the analysis verbs ask of the North Korean system: its calibration, record, evidence and route map.

``refuge calibrate``, ``evidence``, ``backtest``, ``estimate``, ``sensitivity``, ``report`` and ``serve`` take
their system's analyses from :meth:`Korea.analyses`, this module (its files, origins and estimates too), so they
name no system themselves; a system without analyses cannot be calibrated.
"""

from .calibration import CALIBRATED, Posterior, Settings, calibrate, shipped_posterior
from .calibration.backtest import ORIGINS, Budget, backtest
from .calibration.report import hiding_estimate, plot_hiding, predictive, published_hiding_claims, write_report
from .evidence import QUANTITIES, evidence_table, load_evidence, record_end
from .evidence import arrivals as record
from .routes import route_map

#: what ``refuge calibrate`` writes, in the order it names them
CALIBRATION_FILES = ("posterior.csv", "posterior.json", "latent.csv", "predictive.png", "fit.csv", "fit_summary.json",
                     "parameters.csv", "parameters.png", "hiding_in_china.csv", "hiding_in_china.png")

#: what ``refuge estimate`` estimates: name -> the title of its table
ESTIMATES = {"hiding-in-china": "North Koreans hiding in China at year end: posterior, beside published estimates"}


def estimate(quantity: str, posterior: Posterior, *, draws: int, seed: int):
    """The quantiles by year of ``quantity`` (one of :data:`ESTIMATES`) over ``draws`` runs of ``posterior``, and
    the published claims about it."""
    return hiding_estimate(predictive(posterior, draws=draws, seed=seed)), published_hiding_claims()


def plot_estimate(quantity: str, table, claims, path) -> None:
    """:func:`estimate`'s table beside the claims, into ``path``."""
    plot_hiding(table, claims, path)


__all__ = [
    "CALIBRATED", "CALIBRATION_FILES", "ESTIMATES", "ORIGINS", "QUANTITIES", "Budget", "Posterior", "Settings",
    "backtest", "calibrate", "estimate", "evidence_table", "load_evidence", "plot_estimate", "predictive", "record",
    "record_end", "route_map", "shipped_posterior", "write_report",
]  # fmt: skip
