"""The work of one job, done in a process of its own: a run or a comparison into the job's folder.

The server forks each job from a process that has the model imported, so a run
that crashes, or is killed for running too long, ends that process alone. A job
speaks to the server only through files in its own folder: ``progress`` (member-weeks
done), ``result.json`` (chart data) or ``error.txt`` (a message fit to show anyone).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

import matplotlib.pyplot  # noqa: F401  (this module is preloaded: forked jobs start with all they use imported)
import pyarrow.parquet  # noqa: F401

from .. import compare as comparison
from .. import output, plots, report  # noqa: F401
from ..systems import get_system

with contextlib.suppress(ImportError):
    import dask.array  # noqa: F401  (xarray reaches for it when it opens results, where it is installed)
from ..errors import RefugeError
from ..scenarios import scenario_from_text

get_system().analyses()  # the default system's calibration, imported once here for every job forked from this

#: shown when a job fails in a way refuge did not foresee; the details go to the server's log only
INTERNAL = "the run failed inside refuge (an internal error); the server's log has the details"


def main(kind: str, spec: dict, folder: Path) -> None:
    """Do one job; whatever happens, leave ``result.json`` or ``error.txt`` behind."""
    folder = Path(folder)
    quiet = folder / "cwd"
    quiet.mkdir()
    os.chdir(quiet)  # a scenario name the report looks up as a file finds nothing of the server's
    try:
        result = (run if kind == "run" else compare)(spec, folder, FileProgress(folder / "progress"))
        _write(folder / "result.json", json.dumps(result, allow_nan=False))
    except RefugeError as err:
        _write(folder / "error.txt", str(err))
    except Exception:
        traceback.print_exc(file=sys.stderr)
        _write(folder / "error.txt", INTERNAL)


def run(spec: dict, folder: Path, progress) -> dict:
    """One scenario as an ensemble: ``run/`` with tables, plots and ``report.html``; bands for the charts."""
    system = spec.get("system")
    scenario = scenario_from_text(spec["yaml"], "scenario", system=system)
    results = output.run_to_folder(scenario, folder / "run", members=spec["members"], seed=spec["seed"],
                                   backend=spec["backend"], block=2_000, progress=progress, system=system)  # fmt: skip
    report.write_report(folder / "run", system, scenario.name)
    return {"scenario": scenario.name, "charts": run_charts(results, system)}


def run_charts(results, system: str | None = None) -> dict:
    """Median, 50% and 90% bands by year of what the page draws, and the record of arrivals."""

    def bands(variable: str) -> dict:
        table = results.quantiles(variable)
        return {"year": [int(y) for y in table.index], **{c: _floats(table[c]) for c in table.columns},
                "predictive": bool(results.predictive(variable))}  # fmt: skip

    chosen = get_system(system)
    model = chosen.model()
    record = chosen.analyses().record()
    return {
        "arrivals": bands(chosen.headline),
        "headline": model.output(chosen.headline).label,
        "record": {"year": [int(y) for y in record.index], "total": _floats(record["total"])},
        "charts": [{"title": title, "unit": "years" if model.output(names[0]).clock else "people",
                    "series": {model.output(name).label: bands(name) for name in names}}
                   for title, names in chosen.charts.items()],
        "backend": results.data.attrs.get("backend"),
    }


def compare(spec: dict, folder: Path, progress) -> dict:
    """Scenarios with one seed, member against member: ``compare/`` with its files and report; differences."""
    from .. import __version__
    from ..simulation import run as simulate
    from ..store import publish_folder

    system = spec.get("system")
    scenarios = [scenario_from_text(text, f"scenario {i + 1}", system=system)
                 for i, text in enumerate(spec["scenarios"])]  # fmt: skip
    names = _unique([s.name for s in scenarios])
    results = {name: simulate(s, members=spec["members"], seed=spec["seed"], backend=spec["backend"], progress=progress,
                              system=system) for name, s in zip(names, scenarios, strict=True)}  # fmt: skip
    start, end = spec["start"], spec["end"]
    effects = comparison.effects(results, start, end, system)
    differences = comparison.yearly_differences(results, start - 5, end, system)
    meta = {"refuge": __version__, "scenarios": names, "members": spec["members"], "seed": spec["seed"],
            "backend": spec["backend"], "start": start, "end": end,
            "definitions": comparison.definitions(dict(zip(names, scenarios, strict=True)))}  # fmt: skip
    publish_folder(folder / "compare", meta,
                   lambda staging: comparison.save(staging, effects, differences, start, meta, system))  # fmt: skip
    report.write_report(folder / "compare", system, f"{', '.join(names[1:])} against {names[0]}")
    measures = get_system(system).measures
    words = {measure: words for measure, (_, words) in measures.items()}
    yearly = {measure: dict(zip(("title", "unit"), comparison.yearly_words(how, words), strict=True))
              for measure, (how, words) in measures.items()}  # fmt: skip
    return {
        "scenarios": names,
        "band": comparison.BAND_WORDS,
        "effects": json.loads(effects.to_json(orient="records")),
        "differences": json.loads(differences.to_json(orient="records")),
        "measures": words,
        "yearly": yearly,
    }


def _unique(names: list[str]) -> list[str]:
    """Names made distinct (``baseline``, ``baseline-2``) so that two versions of one scenario can be compared."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return out


def _floats(column) -> list[float | None]:
    return [None if v != v else round(float(v), 4) for v in column]


class FileProgress:
    """A progress callback that writes member-weeks done to a file, a few times a second at most."""

    def __init__(self, path: Path) -> None:
        self.path, self.done, self.written = path, 0, 0.0

    def __call__(self, steps: int) -> None:
        self.done += steps
        now = time.monotonic()
        if now - self.written > 0.2:
            self.written = now
            _write(self.path, str(self.done))


def _write(path: Path, text: str) -> None:
    """Whole or not at all: the server may read the file at any moment."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
