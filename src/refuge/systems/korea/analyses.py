"""What the analysis verbs ask of the North Korean system: its calibration, record, evidence and route map.

``refuge calibrate``, ``sensitivity``, ``report``, ``serve`` (and the Korean verbs ``evidence``,
``backtest``, ``estimate``) take their system's analyses from :meth:`Korea.analyses`, this module,
so they name no system themselves; a system without analyses cannot be calibrated.
"""

from .calibration import CALIBRATED, Posterior, Settings, calibrate, shipped_posterior
from .calibration.backtest import Budget, backtest
from .calibration.report import hiding_estimate, plot_hiding, predictive, published_hiding_claims, write_report
from .evidence import QUANTITIES, evidence_table, load_evidence, record_end
from .evidence import arrivals as record
from .routes import route_map

__all__ = [
    "CALIBRATED", "QUANTITIES", "Budget", "Posterior", "Settings", "backtest", "calibrate", "evidence_table",
    "hiding_estimate", "load_evidence", "plot_hiding", "predictive", "published_hiding_claims", "record",
    "record_end", "route_map", "shipped_posterior", "write_report",
]  # fmt: skip
