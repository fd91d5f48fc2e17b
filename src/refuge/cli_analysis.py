"""Commands that analyse runs: ``refuge sensitivity`` and ``refuge report``.

Kept apart from ``cli.py`` so that the heavy imports (SALib, matplotlib,
xarray) happen only when one of these commands runs.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .limits import MAX_SEED
from .systems import DEFAULT as DEFAULT_SYSTEM
from .systems import system_names

console = Console()
errors = Console(stderr=True)

#: ``--scheduler`` on the commands that run ensembles
Scheduler = Annotated[
    str | None,
    typer.Option(help="address of a Dask scheduler (tcp://HOST:8786) to run the work on; the same results as "
                      "here"),
]


#: ``--system`` on the verbs any system answers
SystemName = Annotated[str, typer.Option("--system", help=f"the system: {', '.join(system_names())}")]

#: the window of years ``compare`` and ``sensitivity`` measure; by default the system's (:attr:`System.window`)
WindowStart = Annotated[int | None, typer.Option(help="first year of the window measured", show_default="the "
                                                 "system's: korea 2027")]
WindowEnd = Annotated[int | None, typer.Option(help="last year of the window measured", show_default="the system's: "
                                               "korea 2040")]

#: ``--force`` on the commands that write a folder
Force = Annotated[bool, typer.Option(help="replace an output folder that holds other results")]


def client(address: str | None):
    """A Dask client for ``--scheduler ADDRESS``, or ``None`` to run here."""
    from .errors import RunError

    if address is None:
        return None
    try:
        from dask.distributed import Client
    except ImportError:
        raise RunError("--scheduler needs the dask extra: pip install 'refuge[dask]'") from None
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as err:
        raise RunError(f"--scheduler {address}: cannot reach the scheduler ({err})") from None


def sensitivity(
    scenario: Annotated[str, typer.Argument(help="a built-in scenario name or a scenario YAML file")] = "baseline",
    method: Annotated[str, typer.Option(help="sobol (variance shares, CIs) | morris (cheap screening)")] = "sobol",
    samples: Annotated[
        int | None, typer.Option(help="Sobol base sample, a power of two [256]; Morris trajectories [20]")
    ] = None,
    output: Annotated[
        list[str] | None,
        typer.Option(help="an output the system offers (korea: arrivals, peak_hiding, deaths, re_defections, "
                          "peak_reception, deported, crossings); repeat for several", show_default="its first five"),
    ] = None,
    start: WindowStart = None,
    end: WindowEnd = None,
    backend: Annotated[str, typer.Option(help="mean (fast) | counts (whole people, one stream for all)")] = "mean",
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="seed of the sample and of counts' random stream")] = 0,
    levers: Annotated[bool, typer.Option(help="vary the scenario's lever values and start dates")] = True,
    spread: Annotated[float, typer.Option(min=0.0, help="lever values vary by this share either side")] = 0.5,
    shift: Annotated[float, typer.Option(min=0.0, help="lever start dates vary by this many years either side")] = 2.0,
    out: Annotated[Path | None, typer.Option(help="output folder", show_default="out/sensitivity-SCENARIO")] = None,
    scheduler: Scheduler = None,
    force: Force = False,
    system: SystemName = DEFAULT_SYSTEM,
) -> None:
    """Which calibrated parameters and lever settings drive an outcome: Sobol indices or Morris screening.

    Parameters vary over their posterior's 5-95% range, levers within --spread
    of their value and --shift years of their start.
    """
    from . import __version__
    from . import sensitivity as sa
    from .progress import progress
    from .store import RunFolder, check_output_path, publish_folder

    planned = sa.plan(scenario, method=method, samples=samples, outputs=output, start=start, end=end,
                      backend=backend, seed=seed, levers=levers, spread=spread, shift=shift, system=system)  # fmt: skip
    name = planned.scenario.name
    folder = out or Path("out") / f"sensitivity-{name}"
    check_output_path(folder)
    settings = {"refuge": __version__, **planned.settings}
    RunFolder(folder, settings, force=force).check_replaceable()  # refused now, not after the runs
    with progress(errors, f"{name}: {method}, {len(planned.factors)} factors, {planned.rows:,} runs ({backend})",
                  planned.rows * planned.timeline.steps) as advance:  # fmt: skip
        result = sa.carry_out(planned, progress=advance, client=client(scheduler))
    publish_folder(folder, settings, lambda staging: result.save(staging, command=_command()), force=force)
    console.print(_indices_table(result))
    if result.settings["method"] == "sobol":
        shares = result.table[result.table["index"].isin(("S1", "ST"))]
        if ((shares.high - shares.low) > 1).any():  # a share lies in [0, 1]: an interval wider says nothing
            console.print(f"Some 95% intervals are wider than a share's whole range (0 to 1): --samples "
                          f"{result.settings['samples']} is too few to rank these factors; take more.")  # fmt: skip
    for line in result.in_words():
        console.print(line, highlight=False)
    console.print(f"wrote {escape(str(folder))}/: indices.csv, indices.png, drivers.txt, sensitivity.json")


def compare_body(names: list[str], *, members: int, seed: int, backend: str, start: int | None, end: int | None,
                 out: Path, scheduler: str | None = None, force: bool = False,
                 system: str | None = None) -> None:  # fmt: skip
    """``refuge compare``: run the scenarios with one seed, write compare.csv, differences.csv and compare.png."""
    from . import __version__
    from . import compare as comparison
    from .errors import RunError
    from .output import check_in_memory
    from .progress import progress
    from .scenarios import builtin_names, load_scenario
    from .store import RunFolder, publish_folder
    from .systems import get_system, window

    chosen = get_system(system)
    if len(names) < 2:
        first, other = builtin_names(system)[:2]
        raise RunError(f"compare needs at least two scenarios, the first being the reference (got {len(names)}); "
                       f"e.g. refuge compare {first} {names[0] if names and names[0] != first else other}")  # fmt: skip
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise RunError(f"scenario {repeated[0]!r} is listed twice; compare runs each scenario once, against the first")
    start, end = window(chosen, start, end)
    scenarios = [load_scenario(name, system=system) for name in names]  # every name is checked before anything runs
    check_in_memory(members, len(names), chosen.model(), chosen.timeline)
    settings = {"refuge": __version__, "scenarios": names, "members": members, "seed": seed, "backend": backend,
                "start": start, "end": end}  # fmt: skip
    RunFolder(out, settings, force=force).check_replaceable()  # refused now, not after the runs
    with progress(errors, f"comparing {len(names)} scenarios", len(names) * members * chosen.timeline.steps) as advance:
        results = comparison.run_all(names, members=members, seed=seed, backend=backend, progress=advance,
                                     client=client(scheduler), system=system)  # fmt: skip
    table = comparison.effects(results, start, end, system)
    differences = comparison.yearly_differences(results, start - 5, end, system)

    recorded = comparison.definitions(dict(zip(names, scenarios, strict=True)))
    meta = {**settings, "command": _command(), "definitions": recorded}
    publish_folder(out, settings, lambda staging: comparison.save(staging, table, differences, start, meta, system),
                   force=force)  # fmt: skip
    console.print(comparison.table(table, start, end, backend, system))
    console.print(f"wrote {escape(str(out))}/: compare.csv, differences.csv, compare.png, compare.json")


def report(
    folder: Annotated[Path, typer.Argument(help="a folder from run, compare, sensitivity, calibrate or a backtest")],
    system: SystemName = DEFAULT_SYSTEM,
) -> None:
    """Write FOLDER/report.html: one self-contained page of its scenarios, tables, plots and provenance."""
    from .report import write_report

    path = write_report(folder, system=system)
    console.print(f"wrote {escape(str(path))} ({path.stat().st_size / 1e6:.1f} MB, self-contained: open it anywhere)")


def _indices_table(result) -> Table:
    method = result.settings["method"]
    keys = ("S1", "ST") if method == "sobol" else ("mu_star", "sigma")
    table = Table(title=f"Sensitivity ({method}) of {result.settings['scenario']}, {result.settings['start']}-"
                        f"{result.settings['end']}: top five factors, [95% interval]")  # fmt: skip
    table.add_column("output")
    table.add_column("factor", overflow="fold")
    for key in keys:
        table.add_column(key, justify="right")
    for output in result.settings["outputs"]:
        rows = result.table[result.table.output == output].set_index(["parameter", "index"])
        for i, name in enumerate(result.top(output, 5).parameter):
            cells = []
            for key in keys:
                row = rows.loc[(name, key)]
                fmt = "{:.2f}" if method == "sobol" else "{:,.0f}"
                interval = "" if row.low != row.low else f" [{fmt.format(row.low)}, {fmt.format(row.high)}]"
                cells.append(fmt.format(row.value) + interval)
            table.add_row(output if i == 0 else "", name, *cells)
    return table


def _command() -> str:
    """The command line as typed, to be written beside its results."""
    return shlex.join(["refuge", *sys.argv[1:]])
