"""The ``refuge`` command line: run scenarios, list and validate them, read the model's evidence.

Bad input of any kind ends in one message and exit code 2, never a traceback.
"""

from __future__ import annotations

import gc
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

# the model, numpy and matplotlib are imported inside the commands that use them: `refuge --help` stays quick
from . import __version__, cli_analysis
from .errors import DataWarning, RefugeError, RunError
from .limits import MAX_DRAWS, MAX_MEMBERS, MAX_SAMPLER_SEED, MAX_SEED
from .listing import show
from .systems import DEFAULT as DEFAULT_SYSTEM

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

console = Console()
#: the backends a run or comparison may take, and what the agents cost
BACKENDS = "mean | counts | agents (every person: minutes a member for Korea)"
errors = Console(stderr=True)


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="a built-in scenario name or a scenario YAML file")],
    members: Annotated[int, typer.Option(min=1, max=MAX_MEMBERS, help="ensemble members")] = 500,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="seed of all random streams")] = 0,
    backend: Annotated[str, typer.Option(help=BACKENDS)] = "counts",
    out: Annotated[Path | None, typer.Option(help="output folder", show_default="out/SCENARIO")] = None,
    force: Annotated[bool, typer.Option(help="replace an output folder that holds another run")] = False,
    block: Annotated[
        int | None,
        typer.Option(min=1, max=MAX_MEMBERS, help="members held in memory at once (and kept on resume)",
                     show_default="2000; 4 with agents"),
    ] = None,
    trajectories: Annotated[bool, typer.Option(help="agents: write every person's moves and journey plots")] = False,
    calibrated: Annotated[
        bool, typer.Option("--calibrated/--defaults", help="parameters from the shipped posterior, or the defaults")
    ] = True,
    ensemble_bands: Annotated[
        bool, typer.Option("--ensemble-bands", help="bands of the ensemble alone, without the model's misfit")
    ] = False,
    scheduler: cli_analysis.Scheduler = None,
    system: cli_analysis.SystemName = DEFAULT_SYSTEM,
) -> None:
    """Run a scenario as an ensemble: print a summary, write tables and plots.

    Arrivals are shown with 90% predictive intervals (the calibrated misfit of the record around the
    model included); --ensemble-bands shows the narrower spread of the ensemble alone.
    """
    from .output import run_to_folder
    from .progress import progress
    from .systems import get_system

    chosen = load_scenario(scenario, system)
    folder = out or Path("out") / chosen.name
    total = members * get_system(system).timeline.steps
    with progress(errors, f"{chosen.name} ({backend}, {members} members)", total) as advance:
        try:
            results = run_to_folder(
                chosen, folder, members=members, seed=seed, backend=backend, calibrated=calibrated,
                progress=advance, trajectories=trajectories, force=force, predictive=not ensemble_bands,
                client=cli_analysis.client(scheduler), system=system,
                block=block or (_AGENTS_BLOCK if backend == "agents" else 2_000),
            )  # fmt: skip
        except KeyboardInterrupt:
            errors.print(f"interrupted: finished members are kept; run the same command again to resume into {folder}",
                         markup=False)
            raise typer.Exit(130) from None
    chosen_system = get_system(system)
    console.print(chosen_system.summary(results, predictive=not ensemble_bands))
    console.print(f"wrote {escape(str(folder))}/: annual.csv, annual.parquet, results.nc, "
                  f"{', '.join(chosen_system.plot_files)}, run.json")
    if trajectories:
        console.print(chosen_system.trajectory_summary(folder))
        console.print(f"wrote {escape(str(folder))}/: trajectories.parquet, journeys.csv, journeys.png")


#: members held in memory at once by the agents backend (3 million people each at 17 bytes a person)
_AGENTS_BLOCK = 4


def load_scenario(name: str, system: str | None = None):
    """A scenario of ``system`` by name or path (imports the model only when a command needs it)."""
    from .scenarios import load_scenario as load

    return load(name, system=system)


