"""Plots of a run: arrivals against the record, and the main stocks over time."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from .evidence import arrivals as recorded_arrivals
from .evidence import record_end
from .results import Results

_STOCKS = (
    ("hiding_in_china", "hiding in China"),
    ("in_transit", "in transit"),
    ("south_korea_reception", "in reception in the South"),
    ("south_korea_settled", "settled in the South"),
)


def _bands(ax, table, color, label, kind="ensemble band"):
    years = table.index
    ax.fill_between(years, table.q05, table.q95, color=color, alpha=0.18, lw=0, label=f"{label}, 90% {kind}")
    ax.fill_between(years, table.q25, table.q75, color=color, alpha=0.35, lw=0, label=f"{label}, 50% {kind}")
    ax.plot(years, table.q50, color=color, lw=1.8, label=f"{label}, median")


def mark_record_end(ax, label: bool = True) -> None:
    """A dashed line where the historical record ends (after its last year's point): projections lie to its right."""
    last = record_end()
    ax.axvline(last + 0.5, color="dimgrey", ls="--", lw=1, label=f"record ends ({last})" if label else None)
    ax.annotate(f"record ends {last}", (last + 0.5, 1.0), xycoords=("data", "axes fraction"), xytext=(-3, -12),
                textcoords="offset points", fontsize=7, color="dimgrey", ha="right")


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
        _bands(ax, results.quantiles(variable, predictive=interval), "tab:blue", "model", kind)
        known = history[column].dropna()
        ax.plot(known.index, known.to_numpy(dtype=float), "o", color="black", ms=4, label="record (MOU)")
        mark_record_end(ax)
        ax.set_title(f"Arrivals in South Korea per year: {title}")
        ax.set_xlabel("year")
        ax.set_ylabel("people")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(f"scenario {results.data.attrs.get('scenario', '')}, {results.members} members", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def stocks(results: Results, path: Path) -> Path:
    """People in the main stocks at each year's end, with ensemble bands."""
    fig, axes = plt.subplots(2, 2, figsize=(12, 7), sharex=True)
    for ax, (variable, title) in zip(axes.flat, _STOCKS, strict=True):
        _bands(ax, results.quantiles(variable), "tab:purple", "model")
        mark_record_end(ax)
        ax.set_title(title)
        ax.set_ylabel("people at year end")
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("year")
    axes.flat[0].legend(fontsize=8, loc="upper right")
    fig.suptitle(f"scenario {results.data.attrs.get('scenario', '')}, {results.members} members", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def scenarios(results: dict[str, Results], path: Path, start: int) -> Path:
    """Arrivals in the South under each scenario (median and 50% band), from a few years before ``start``."""
    fig, ax = plt.subplots(figsize=(10, 5))
    colors = plt.get_cmap("tab10")
    for i, (name, res) in enumerate(results.items()):
        table = res.quantiles("arrivals_south_korea").loc[start - 5 :]
        ax.fill_between(table.index, table.q25, table.q75, color=colors(i), alpha=0.25, lw=0)
        ax.plot(table.index, table.q50, color=colors(i), lw=1.8, label=name)
    ax.axvline(start, color="grey", ls=":", lw=1)
    mark_record_end(ax)
    ax.set_yscale("symlog", linthresh=100)
    ax.set_title("Arrivals in South Korea per year by scenario (median, 50% band)")
    ax.set_xlabel("year")
    ax.set_ylabel("people")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
