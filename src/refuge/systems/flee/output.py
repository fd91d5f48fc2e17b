"""A Flee run's outputs: Flee's ``out.csv``, the errors Flee is judged by, refuge's daily table and camp plots.

``out.csv`` has Flee's columns and Flee's formatting (``runscripts/run.py``), so
Flee's own analysis scripts read it unchanged. The errors are those of
``shared/flee/README.md``: each day, E(t) = Σ over scored camps |sim − data| / max(N(t), 1),
N(t) the camps' UNHCR counts that day; ARD is the mean of E(t); the rescaled ARD
first scales the simulated camps to N(t) in total, keeping only the error in
where people went.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .reader import FleeScenario
from .simulate import FleeRun

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: the files a Flee run writes
FILES = ("out.csv", "errors.json", "places.csv", "camps.png")


def errors(run: FleeRun) -> dict[str, float]:
    """ARD and rescaled ARD of a run against the UNHCR camp counts."""
    sim = run.camps.astype(float)
    data = run.scenario.camp_data.astype(float)
    observed = data.sum(axis=1)
    scale = np.maximum(observed, 1.0)
    in_camps = sim.sum(axis=1)
    rescaled = sim * (observed / np.where(in_camps > 0, in_camps, 1.0))[:, None]
    return {
        "ARD": float((np.abs(sim - data).sum(axis=1) / scale).mean()),
        "ARD_rescaled": float((np.abs(rescaled - data).sum(axis=1) / scale).mean()),
    }


def write_run(run: FleeRun, folder: Path, figure: Figure | None = None) -> None:
    """Every output of ``run`` into ``folder`` (a run store's staging folder); ``figure``: its
    :func:`camp_figure`, if one was made while the people moved."""
    scenario = run.scenario
    (folder / "out.csv").write_text(flee_csv(run), encoding="utf-8")
    summary = {**errors(run), "scenario": scenario.name, "backend": run.backend, "seed": run.seed,
               "days": scenario.days, "hasten": scenario.hasten, "people_at_end": round(float(run.total[-1])),
               "agent_steps": round(float(run.agent_steps))}  # fmt: skip
    (folder / "errors.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    _places_table(run, folder / "places.csv")
    plot_camps(run, folder / "camps.png", figure)


def _dates(run: FleeRun) -> list[str]:
    """Flee dates each row by the day after it (its clock has moved on when it prints)."""
    start = run.scenario.start
    return [(start + dt.timedelta(days=t + 1)).isoformat() for t in range(run.scenario.days)]


def flee_csv(run: FleeRun) -> str:
    """``out.csv`` as Flee's ``run.py`` prints it (the ``mean`` backend's expected people rounded to whole ones)."""
    scenario = run.scenario
    names = [scenario.network.places[c] for c in scenario.camps]
    columns = ["Day", "Date", *(f"{n} {what}" for n in names for what in ("sim", "data", "error"))]
    columns += ["Total error", "refugees in camps (UNHCR)", "total refugees (simulation)", "raw UNHCR refugee count",
                "refugees in camps (simulation)", "refugee_debt"]  # fmt: skip
    text = io.StringIO()
    lines = csv.writer(text, lineterminator="\n")  # a camp's name may hold a comma: quoted, as CSV quotes
    lines.writerow(columns)
    sims, data, total, plan = run.camps, scenario.camp_data, run.total, run.schedule
    for t, date in enumerate(_dates(run)):
        cells = [str(t), date]
        for sim, known in zip(sims[t], data[t], strict=True):
            relative = 0.0 if known < 0.00001 else round(abs(float(round(sim)) / float(known) - 1), 4)
            cells += [str(round(sim)), str(int(known)), str(relative)]
        in_camps = round(sims[t].sum())
        if plan.raw[t] > 0:
            error = float(np.abs(np.round(sims[t]) - data[t]).sum()) / float(plan.raw[t])
            cells += [str(error), str(int(data[t].sum())), str(round(total[t])), str(int(plan.raw[t])), str(in_camps),
                      str(int(plan.debt[t]))]  # fmt: skip
        else:
            cells += ["0.0", "0", str(round(total[t])), "0", str(in_camps), "0"]
        lines.writerow(cells)
    return text.getvalue()


def _places_table(run: FleeRun, path: Path) -> None:
    """refuge's own daily results: people at each place and on the links, one column each."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["day", "date", *run.scenario.network.places, "on links"])
        for t, date in enumerate(_dates(run)):
            out.writerow([t, date, *(f"{x:g}" for x in run.places[t]), f"{run.travelling[t]:g}"])


def camp_figure(scenario: FleeScenario) -> Figure:
    """One panel a scored camp with what is known before the run: the UNHCR counts, titles and axes.

    ``refuge flee`` makes it in another thread while the people move (the kernel lets go of the
    GIL), and :func:`plot_camps` then only adds the run. (Drawing it once there as well, to have
    fonts and ticks ready, changed nothing measurable end to end: 2.56 s against 2.51 s.)
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ...plots import label_lowest

    names = [scenario.network.places[c] for c in scenario.camps]
    columns = min(3, max(len(names), 1))
    rows = -(-max(len(names), 1) // columns)
    fig = Figure(figsize=(4.2 * columns, 3.0 * rows + 0.6))
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, columns, squeeze=False, sharex=True)
    days = np.arange(scenario.days)
    unit = "people" if scenario.hasten == 1 else f"people (simulated at 1/{scenario.hasten}, scaled back)"
    for k, ax in enumerate(axes.flat):
        if k >= len(names):
            ax.axis("off")
            continue
        ax.plot(days, scenario.camp_data[:, k] * scenario.hasten, color="black", lw=1.4, label="UNHCR")
        ax.set_title(names[k], fontsize=10)
        ax.grid(alpha=0.3)
    label_lowest(axes, max(len(names), 1), "Day, as in out.csv")  # its Date column is a day later (Flee's dating)
    for ax in axes[:, 0]:
        ax.set_ylabel(unit, fontsize=8)
    fig.subplots_adjust(left=0.07, right=0.98, top=1 - 0.8 / (3.0 * rows + 0.6), bottom=0.5 / rows / 3, hspace=0.35,
                        wspace=0.25)  # fmt: skip
    return fig


def plot_camps(run: FleeRun, path: Path, figure: Figure | None = None) -> Path:
    """The run's people in each scored camp, day by day, on ``figure`` (a fresh :func:`camp_figure` if none)."""
    scenario = run.scenario
    fig = figure or camp_figure(scenario)
    days = np.arange(scenario.days)
    panels = fig.axes[: len(scenario.camps)]
    for k, ax in enumerate(panels):
        ax.plot(days, run.camps[:, k] * scenario.hasten, color="tab:blue", lw=1.4, label=f"refuge ({run.backend})")
    if panels:
        panels[0].legend(fontsize=8)
    measured = errors(run)
    fig.suptitle(f"{scenario.name}: ARD {measured['ARD']:.3f}, rescaled {measured['ARD_rescaled']:.3f} "
                 f"({run.backend}, seed {run.seed})", fontsize=11)  # fmt: skip
    fig.savefig(path, dpi=100)
    return path