@app.command()
def compare(
    names: Annotated[list[str], typer.Argument(help="scenarios, the first being the reference", show_default=False)],
    members: Annotated[int, typer.Option(min=1, max=MAX_MEMBERS, help="ensemble members per scenario")] = 200,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="one seed for all: common random numbers")] = 0,
    backend: Annotated[str, typer.Option(help=BACKENDS)] = "counts",
    start: cli_analysis.WindowStart = None,
    end: cli_analysis.WindowEnd = None,
    out: Annotated[Path, typer.Option(help="output folder")] = Path("out/compare"),
    scheduler: cli_analysis.Scheduler = None,
    force: cli_analysis.Force = False,
    system: cli_analysis.SystemName = DEFAULT_SYSTEM,
) -> None:
    """Compare scenarios side by side, member against member, over a window of years."""
    cli_analysis.compare_body(names, members=members, seed=seed, backend=backend, start=start, end=end, out=out,
                              scheduler=scheduler, force=force, system=system)  # fmt: skip


@app.command()
def flee(
    path: Annotated[Path, typer.Argument(help="a Flee/FabFlee scenario folder (input_csv/, source_data/)")],
    out: Annotated[Path | None, typer.Option(help="output folder", show_default="out/flee-FOLDER")] = None,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="seed of all random streams")] = 0,
    backend: Annotated[str, typer.Option(help="agents | counts | mean")] = "agents",
    force: Annotated[bool, typer.Option(help="replace an output folder that holds another run")] = False,
) -> None:
    """Run a Flee scenario folder with Flee's rules: out.csv in Flee's columns, ARD, a plot per camp."""
    from .systems.flee.output import FILES
    from .systems.flee.run import run_to_folder

    folder = out or Path("out") / f"flee-{path.resolve().name}"
    measured = run_to_folder(path, folder, seed=seed, backend=backend, force=force)
    hasten = measured.get("hasten", 1)  # an older run's errors.json, left as it was, has none
    scale = f", each standing for {hasten} (hasten)" if hasten > 1 else ""
    console.print(f"{measured['scenario']} ({measured['backend']}, seed {measured['seed']}): "
                  f"{measured['people_at_end']:,} people after {measured['days']} days{scale}")  # fmt: skip
    table = Table()
    table.add_column("ARD", justify="right")
    table.add_column("ARD rescaled", justify="right")
    table.add_row(f"{measured['ARD']:.4f}", f"{measured['ARD_rescaled']:.4f}")
    console.print(table)
    console.print(f"wrote {escape(str(folder))}/: {', '.join(FILES)}")


#: ``--csv`` on the listing verbs
AsCsv = Annotated[bool, typer.Option("--csv", help="print CSV (one row an item) instead of a table")]


@app.command()
def scenarios(as_csv: AsCsv = False, system: cli_analysis.SystemName = DEFAULT_SYSTEM) -> None:
    """List the built-in scenarios."""
    from .scenarios import builtin_scenarios

    rows = [(item.name, len(item.levers), " ".join(item.description.split())) for item in builtin_scenarios(system)]
    show(console, "Built-in scenarios", ("name", "levers", "description"), rows, as_csv=as_csv, right=("levers",))


@app.command()
def validate(file: Annotated[str, typer.Argument(help="a scenario YAML file (or a built-in name)")],
             system: cli_analysis.SystemName = DEFAULT_SYSTEM) -> None:  # fmt: skip
    """Check a scenario file against the model and show what it does."""
    from .scenarios.schema import describe_date

    item = load_scenario(file, system)
    console.print(f"[green]valid[/]: scenario [bold]{escape(item.name)}[/] ({escape(str(item.source))})")
    for lever in item.levers:
        kind, value = lever.action
        until = f" until {describe_date(lever.until)}" if lever.until is not None else ""
        console.print(f"  - {lever.lever}: {kind} {value:g} from {describe_date(lever.start)}{until}")
    for name, value in item.parameters.items():
        console.print(f"  - parameter {name} = {value:g}")


@app.command()
def parameters(as_csv: AsCsv = False, system: cli_analysis.SystemName = DEFAULT_SYSTEM) -> None:
    """The drivers levers act on, and the model's parameters: ranges, units, defaults and evidence."""
    from .systems import get_system

    chosen = get_system(system)
    model, timeline = chosen.model(), chosen.timeline
    columns = ("name", "kind", "default or history", "allowed range", "unit", "meaning", "evidence")
    rows = []
    for d in model.drivers:
        series = d.series(timeline)
        history = f"{series.min():g} to {series.max():g} over {timeline.start}-{timeline.end}"
        rows.append((d.name, "driver", history, _range(d.bounds), d.unit, d.label,
                     "; ".join(str(e) for e in d.evidence)))  # fmt: skip
    for p in model.parameters:
        rows.append((p.name, "parameter", f"{p.value:g}", _range(p.bounds), p.unit, p.label,
                     "; ".join(str(e) for e in p.evidence)))  # fmt: skip
    show(console, f"Drivers (what levers act on) and parameters of the model {model.name}", columns, rows,
         as_csv=as_csv)  # fmt: skip


