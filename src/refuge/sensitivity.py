"""Global sensitivity: which assumptions and which lever settings drive an output.

The model is treated as a plain function from factors to outputs (SALib's
shape: ``X = sample(problem)``, ``Y = f(X)``, ``S = analyze(problem, Y)``).
Factors are

* the calibrated parameters, each over the 5-95% range of the shipped
  posterior (log-spaced where its prior is log-uniform); sampled independently,
  so the posterior's correlations are not kept: this asks what each assumption
  *could* do within what the record allows;
* where each driver the system infers as a walk goes after the years it was
  calibrated on: the quantile of the walk's spread a sample follows (5-95%);
  before that, every sample follows the walks' calibrated central paths;
* each lever of the scenario: its value (within ``spread`` of the written one,
  kept inside the driver's or parameter's bounds) and its start date (within
  ``shift`` years, the lever's window keeping its length).

Outputs are measures over a window of years. One sample row is one ensemble
member, so the ``mean`` backend runs every row in one vectorised pass; on
``counts`` every row draws from the same random stream (common random
numbers), so the indices split the factors' effects, not chance.

Sobol indices (first-order ``S1``, total ``ST``) split the output's variance;
Morris screening (``mu_star``, ``sigma``) ranks factors from far fewer runs.

>>> import numpy as np
>>> factors = [Factor("a", "a", 0.0, 1.0), Factor("b", "b", 0.0, 1.0)]
>>> table = indices(factors, lambda x: {"y": 4 * x[:, 0] + x[:, 1]}, method="sobol", samples=256)
>>> top = table[table["index"] == "ST"].sort_values("value").parameter.iloc[-1]
>>> top
'a'
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import RunError
from .scenarios import Scenario
from .scenarios.levers import Inputs

METHODS = ("sobol", "morris")

#: the index each method ranks factors by
RANKED_BY = {"sobol": "ST", "morris": "mu_star"}
#: Sobol's base sample and Morris's trajectories when none is asked for
DEFAULT_SAMPLES = {"sobol": 256, "morris": 20}


@dataclass(frozen=True)
class Factor:
    """One uncertain input: a name, plain words for it, and the range it is sampled over."""

    name: str
    label: str
    low: float
    high: float
    log: bool = False
    kind: str = "parameter"

    def scale(self, unit: np.ndarray) -> np.ndarray:
        """Values for points of ``[0, 1]``: linear, or log-spaced for a log factor; never past the range's ends by
        rounding (a lever's amount is bounded by them exactly: the lowest value less it must be 0, not -5e-22)."""
        if self.log:
            values = np.exp(np.log(self.low) + unit * (np.log(self.high) - np.log(self.low)))
        else:
            values = self.low + unit * (self.high - self.low)
        return np.clip(values, self.low, self.high)


def indices(
    factors: list[Factor],
    evaluate: Callable[[np.ndarray], Mapping[str, np.ndarray]],
    *,
    method: str = "sobol",
    samples: int = 256,
    seed: int = 0,
) -> pd.DataFrame:
    """Sensitivity indices of each output of ``evaluate`` to each factor, as a tidy table.

    ``evaluate`` takes a matrix ``(rows, factors)`` in natural units and returns
    one array of ``rows`` values per output. ``samples`` is Sobol's base sample
    (runs: ``samples * (factors + 2)``) or Morris's number of trajectories
    (runs: ``samples * (factors + 1)``). Columns: ``output, parameter, index,
    value, low, high``, where ``low``-``high`` is the 95% bootstrap interval.
    """
    _known(method)
    if len(factors) < 2:
        raise RunError(f"sensitivity needs at least two factors, not {len(factors)}")
    if samples < 2:
        raise RunError(f"--samples must be at least 2, not {samples}")
    problem = {"num_vars": len(factors), "names": [f.name for f in factors], "bounds": [[0.0, 1.0]] * len(factors)}
    unit = _sample(problem, method, samples, seed)
    natural = np.column_stack([f.scale(unit[:, i]) for i, f in enumerate(factors)])
    rows = []
    for output, values in evaluate(natural).items():
        rows += _analyse(problem, method, unit, np.asarray(values, dtype=float), output, seed)
    return pd.DataFrame(rows, columns=["output", "parameter", "index", "value", "low", "high"])


def _known(method: str) -> None:
    if method not in METHODS:
        raise RunError(f"--method {method!r} is not known; choose one of {', '.join(METHODS)}")


def _sample(problem: dict, method: str, samples: int, seed: int) -> np.ndarray:
    if method == "sobol":
        from SALib.sample import sobol

        if samples & (samples - 1):
            raise RunError(f"--samples {samples}: Sobol sequences need a power of two (e.g. 128, 256, 512)")
        return sobol.sample(problem, samples, calc_second_order=False, seed=seed)
    from SALib.sample import morris

    return morris.sample(problem, samples, num_levels=4, seed=seed)


def _analyse(problem: dict, method: str, unit: np.ndarray, y: np.ndarray, output: str, seed: int) -> list[tuple]:
    names = problem["names"]
    if not np.isfinite(y).all():
        raise RunError(f"output {output!r} has undefined values for some factor settings")
    if np.ptp(y) == 0:  # an output no factor moves: every index is zero
        keys = ("S1", "ST") if method == "sobol" else ("mu_star", "sigma")
        return [(output, name, key, 0.0, 0.0, 0.0) for name in names for key in keys]
    if method == "sobol":
        from SALib.analyze import sobol

        # a Generator, not the seed: SALib draws its bootstrap unseeded where the seed is falsy (``if seed:``), 0 too
        si = sobol.analyze(problem, y, calc_second_order=False, conf_level=0.95, seed=np.random.default_rng(seed))
        return [
            (output, name, key, si[key][i], si[key][i] - si[f"{key}_conf"][i], si[key][i] + si[f"{key}_conf"][i])
            for key in ("S1", "ST")
            for i, name in enumerate(names)
        ]
    from SALib.analyze import morris

    si = morris.analyze(problem, unit, y, conf_level=0.95, num_levels=4, seed=seed)
    rows = []
    for i, name in enumerate(names):
        star, conf = si["mu_star"][i], si["mu_star_conf"][i]
        rows.append((output, name, "mu_star", star, max(star - conf, 0.0), star + conf))
        rows.append((output, name, "sigma", si["sigma"][i], math.nan, math.nan))
    return rows


# -- the model as a function of its factors -----------------------------------------------------------------------


def parameter_factors(model, names: list[str] | None = None, *, system=None) -> list[Factor]:
    """Calibrated parameters over the 5-95% range of the system's shipped posterior (prior range if none is shipped).

    A system without a calibration is refused (:func:`~refuge.systems.analyses_of`).
    """
    from .systems import analyses_of

    found = analyses_of(system, "sensitivity")
    posterior = found.shipped_posterior()
    factors = []
    for name in names or found.CALIBRATED:
        parameter = model.parameter(name)
        prior = parameter.prior
        if posterior is not None and name in posterior.samples:
            low, high = np.quantile(posterior.samples[name], [0.05, 0.95])
        elif prior is not None:
            low, high = prior.low, prior.high
        else:
            raise RunError(f"parameter {name!r} has no posterior or prior range to vary over")
        log = bool(prior and prior.log and low > 0)
        factors.append(Factor(name, parameter.label, float(low), float(high), log))
    return factors


def lever_factors(model, scenario, timeline, *, spread: float = 0.5, shift: float = 2.0,
                  ranges: dict[str, tuple[float, float]] | None = None) -> list[Factor]:  # fmt: skip
    """Each lever's value (within ``spread`` of the written value) and start (within ``shift`` years) that can
    act in ``timeline``, the years simulated; a lever may run on past their end.

    An amount added keeps what it moves within its bounds for every value a run may give it: a driver's over
    the years, a parameter's over ``ranges`` (its factor's range), else its value.
    """
    ranges = ranges or {}
    factors = []
    last = timeline.end + 1 - 1 / timeline.steps_per_year  # the last step's start
    for i, lever in enumerate(scenario.levers):
        first = max(lever.start - shift, timeline.start)
        if first > last:
            continue  # starts after the years simulated, however shifted: no effect to measure
        kind, value = lever.action
        bounds = (model.driver(lever.lever) if _is_driver(model, lever.lever) else model.parameter(lever.lever)).bounds
        if kind == "scale":
            bounds = (0.0, math.inf)
        elif kind == "add":
            lowest, highest = _moved_values(model, scenario, lever.lever, timeline, first, ranges)
            bounds = (bounds[0] - lowest, bounds[1] - highest)
        low, high = (value * (1 - spread), value * (1 + spread)) if value else (0.0, spread)
        if kind == "add":
            low, high = min(low, high), max(low, high)
        low, high = max(low, bounds[0]), min(high, bounds[1])
        tag = f"lever{i + 1}.{lever.lever}"
        if high > low:
            factors.append(Factor(f"{tag}.{kind}", f"the {kind} value of lever {i + 1} on {lever.lever}", low, high,
                                  kind="lever value"))  # fmt: skip
        if min(lever.start + shift, last) > first:
            factors.append(Factor(f"{tag}.from", f"when lever {i + 1} on {lever.lever} starts (year)", first,
                                  min(lever.start + shift, last), kind="lever date"))  # fmt: skip
    return factors


#: the suffix of a path factor's name: the driver's future, as a quantile of its walk
FUTURE = ".future"


def path_factors(timeline, *, system=None) -> list[Factor]:
    """The future of each driver the system infers as a walk (``System.central_paths``), as the quantile of its
    spread a sample follows (5-95%), where the years simulated go beyond those calibrated."""
    from .systems import get_system

    found = get_system(system)
    last = found.record_end()
    if last is None or timeline.end <= last:
        return []
    return [Factor(f"{name}{FUTURE}", f"where {name} goes after {last} (a quantile of its walk)", 0.05, 0.95,
                   kind="path") for name in found.central_paths(timeline)]  # fmt: skip


def _moved_values(model, scenario, name: str, timeline, first: float,
                  ranges: dict[str, tuple[float, float]]) -> tuple[float, float]:  # fmt: skip
    """The lowest and highest value a lever on ``name`` may move: a driver's from ``first`` (the earliest the lever
    may start) on, a parameter's range."""
    if _is_driver(model, name):
        series = model.driver(name).series(timeline)[timeline.times >= first - 1e-9]
        return float(series.min()), float(series.max())
    value = scenario.parameters.get(name, model.parameter(name).value)
    return ranges.get(name, (value, value))


def _is_driver(model, name: str) -> bool:
    return any(d.name == name for d in model.drivers)


def _stacked_inputs(model, scenario, timeline, factors: list[Factor], rows: np.ndarray, paths: dict[str, np.ndarray]):
    """The rows' inputs, on the drivers' ``paths`` where the system infers them (``(rows or 1, years)`` each)."""
    from .scenarios.levers import compile_inputs

    parameters = {f.name: rows[:, i, None] for i, f in enumerate(factors) if f.kind == "parameter"}
    levered = [(i, f) for i, f in enumerate(factors) if f.kind.startswith("lever")]
    if not levered:  # the levers are as written: one set of driver series serves every row
        return compile_inputs(model, scenario, timeline, parameters, paths)
    compiled = [compile_inputs(model, _with_levers(scenario, levered, row), timeline,
                               paths={name: path[[r % len(path)]] for name, path in paths.items()})
                for r, row in enumerate(rows)]  # fmt: skip
    values = compile_inputs(model, scenario, timeline, parameters, paths).parameters
    # each row's series, (steps,) or (steps, 1, 1) on a path, side by side: (steps, rows, 1)
    drivers = {n: np.stack([c.drivers[n].reshape(-1) for c in compiled], axis=1)[..., None]
               for n in compiled[0].drivers}  # fmt: skip
    schedules = {
        n: tuple(np.stack([c.schedules[n][k] for c in compiled], axis=1)[..., None] for k in (0, 1))
        for n in compiled[0].schedules
    }
    return Inputs(timeline, drivers, values, schedules)


def _with_levers(scenario, levered: list[tuple[int, Factor]], row: np.ndarray):
    levers = list(scenario.levers)
    for column, factor in levered:
        index = int(factor.name.removeprefix("lever").split(".", 1)[0]) - 1
        lever = levers[index]
        if factor.kind == "lever date":
            moved = row[column] - lever.start
            until = None if lever.until is None else lever.until + moved
            levers[index] = lever.model_copy(update={"start": row[column], "until": until})
        else:
            levers[index] = lever.model_copy(update={lever.action[0]: row[column]})
    return dataclasses.replace(scenario, levers=tuple(levers))


def model_function(
    scenario, factors: list[Factor], outputs: list[str], *, start: int, end: int, backend: str = "mean",
    seed: int = 0, block: int = 2_000, progress=None, client=None, system=None,
) -> Callable[[np.ndarray], dict[str, np.ndarray]]:
    """The model as ``f(rows) -> {output: values}``: one member a row, measures over ``start..end``.

    Rows go in blocks of ``block``, on the workers of a Dask ``client`` when given;
    every row draws from one random stream, so where a block runs changes nothing.
    """
    steps = history_to(system, end).steps
    settings = dict(scenario=scenario, factors=factors, outputs=outputs, start=start, end=end, backend=backend,
                    seed=seed, system=system)  # fmt: skip

    def evaluate(rows: np.ndarray) -> dict[str, np.ndarray]:
        chunks = [rows[first : first + block] for first in range(0, len(rows), block)]
        if client is None:
            parts = []
            for chunk in chunks:
                parts.append(_block_outputs(chunk, **settings, progress=progress))
        else:
            futures = [client.submit(_block_outputs, chunk, pure=False, **settings) for chunk in chunks]
            parts = []
            for future, chunk in zip(futures, chunks, strict=True):
                parts.append(future.result())
                if progress:
                    progress(len(chunk) * steps)
        return {name: np.concatenate([part[name] for part in parts]) for name in outputs}

    return evaluate


def _block_outputs(rows: np.ndarray, *, scenario, factors, outputs, start, end, backend, seed, system=None,
                   progress=None):  # fmt: skip
    """The named outputs of one block of rows, each row one member (names: the system's ``sensitivity_outputs``)."""
    from .backends import get_backend
    from .backends.random import member_keys
    from .results import Results
    from .simulation import simulate
    from .systems import get_system

    chosen = get_system(system)
    model = chosen.model()
    timeline = history_to(chosen, end)
    model.check_timeline(timeline)
    quantiles = {f.name.removesuffix(FUTURE): rows[:, i] for i, f in enumerate(factors) if f.kind == "path"}
    paths = chosen.central_paths(timeline, quantiles)  # the calibrated history; after it, each row's quantile
    inputs = _stacked_inputs(model, scenario, timeline, factors, rows, paths)
    keys = np.repeat(member_keys(seed, 1), len(rows), axis=0)  # common random numbers: one stream for all rows
    backend = get_backend(backend, system)(model, keys, timeline)
    flows, stocks, clock = simulate(model, inputs, backend, len(rows), progress)
    window = Results.from_arrays(model, timeline, flows, stocks, clock=clock).outputs().sel(year=slice(start, end))
    found = {}
    for name in outputs:
        variable = chosen.sensitivity_outputs[name]
        how = chosen.measures[variable][0]
        values = window.sel(variable=variable)
        found[name] = (values.sum("year") if how == "sum" else values.max("year")).to_numpy()
    return found


def _share(index: float) -> float:
    """A Sobol index as the share of variance it is, in [0, 1]; estimates from few samples stray outside."""
    return min(max(index, 0.0), 1.0)


@dataclass(frozen=True)
class Sensitivity:
    """Indices of a scenario's outputs, the factors they were taken over, and the settings."""

    table: pd.DataFrame
    factors: list[Factor]
    settings: dict

    def top(self, output: str, count: int = 3) -> pd.DataFrame:
        """The factors that drive ``output`` most, by total index (Sobol) or mu_star (Morris)."""
        ranked = self.table[(self.table.output == output) & (self.table["index"] == RANKED_BY[self.settings["method"]])]
        return ranked.sort_values("value", ascending=False).head(count)

    def in_words(self) -> list[str]:
        """One sentence per output naming its top drivers, with how much each accounts for."""
        labels = {f.name: f.label for f in self.factors}
        start, end, method = self.settings["start"], self.settings["end"], self.settings["method"]
        lines = []
        for output in self.settings["outputs"]:
            top = self.top(output)
            words = self.settings["words"][output]
            if method == "sobol":
                parts = [f"{r.parameter} ({labels[r.parameter]}): {_share(r.value):.0%} of the variance with its "
                         f"interactions [{_share(r.low):.0%}-{_share(r.high):.0%}]"
                         + ("" if 0 <= r.value <= 1 else f" (estimated {r.value:.0%}: too few samples to say more)")
                         for r in top.itertuples()]  # fmt: skip
            else:
                parts = [f"{r.parameter} ({labels[r.parameter]}): moves it by {r.value:,.0f} on average"
                         for r in top.itertuples()]  # fmt: skip
            lines.append(f"{words[0].upper()}{words[1:]} {start}-{end} hang most on " + "; then ".join(parts) + ".")
        return lines

    def save(self, folder: Path, command: str = "") -> list[Path]:
        """Write ``indices.csv``, ``indices.png``, ``drivers.txt`` and ``sensitivity.json`` into ``folder``."""
        from . import __version__, plots

        folder.mkdir(parents=True, exist_ok=True)
        paths = [folder / name for name in ("indices.csv", "indices.png", "drivers.txt", "sensitivity.json")]
        self.table.to_csv(paths[0], index=False, float_format="%.6g")
        plots.sensitivity(self, paths[1])
        paths[2].write_text("\n".join(self.in_words()) + "\n", encoding="utf-8")
        meta = {"refuge": __version__, "command": command, **self.settings,
                "factors": [dataclasses.asdict(f) for f in self.factors]}  # fmt: skip
        paths[3].write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        return paths


def history_to(system, end: int):
    """The system's timeline from its first year to ``end``: what each sensitivity run simulates."""
    from .systems import get_system

    return dataclasses.replace(get_system(system).timeline, end=end)


@dataclass(frozen=True)
class Plan:
    """A sensitivity analysis checked and set out before any run: the scenario, its factors, the settings, and
    the model runs it takes (``rows``, in blocks of ``block`` rows) with the system they run on."""

    scenario: Scenario
    factors: list[Factor]
    settings: dict
    rows: int
    block: int
    system: object  # a System
    timeline: object  # the Timeline each run simulates


def plan(
    scenario="baseline", *, method: str = "sobol", samples: int | None = None, outputs: list[str] | None = None,
    start: int | None = None, end: int | None = None, backend: str = "mean", seed: int = 0, parameters: bool = True,
    levers: bool = True, spread: float = 0.5, shift: float = 2.0, block: int = 2_000, system=None,
) -> Plan:
    """Everything :func:`sensitivity` checks, and its factors and settings, without running anything (so an
    output folder can be checked against those settings first)."""
    from .output import refuse_beyond_memory
    from .scenarios import load_scenario
    from .systems import analyses_of, get_system, window

    analyses_of(system, "sensitivity")
    found = get_system(system)
    if backend not in ("mean", "counts"):
        raise RunError(f"--backend {backend!r}: sensitivity runs on mean or counts")
    offered = found.sensitivity_outputs
    outputs = list(outputs or list(offered)[:5])
    unknown = [o for o in outputs if o not in offered]
    if unknown:
        raise RunError(f"--output {unknown[0]!r} is not known; choose from {', '.join(offered)}")
    start, end = window(found, start, end)
    _known(method)
    model = found.model()
    chosen = load_scenario(scenario, system=system) if isinstance(scenario, str) else scenario
    timeline = history_to(found, end)
    factors = []
    if parameters:
        factors = [f for f in parameter_factors(model, system=system) if f.name not in chosen.parameters]
        factors += path_factors(timeline, system=system)
    if levers:
        ranges = {f.name: (f.low, f.high) for f in factors if f.kind == "parameter"}
        factors += lever_factors(model, chosen, timeline, spread=spread, shift=shift, ranges=ranges)
    samples = DEFAULT_SAMPLES[method] if samples is None else samples
    rows = runs(method, samples, len(factors))
    # the sample, the sampler's copies of it and the outputs; and a block's inputs, every driver and levered
    # parameter (two schedules) for each of its rows and steps
    series = len(model.drivers) + 2 * len({lever.lever for lever in chosen.levers})
    needed = 4 * rows * (len(factors) + len(outputs)) * 8 + min(rows, block) * timeline.steps * series * 8
    refuse_beyond_memory(needed, f"--samples {samples:,} ({rows:,} runs)", "take fewer samples")
    words = {name: found.measures[offered[name]][1] for name in outputs}
    settings = {"scenario": chosen.name, "definition": chosen.record(), "method": method, "samples": samples,
                "outputs": outputs, "words": words, "start": start, "end": end, "backend": backend, "seed": seed,
                "spread": spread, "shift": shift}  # fmt: skip
    return Plan(chosen, factors, settings, rows, block, found, timeline)


def sensitivity(scenario="baseline", *, progress=None, client=None, **settings) -> Sensitivity:
    """Sensitivity of a scenario's outputs over ``start..end`` to its calibrated parameters and levers.

    ``settings`` are :func:`plan`'s: ``samples`` defaults to 256 (Sobol) or 20
    trajectories (Morris). With a Dask ``client``, blocks of ``block`` rows run
    on its workers, with the same results. ``system`` (the North Korean one by
    default) must have a calibration.
    """
    return carry_out(plan(scenario, **settings), progress=progress, client=client)


def carry_out(planned: Plan, *, progress=None, client=None) -> Sensitivity:
    """Run a :func:`plan` and take its indices."""
    s = planned.settings
    evaluate = model_function(planned.scenario, planned.factors, s["outputs"], start=s["start"], end=s["end"],
                              backend=s["backend"], seed=s["seed"], progress=progress, client=client,
                              block=planned.block, system=planned.system)  # fmt: skip
    table = indices(planned.factors, evaluate, method=s["method"], samples=s["samples"], seed=s["seed"])
    return Sensitivity(table, planned.factors, s)


def runs(method: str, samples: int | None, factors: int) -> int:
    """Model runs (members) a sensitivity analysis costs (none for a method :func:`sensitivity` refuses)."""
    samples = DEFAULT_SAMPLES.get(method, 0) if samples is None else samples
    return samples * (factors + 2) if method == "sobol" else samples * (factors + 1)
