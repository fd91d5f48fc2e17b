"""The Korean system's plots of a run: arrivals against the record, and the main stocks over time."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from ...plots import bands, mark_record_end
from ...results import Results
from .evidence import arrivals as recorded_arrivals
from .evidence import record_end

_STOCKS = (
    ("hiding_in_china", "hiding in China"),
    ("in_transit", "in transit"),
    ("south_korea_reception", "in reception in the South"),
    ("south_korea_settled", "settled in the South"),
)



def arrivals(results: Results, path: Path, *, predictive: bool = True) -> Path:
    """Arrivals in the South per year (all, and women) against the record.

    Bands are predictive intervals (the calibrated misfit included) when the
    members come from a posterior and ``predictive``; else the ensemble's spread,
    labelled so.
    """
    history = recorded_arrivals()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharex=True)
    for ax, (variable, column, title) in zip(
        axes,
        (("arrivals_south_korea", "total", "all arrivals"), ("arrivals_south_korea_female", "female", "women")),
        strict=True,
    ):
        interval = predictive and results.predictive(variable)
        kind = "predictive interval" if interval else "ensemble band (no misfit)"
        bands(ax, results.quantiles(variable, predictive=interval), "tab:blue", "model", kind)
        known = history[column].dropna()
        ax.plot(known.index, known.to_numpy(dtype=float), "o", color="black", ms=4, label="record (MOU)")
        mark_record_end(ax, record_end())
        ax.set_title(f"Arrivals in South Korea per year: {title}")
        ax.set_xlabel("year")
        ax.set_ylabel("people")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="center right")  # clear of the peak, the early years and the record-end label
    fig.suptitle(f"scenario {results.data.attrs.get('scenario', '')}, {results.members} members", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def stocks(results: Results, path: Path) -> Path:
    """People in the main stocks at each year's end, with ensemble bands."""
    fig, axes = plt.subplots(2, 2, figsize=(12, 7), sharex=True)
    for ax, (variable, title) in zip(axes.flat, _STOCKS, strict=True):
        bands(ax, results.quantiles(variable), "tab:purple", "model")
        mark_record_end(ax, record_end())
        ax.set_title(title)
        ax.set_ylabel("people at year end")
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("year")
    axes.flat[0].legend(fontsize=8, loc="center right")  # clear of the record-end label at the top
    fig.suptitle(f"scenario {results.data.attrs.get('scenario', '')}, {results.members} members", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