def _range(bounds: tuple[float, float]) -> str:
    low, high = bounds
    return f"{low:g} or more" if high == float("inf") else f"{low:g} to {high:g}"


@app.command()
def mechanisms(as_csv: AsCsv = False, system: cli_analysis.SystemName = DEFAULT_SYSTEM) -> None:
    """The mechanisms (Korea's M1-M12), the flows that carry them, and their seed evidence."""
    from .systems import get_system

    model = get_system(system).model()
    rows = []
    for m in model.mechanisms:
        flows = ", ".join(f.name for f in model.flows if m.id in f.mechanisms)
        rows.append((m.id, m.title, flows, "; ".join(str(e) for e in m.evidence)))
    show(console, f"Mechanisms of the model {model.name}", ("id", "mechanism", "flows", "evidence"), rows,
         as_csv=as_csv)  # fmt: skip


@app.command()
def evidence(
    quantity: Annotated[str | None, typer.Option(help="only claims about this quantity (e.g. hiding_in_china)")] = None,
    annual: Annotated[bool, typer.Option(help="include the annual arrivals record row by row")] = False,
    as_csv: AsCsv = False,
    system: cli_analysis.SystemName = DEFAULT_SYSTEM,
) -> None:
    """The quantitative claims behind the model, with their sources, and what the record says of each."""
    from .systems import analyses_of

    found = analyses_of(system, "evidence")
    if quantity is not None and quantity not in found.QUANTITIES:
        raise RunError(f"--quantity {quantity!r} is not known; allowed: {', '.join(found.QUANTITIES)}")
    frame = found.evidence_table(found.load_evidence(), include_annual=annual)
    if quantity is not None:
        frame = frame[frame["quantity"] == quantity]
    columns = ("id", "quantity", "when", "claim", "origin", "use", "record check", "record says", "source", "url",
               "published", "repeats", "quote", "note")  # fmt: skip
    rows = [(row["id"], row["quantity"], row["when"], _claim_text(row), row["origin"], row["use"], row["record_check"],
             row["record_says"], row["source"], row["source_url"], row["date"], row["repeats"], row["quote"],
             row["note"]) for _, row in frame.iterrows()]  # fmt: skip
    show(console, "Evidence: claims, sources and what the arrivals record says", columns, rows, as_csv=as_csv,
         styles={"record check": {"contradicted": "bold red", "consistent": "green"}})  # fmt: skip
    contradicted = frame[frame["record_check"] == "contradicted"]
    if len(contradicted) and not as_csv:
        console.print(f"[bold red]{len(contradicted)} claim(s) contradicted by the record[/]: "
                      + ", ".join(f"{r.id} ({r.source})" for r in contradicted.itertuples()))


def _claim_text(row) -> str:
    def fmt(x):  # whole numbers and hundreds with separators; 1.5 years stays 1.5, 3.17 stays 3.17
        return f"{x:,.0f}" if x == round(x) or abs(x) >= 100 else f"{x:.3g}"

    value, low, high = (row[k] if row[k] == row[k] else None for k in ("value", "low", "high"))
    if low is not None and high is not None:
        return f"{fmt(low)} – {fmt(high)}"
    if high is not None:
        return f"up to {fmt(high)}"
    if low is not None:
        return f"at least {fmt(low)}"
    return fmt(value)


#: nautilus's live points of each run, the calibration's default (``Settings.live``; ``docs/calibration.md``, section 4)
LIVE = 850
Live = Annotated[int, typer.Option(min=100, help="nautilus: live points of each run")]


