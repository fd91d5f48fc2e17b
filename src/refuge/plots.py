"""Plots any system's runs share: bands over members, comparisons, sensitivity indices."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator


def bands(ax, table, color, label, kind="ensemble band"):
    years = table.index
    ax.fill_between(years, table.q05, table.q95, color=color, alpha=0.18, lw=0, label=f"{label}, 90% {kind}")
    ax.fill_between(years, table.q25, table.q75, color=color, alpha=0.35, lw=0, label=f"{label}, 50% {kind}")
    ax.plot(years, table.q50, color=color, lw=1.8, label=f"{label}, median")


def mark_record_end(ax, last: int | None, label: bool = True) -> None:
    """A dashed line where the historical record ends (after its last year's point): projections lie to its right."""
    if last is None:
        return
    ax.axvline(last + 0.5, color="dimgrey", ls="--", lw=1, label=f"record ends ({last})" if label else None)
    ax.annotate(f"record ends {last}", (last + 0.5, 1.0), xycoords=("data", "axes fraction"), xytext=(-3, -12),
                textcoords="offset points", fontsize=7, color="dimgrey", ha="right")


def label_lowest(axes, panels: int, label: str) -> None:
    """Name the shared x axis under the lowest of the first ``panels`` panels in each column of the grid ``axes``
    (panels after them are hidden, so the row above must show the ticks)."""
    columns = axes.shape[1]
    for column in range(min(columns, panels)):
        lowest = axes.flat[max(range(column, panels, columns))]
        lowest.set_xlabel(label)
        lowest.xaxis.set_tick_params(labelbottom=True)


def differences(table, path: Path, start: int, reference: str, system) -> Path:
    """Each measure's member-by-member difference from ``reference``, year by year, one panel a measure.

    ``table`` is :func:`refuge.compare.yearly_differences`: linear axes in people, median and 90% band;
    the measures are the ``system``'s.
    """
    from .compare import yearly_words

    measures = list(system.measures.items())
    rows = len(measures) // 2 + 1  # two panels a row, and one more for the legend
    fig, axes = plt.subplots(rows, 2, figsize=(12, 3.25 * rows), sharex=True, squeeze=False)
    colors = plt.get_cmap("tab10")
    names = list(dict.fromkeys(table.scenario))
    for ax, (measure, (how, words)) in zip(axes.flat, measures, strict=False):  # the panels after them: below
        for i, name in enumerate(names):
            part = table[(table.scenario == name) & (table.measure == measure)]
            ax.fill_between(part.year, part.q05, part.q95, color=colors(i), alpha=0.2, lw=0)
            ax.plot(part.year, part.q50, color=colors(i), lw=1.8, label=name)
        ax.axhline(0, color="black", lw=0.8)
        ax.axvline(start, color="grey", ls=":", lw=1)
        mark_record_end(ax, system.record_end())
        title, unit = yearly_words(how, words)
        ax.set_title(title)
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(measures):]:
        ax.axis("off")
    axes.flat[len(measures)].legend(*axes.flat[0].get_legend_handles_labels(), loc="center", title="scenario",
                                    fontsize=9)  # fmt: skip
    label_lowest(axes, len(measures), "year")
    axes.flat[0].xaxis.set_major_locator(MaxNLocator(integer=True))  # shared by every panel: whole years
    fig.suptitle(f"Difference from {reference}, member by member: median and 90% band over members "
                 f"(dotted line: {start})", fontsize=11)  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def sensitivity(result, path: Path) -> Path:
    """Indices of each output, factor by factor, with their 95% intervals: one panel an output."""
    method = result.settings["method"]
    keys = ("S1", "ST") if method == "sobol" else ("mu_star",)
    outputs = result.settings["outputs"]
    names = [f.name for f in result.factors]
    fig, axes = plt.subplots(1, len(outputs), figsize=(3.2 * len(outputs) + 2.5, 0.28 * len(names) + 1.8),
                             sharey=True, squeeze=False)  # fmt: skip
    rows = range(len(names))
    for ax, output in zip(axes[0], outputs, strict=True):
        table = result.table[result.table.output == output]
        for k, key in enumerate(keys):
            part = table[table["index"] == key].set_index("parameter").loc[names]
            error = [(part.value - part.low).clip(lower=0), (part.high - part.value).clip(lower=0)]
            ax.barh([r + 0.38 * (k - (len(keys) - 1) / 2) for r in rows], part.value, height=0.38, xerr=error,
                    label=key, color=("tab:blue", "tab:orange")[k], error_kw={"lw": 0.8})  # fmt: skip
        ax.set_title(output.replace("_", " "), fontsize=10)
        ax.set_xlabel("share of variance" if method == "sobol" else "mean |effect| (people)")
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].set_yticks(list(rows), names, fontsize=8)
    axes[0][0].invert_yaxis()
    axes[0][0].legend(fontsize=8)
    start, end = result.settings["start"], result.settings["end"]
    fig.suptitle(f"Sensitivity ({method}) of scenario {result.settings['scenario']}, {start}-{end}, "
                 "bars: 95% intervals", fontsize=10)  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
