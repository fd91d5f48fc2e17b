"""The ``refuge`` command line: run scenarios, list and validate them, read the model's evidence.

Bad input of any kind ends in one message and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .errors import RefugeError, RunError
from .korea import north_korea
from .model.timeline import Timeline
from .record import arrivals
from .scenarios import builtin_scenarios, load_scenario
from .scenarios.schema import describe_date

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console()
errors = Console(stderr=True)


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="a built-in scenario name or a scenario YAML file")],
    members: Annotated[int, typer.Option(min=1, help="ensemble members")] = 500,
    seed: Annotated[int, typer.Option(min=0, help="seed of all random streams")] = 0,
    backend: Annotated[str, typer.Option(help="mean | counts | agents")] = "counts",
    out: Annotated[Path | None, typer.Option(help="output folder [default: out/SCENARIO]")] = None,
    trajectories: Annotated[bool, typer.Option(help="agents: write every person's moves and journey plots")] = False,
) -> None:
    """Run a scenario as an ensemble: print a summary, write tables and plots."""
    from .output import run_to_folder

    chosen = load_scenario(scenario)
    folder = out or Path("out") / chosen.name
    total = members * Timeline().steps
    with Progress(
        TextColumn(f"[bold]{chosen.name}[/] ({backend}, {members} members)"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("member-weeks"),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task("run", total=total)
        try:
            results = run_to_folder(
                chosen, folder, members=members, seed=seed, backend=backend,
                progress=lambda done: bar.advance(task, done), trajectories=trajectories,
                block=_AGENTS_BLOCK if backend == "agents" else 2_000,
            )  # fmt: skip
        except KeyboardInterrupt:
            errors.print(f"interrupted: finished members are kept; run the same command again to resume into {folder}")
            raise typer.Exit(130) from None
    console.print(_summary(results))
    console.print(f"wrote {folder}/: annual.csv, annual.parquet, results.nc, arrivals.png, stocks.png, run.json")
    if trajectories:
        console.print(_journeys(folder / "journeys.csv"))
        console.print(f"wrote {folder}/: trajectories.parquet, journeys.csv, journeys.png")


#: members held in memory at once by the agents backend (3 million people each at 16 bytes a person)
_AGENTS_BLOCK = 4


def _journeys(path: Path) -> Table:
    import pandas as pd

    frame = pd.read_csv(path, index_col="measure")
    table = Table(title="Journeys of arrivals in the South (all members, all years)")
    for column in ("measure", "arrivals", "mean", "5%", "median", "95%"):
        table.add_column(column, justify="right")
    for measure, row in frame.iterrows():
        table.add_row(measure, f"{row.arrivals:,.0f}", f"{row['mean']:,.1f}", f"{row.q05:,.0f}", f"{row.q50:,.0f}",
                      f"{row.q95:,.0f}")  # fmt: skip
    return table


def _summary(results) -> Table:
    history = arrivals()
    arrivals_q = results.quantiles("arrivals_south_korea")
    hiding_q = results.quantiles("hiding_in_china")
    table = Table(title=f"Arrivals in South Korea per year — scenario {results.data.attrs['scenario']}")
    for column in ("year", "median", "90% band", "record", "hiding in China (median)"):
        table.add_column(column, justify="right")
    for year, row in arrivals_q.iterrows():
        known = history["total"].get(year, None)
        table.add_row(
            str(year),
            f"{row.q50:,.0f}",
            f"{row.q05:,.0f} – {row.q95:,.0f}",
            "" if known is None else f"{known:,}",
            f"{hiding_q.loc[year, 'q50']:,.0f}",
        )
    return table


@app.command()
def compare(
    names: Annotated[list[str], typer.Argument(help="scenarios, the first being the reference", show_default=False)],
    members: Annotated[int, typer.Option(min=1, help="ensemble members per scenario")] = 200,
    seed: Annotated[int, typer.Option(min=0, help="one seed for all: common random numbers")] = 0,
    backend: Annotated[str, typer.Option(help="mean | counts")] = "counts",
    start: Annotated[int, typer.Option(help="first year of the window compared")] = 2027,
    end: Annotated[int, typer.Option(help="last year of the window compared")] = 2035,
    out: Annotated[Path, typer.Option(help="output folder")] = Path("out/compare"),
) -> None:
    """Compare scenarios side by side, member against member, over a window of years."""
    from . import compare as comparison
    from . import plots

    if not 1990 <= start <= end <= Timeline().end:
        raise RunError(f"--start {start} and --end {end} must satisfy 1990 <= start <= end <= {Timeline().end}")
    for name in names:
        load_scenario(name)  # every name is checked before anything runs
    with Progress(TextColumn("[bold]comparing[/]"), BarColumn(), TimeRemainingColumn(), console=errors,
                  transient=True) as bar:  # fmt: skip
        task = bar.add_task("compare", total=len(names) * members * Timeline().steps)
        results = comparison.run_all(names, members=members, seed=seed, backend=backend,
                                     progress=lambda done: bar.advance(task, done))  # fmt: skip
    table = comparison.effects(results, start, end)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "compare.csv", index=False)
    plots.scenarios(results, out / "compare.png", start)
    console.print(_comparison(table, names[0], start, end))
    console.print(f"wrote {out}/: compare.csv, compare.png")


def _comparison(table, reference: str, start: int, end: int) -> Table:
    shown = Table(title=f"Scenarios {start}–{end}: median [90% band]; change is member by member against {reference}")
    shown.add_column("scenario")
    labels = {
        "arrivals_south_korea": "arrivals in the South",
        "crossings_to_china": "crossings to China",
        "deported_from_china": "deported from China",
        "deaths": "deaths",
        "hiding_in_china": "peak hiding in China",
        "south_korea_reception": "peak in reception",
    }
    for label in labels.values():
        shown.add_column(label, justify="right")
    for name, rows in table.groupby("scenario", sort=False):
        cells = []
        for measure in labels:
            row = rows.set_index("measure").loc[measure]
            cell = f"{row['median']:,.0f}"
            if name != reference:
                cell += f"\n{row.change_median:+,.0f} [{row.change_q05:+,.0f}, {row.change_q95:+,.0f}]"
            cells.append(cell)
        shown.add_row(name, *cells)
    return shown


@app.command()
def scenarios() -> None:
    """List the built-in scenarios."""
    table = Table(title="Built-in scenarios")
    table.add_column("name")
    table.add_column("levers", justify="right")
    table.add_column("description")
    for item in builtin_scenarios():
        table.add_row(item.name, str(len(item.levers)), " ".join(item.description.split()))
    console.print(table)


@app.command()
def validate(file: Annotated[str, typer.Argument(help="a scenario YAML file (or a built-in name)")]) -> None:
    """Check a scenario file against the model and show what it does."""
    item = load_scenario(file)
    console.print(f"[green]valid[/]: scenario [bold]{item.name}[/] ({item.source})")
    for lever in item.levers:
        kind, value = lever.action
        until = f" until {describe_date(lever.until)}" if lever.until is not None else ""
        console.print(f"  - {lever.lever}: {kind} {value:g} from {describe_date(lever.start)}{until}")
    for name, value in item.parameters.items():
        console.print(f"  - parameter {name} = {value:g}")


@app.command()
def parameters() -> None:
    """The model's parameters, their default values and their evidence."""
    table = Table(title="Parameters of the North Korean system")
    for column in ("name", "value", "unit", "meaning", "evidence"):
        table.add_column(column, overflow="fold")
    for p in north_korea().parameters:
        table.add_row(p.name, f"{p.value:g}", p.unit, p.label, "\n".join(str(e) for e in p.evidence))
    console.print(table)


@app.command()
def mechanisms() -> None:
    """The mechanisms M1-M12, the flows that carry them, and their seed evidence."""
    model = north_korea()
    table = Table(title="Mechanisms of the North Korean system")
    for column in ("id", "mechanism", "flows", "evidence"):
        table.add_column(column, overflow="fold")
    for m in model.mechanisms:
        flows = ", ".join(f.name for f in model.flows if m.id in f.mechanisms)
        table.add_row(m.id, m.title, flows, "\n".join(str(e) for e in m.evidence))
    console.print(table)


def main() -> None:
    """Entry point: refuge errors become one message and exit code 2 (typer does the same for usage errors)."""
    try:
        app()
    except RefugeError as err:
        errors.print(f"[red]error[/]: {err}", highlight=False, soft_wrap=True)
        sys.exit(2)