@app.command()
def calibrate(
    until: Annotated[int | None, typer.Option(help="fit the record up to this year (the rest is held out)",
                                              show_default="the record's last year: korea 2025")] = None,
    sampler: Annotated[str, typer.Option(help="nautilus (nested sampling) | emcee (an MCMC ensemble)")] = "nautilus",
    chains: Annotated[int, typer.Option(min=1, help="independent runs or ensembles, side by side")] = 2,
    live: Live = LIVE,
    particles: Annotated[int, typer.Option(help="emcee: walkers in all, split over the chains: each chain an even "
                                                "number, at least twice the parameters calibrated")] = 128,
    steps: Annotated[int, typer.Option(min=2, help="emcee: steps of each ensemble (the first half is burn-in)")]
    = 400,
    screen: Annotated[int, typer.Option(help="emcee: prior draws searched to place the walkers")] = 4000,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SAMPLER_SEED, help="seed of the sampler")] = 0,
    workers: Annotated[int | None, typer.Option(min=1, help="worker processes", show_default="all cores")] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", "--dask", help="address of a Dask scheduler "
                                                  "(tcp://HOST:8786) to run the runs or chains on; same results")]
    = None,
    out: Annotated[Path | None, typer.Option(help="output folder", show_default="calibration/until-YEAR")] = None,
    force: Annotated[bool, typer.Option(help="replace an output folder that holds a calibration of other settings")]
    = False,
    system: cli_analysis.SystemName = DEFAULT_SYSTEM,
) -> None:
    """Calibrate the model to the record up to a year: posterior, fit and hold-out error, plots.

    Interrupted, it keeps every finished batch (emcee: step); the same command resumes it.
    """
    from .progress import progress
    from .report import convergence
    from .systems import analyses_of

    found = analyses_of(system, "calibrate")
    until = found.record_end() if until is None else until
    settings = found.Settings(until=until, sampler=sampler, live=live, walkers=particles // chains, chains=chains,
                              steps=steps, seed=seed, screen=screen)  # fmt: skip
    least = 2 * len(settings.space().names) * chains  # each chain twice as many walkers as parameters
    if sampler == "emcee" and (particles % (2 * chains) or particles < least):
        raise RunError(f"--particles {particles} is not allowed; allowed: a multiple of {2 * chains} (an even number "
                       f"of walkers in each of the {chains} chains), {least} or more")  # fmt: skip
    settings.check()
    folder = out or Path("calibration") / f"until-{until}"
    client = cli_analysis.client(scheduler)
    if sampler == "nautilus":
        label = f"calibrating to {until} ({chains} nested runs of {live} live points)"
        shown_as = {"of": "the slowest run (estimated)"}
    else:
        label = f"calibrating to {until} ({particles} walkers in {chains} chains)"
        shown_as = {"unit": "steps of the slowest chain"}
    with progress(errors, label, settings.progress_total, **shown_as) as advance:
        shown = [0]

        def step_done(step: int, total: int, best: float) -> None:
            advance(step - shown[0])
            shown[0] = step

        try:
            posterior = found.calibrate(settings, folder, workers=workers, client=client, progress=step_done,
                                        force=force)
        except KeyboardInterrupt:
            errors.print(f"interrupted: the work so far is kept in {folder}; run the same command to resume",
                         markup=False)
            raise typer.Exit(130) from None
    summary = found.write_report(posterior, folder, until)
    meta = posterior.provenance
    table = Table(title=f"Calibration to {until}: fit of annual arrivals (median of the posterior predictive)")
    for column in ("years", "sample", "MAPE of median", "years in 90% band", "years in 50% band"):
        table.add_column(column, justify="right")
    for sample in ("in-sample", "hold-out"):
        if sample in summary:
            part = summary[sample]
            table.add_row(part["years"], "hold-out, conditional" if "conditional" in part else sample,
                          f"{part['mape_median_pct']:.1f}%",
                          f"{part['years_in_90pct_band']} of {part['n_years']}",
                          f"{part['years_in_50pct_band']} of {part['n_years']}")
    console.print(table)
    if "hold-out" in summary:
        console.print(f"The hold-out years are {summary['hold-out']['conditional']}.", highlight=False)
    if "smooth_reference_mape_pct" in summary.get("in-sample", {}):
        console.print(f"For scale: the record's own centred 3-year mean misses it by "
                      f"{summary['in-sample']['smooth_reference_mape_pct']:.1f}% a year in the same years.")
    console.print(f"{meta['samples']} posterior samples; {convergence(meta)}; "
                  f"{meta['wall_seconds_this_session']:.0f} s", markup=False)
    wrote = [name for name in found.CALIBRATION_FILES if (folder / name).exists()]
    console.print(f"wrote {escape(str(folder))}/: {', '.join(wrote)}")


@app.command()
def backtest(
    out: Annotated[Path, typer.Option(help="output folder")] = Path("out/backtest"),
    origins: Annotated[str | None, typer.Option(help="origins, comma-separated",
                                                show_default="the system's: korea 2005,2008,2011,2014,2019")] = None,
    quick: Annotated[bool, typer.Option("--quick", help="a tiny emcee budget, whatever --sampler says (tests)")]
    = False,
    sampler: Annotated[str, typer.Option(help="each origin's calibration: nautilus | emcee")] = "nautilus",
    steps: Annotated[int, typer.Option(min=2, help="emcee: steps of each origin's calibration")] = 60,
    live: Live = LIVE,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SAMPLER_SEED, help="seed of the sampler and the draws")] = 0,
    workers: Annotated[int | None, typer.Option(min=1, help="worker processes", show_default="all cores")] = None,
    scheduler: cli_analysis.Scheduler = None,
    force: Annotated[bool, typer.Option(help="replace an output folder that holds a backtest of other settings")]
    = False,
    system: cli_analysis.SystemName = DEFAULT_SYSTEM,
) -> None:
    """Rolling-origin backtest: calibrate blind at each origin, forecast 5 years, score against naive forecasters.

    Writes scores.csv (origin, horizon, forecaster, kind, crps, ape, in50, in90, width90), summary.csv,
    summary.md and backtest.png. Rows of kind 'forecast' are forecasts; rows of kind 'conditional' are
    projections given the dated events after the origin, not forecasts.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .systems import analyses_of

    found = analyses_of(system, "backtest")
    try:
        chosen = found.ORIGINS if origins is None else tuple(int(x) for x in origins.split(","))
    except ValueError:
        raise RunError(f"--origins {origins!r} is not a comma-separated list of years") from None
    budget = found.Budget(steps=steps, sampler=sampler, live=live)  # refuses an unknown sampler, --quick or not
    budget = found.Budget.quick() if quick else budget
    try:
        with Progress(TextColumn("[bold]backtest[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("origins"),
                      TimeRemainingColumn(), console=errors, transient=True) as bar:  # fmt: skip
            task = bar.add_task("backtest", total=len(chosen))
            table = found.backtest(out, origins=chosen, budget=budget, seed=seed, workers=workers,
                                   progress=lambda done, total: bar.update(task, completed=done),
                                   client=cli_analysis.client(scheduler), force=force)  # fmt: skip
    except KeyboardInterrupt:
        errors.print(f"interrupted: the work so far is kept in {out}; run the same command to resume", markup=False)
        raise typer.Exit(130) from None
    summary = table.groupby(["kind", "forecaster", "horizon"])[["crps", "ape", "in90"]].mean().reset_index()
    for kind, title in (("forecast", "Forecasts: blind after each origin"),
                        ("conditional", "Conditional projections: given the dated events after each origin")):
        view = Table(title=f"{title} (mean over origins)")
        for column in ("forecaster", "horizon", "CRPS", "APE of median", "in 90% interval"):
            view.add_column(column, justify="right")
        for _, r in summary[summary["kind"] == kind].iterrows():
            view.add_row(r.forecaster, str(r.horizon), f"{r.crps:,.0f}", f"{r.ape:.1f}%", f"{r.in90:.0%}")
        console.print(view)
    console.print(f"wrote {escape(str(out))}/: scores.csv, summary.csv, summary.md, backtest.png")


@app.command()
def estimate(
    quantity: Annotated[str, typer.Argument(help="what to estimate (korea: hiding-in-china)")],
    posterior: Annotated[Path | None, typer.Option(help="a calibration folder", show_default="shipped")] = None,
    draws: Annotated[int, typer.Option(min=10, max=MAX_DRAWS, help="posterior draws to simulate")] = 1000,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="seed of the draws")] = 0,
    out: Annotated[Path | None, typer.Option(help="output folder", show_default="out/estimate")] = None,
    force: Annotated[bool, typer.Option(help="replace an output folder that holds another estimate")] = False,
    system: cli_analysis.SystemName = DEFAULT_SYSTEM,
) -> None:
    """Estimate what nobody counts by year (korea: people hiding in China), beside the published claims."""
    from .store import RunFolder, check_output_path, publish_folder
    from .systems import analyses_of

    found = analyses_of(system, "estimate")
    if quantity not in found.ESTIMATES:
        raise RunError(f"cannot estimate {quantity!r}; allowed: {', '.join(found.ESTIMATES)}")
    chosen = found.Posterior.load(posterior) if posterior else found.shipped_posterior()
    if chosen is None:
        raise RunError("this build ships no posterior; give --posterior DIR from `refuge calibrate`")
    folder = out or Path("out") / "estimate"
    settings = {"refuge": __version__, "estimate": quantity, "posterior": str(posterior or "shipped"),
                "posterior_created": chosen.provenance.get("created"), "draws": draws, "seed": seed}  # fmt: skip
    check_output_path(folder)
    RunFolder(folder, settings, force=force).check_replaceable()  # refused now, not after the draws
    estimate_, claims = found.estimate(quantity, chosen, draws=draws, seed=seed)
    stem = quantity.replace("-", "_")

    def write(staging: Path) -> None:
        estimate_.round(0).to_csv(staging / f"{stem}.csv")
        found.plot_estimate(quantity, estimate_, claims, staging / f"{stem}.png")

    publish_folder(folder, settings, write, force=force)
    table = Table(title=found.ESTIMATES[quantity])
    for column in ("year", "median", "50% interval", "90% interval", "claims that year (source)"):
        table.add_column(column, justify="right" if column != "claims that year (source)" else "left",
                         overflow="fold")
    for year, row in estimate_.iterrows():
        said = claims[claims["year"] == year]
        text = "; ".join(f"{_claim_text(c)} ({c['origin']}: {c['source']})" for _, c in said.iterrows())
        table.add_row(str(year), f"{row.q50:,.0f}", f"{row.q25:,.0f} – {row.q75:,.0f}",
                      f"{row.q05:,.0f} – {row.q95:,.0f}", text)
    console.print(table)
    console.print(f"wrote {escape(str(folder))}/{stem}.csv and {stem}.png")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on; 0.0.0.0 opens the app to the network")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="port to listen on")] = 8000,
    max_members: Annotated[int, typer.Option(min=1, max=MAX_MEMBERS, help="members one run may ask for")] = 1_000,
    max_runs: Annotated[int, typer.Option(min=1, max=64, help="runs or comparisons at once")] = 2,
    max_queue: Annotated[int, typer.Option(min=0, max=1_000, help="jobs waiting for a free slot")] = 8,
    max_seconds: Annotated[float, typer.Option(min=1, help="longest a job may run before it is stopped")] = 600,
    results: Annotated[Path | None, typer.Option(help="a folder of sensitivity and backtest results to show")] = None,
    system: cli_analysis.SystemName = DEFAULT_SYSTEM,
) -> None:
    """The web app on this machine: scenarios, levers, runs, charts, comparisons, evidence (needs the web extra)."""
    from .web import Limits
    from .web import serve as start

    start(host, port, Limits(members=max_members, runs=max_runs, queue=max_queue, seconds=max_seconds), results,
          announce=console.print, system=system)  # fmt: skip


app.command()(cli_analysis.sensitivity)
app.command()(cli_analysis.report)


_show_warning = warnings.showwarning


def _tell(message, category, filename, lineno, file=None, line=None) -> None:
    """Input read as its source tool reads it, though it looks like a slip (:class:`DataWarning`): one line, as errors
    are; other warnings as Python shows them."""
    if issubclass(category, DataWarning):
        errors.print(Text.assemble(("warning", "yellow"), f": {message}"), highlight=False, soft_wrap=True)
    else:
        _show_warning(message, category, filename, lineno, file, line)


def main() -> None:
    """Entry point: refuge errors become one message and exit code 2 (typer does the same for usage errors).

    Ctrl-C outside a command's own handling ends with exit code 130, without a traceback.

    The garbage collector is tuned for a command's life: the imports of numba, matplotlib and
    xarray create about a million objects that live as long as the process, and the default
    thresholds (a sweep every 700 allocations) swept them over and over (~0.2 s of a command's
    start); its last sweeps at exit took ~0.3 s more, so the objects are frozen out of it first.
    """
    gc.set_threshold(100_000, 20, 20)
    warnings.simplefilter("always", DataWarning)
    warnings.showwarning = _tell
    try:
        app()
    except RefugeError as err:
        errors.print(Text.assemble(("error", "red"), f": {err}"), highlight=False, soft_wrap=True)  # never markup
        sys.exit(2)
    except MemoryError:  # asked for more than the machine holds: as bad input, not a crash
        errors.print(Text.assemble(("error", "red"), ": out of memory: the work asked for needs more than this "
                                   "machine has; ask for less (members, samples, draws), or for fewer people on the "
                                   "agents backend, which holds each person"), highlight=False)  # fmt: skip
        sys.exit(2)
    except KeyboardInterrupt:
        errors.print("interrupted")
        sys.exit(130)
    finally:
        gc.freeze()
