"""One self-contained HTML report of a results folder, to hand to a colleague.

``refuge report DIR`` reads what a run, a comparison, a sensitivity analysis,
a calibration or a backtest wrote into ``DIR`` and writes ``DIR/report.html``:
the scenarios and their levers in words, the summary tables, every plot
(embedded as base64 PNG), the provenance of every parameter, the calibration
behind the run, and the command, version and seed that made it. It links to
nothing: it opens the same on a laptop without a network, attached to an email.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
from pathlib import Path

import pandas as pd

from .errors import RunError
from .results import Results
from .store import Manifest, add_derived, check_derived, write_text
from .systems import System, analyses_of, get_system

#: files that say what kind of folder this is, in the order they are looked for
KINDS = {
    "results.nc": "run",
    "compare.csv": "comparison",
    "sensitivity.json": "sensitivity",
    "scores.csv": "backtest",
    "fit_summary.json": "calibration",
}

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: right; vertical-align: top; }
th { background: #f3f3f3; } td.text, th.text { text-align: left; }
img { max-width: 100%; } code, pre { background: #f6f6f6; padding: 0.1rem 0.3rem; }
.note { color: #555; font-size: 0.9rem; }
"""


def write_report(folder: Path, system: str | System | None = None, name: str | None = None) -> Path:
    """Write ``folder/report.html`` from what the folder holds; return its path.

    ``system`` (the North Korean one by default) wrote the folder; it must have a calibration
    (:func:`~refuge.systems.analyses_of`), whose record and posterior the report shows. The page is
    titled ``name``, or the folder's name (the web app's job folders are all called ``run``).
    """
    system = get_system(system)
    analyses_of(system, "report")
    folder = Path(folder)
    if not folder.is_dir():
        raise RunError(f"{folder} is not a folder; give a folder written by refuge run, compare, sensitivity, "
                       "calibrate or a backtest")  # fmt: skip
    kinds = [kind for marker, kind in KINDS.items() if (folder / marker).exists()]
    if not kinds:
        ours = Manifest.read(folder) is not None
        written = "was written by refuge, but by none of those verbs" if ours else "is not a refuge results folder"
        raise RunError(f"{folder} holds none of {', '.join(KINDS)}: it {written}; report covers folders of refuge "
                       "run, compare, sensitivity, calibrate and backtest")  # fmt: skip
    body = []
    for kind in kinds:
        body += _SECTIONS[kind](folder, system)
    body += _plots(folder)
    body += _provenance(folder, system)
    title = f"refuge {' and '.join(kinds)}: {name or folder.resolve().name}"
    page = (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{_e(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<h1>{_e(title)}</h1>\n"
        + "\n".join(body)
        + f"\n<p class='note'>Written {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by refuge {_version()}.</p>"
        "\n</body>\n</html>\n"
    )
    check_derived(folder / "report.html")
    path = write_text(folder / "report.html", page)
    add_derived(path)
    return path


# -- sections by kind of folder ------------------------------------------------------------------------------------


def _run(folder: Path, system: System) -> list[str]:
    meta = _json(folder / "run.json")
    out = ["<h2>Run</h2>",
           _scenario_words(meta["scenario"], system, meta.get("levers", []), meta.get("parameters", {}),
                           source=_file_source(meta))]  # fmt: skip
    out.append(_settings(meta, ("members", "backend", "seed", "block", "member_parameters", "bands")))
    out.append(_command(meta.get("command") or _run_command(meta, folder)))
    model = system.model()
    results = Results.open(folder / "results.nc", model)
    predictive = meta.get("bands", "predictive") == "predictive"  # the bands the run's plots and summary show
    headline = results.quantiles(system.headline, predictive=predictive)
    record = system.analyses().record()["total"]
    table = pd.DataFrame({
        "median": headline.q50,
        "5%": headline.q05,
        "95%": headline.q95,
        "record": record.reindex(headline.index),
    })  # fmt: skip
    stock = next(iter(system.charts.values()))[0]  # the first the web page draws after the headline
    table[f"{model.output(stock).label} (median)"] = results.output(stock).median("member").to_pandas()
    table.index.name = "year"
    label = model.output(system.headline).label
    band = ("90% predictive interval (the model's misfit included)" if predictive and results.predictive(
        system.headline) else "90% band of the ensemble alone")  # fmt: skip
    out.append(f"<h3>{_e(label[0].upper() + label[1:])} per year: median and {band}, beside the record</h3>")
    out.append(_table(table.round(0), index=True))
    return out


def _comparison(folder: Path, system: System) -> list[str]:
    meta = _json(folder / "compare.json") if (folder / "compare.json").exists() else {}
    table = pd.read_csv(folder / "compare.csv")
    names = list(dict.fromkeys(table.scenario))
    out = ["<h2>Comparison</h2>"]
    if meta:
        out.append(_settings(meta, ("start", "end", "members", "backend", "seed", "band")))
        out.append(_command(meta.get("command", "")))
    out.append(f"<p>Reference: <b>{_e(names[0])}</b>. Changes are taken member by member against it, so each "
               "member sees the same random numbers in every scenario until its levers act.</p>")  # fmt: skip
    recorded = meta.get("definitions", {})  # Scenario.record() of each (none before they were recorded)
    out += [_scenario_words(name, system, **recorded.get(name, {})) for name in names]
    out.append(_table(table))
    return out


def _sensitivity(folder: Path, system: System) -> list[str]:
    meta = _json(folder / "sensitivity.json")
    out = ["<h2>Sensitivity</h2>", _scenario_words(meta["scenario"], system, **meta.get("definition", {}))]
    out.append(_settings(meta, ("method", "samples", "start", "end", "backend", "seed", "spread", "shift")))
    out.append(_command(meta.get("command", "")))
    if (folder / "drivers.txt").exists():
        lines = (folder / "drivers.txt").read_text(encoding="utf-8").splitlines()
        out.append("<h3>Top drivers</h3><ul>" + "".join(f"<li>{_e(line)}</li>" for line in lines if line) + "</ul>")
    factors = pd.DataFrame(meta.get("factors", []))
    if len(factors):
        out.append("<h3>Factors and the ranges they were varied over</h3>")
        out.append(_table(factors))
    out.append("<h3>Indices (95% intervals)</h3>")
    out.append(_table(pd.read_csv(folder / "indices.csv")))
    return out


def _backtest(folder: Path, system: System) -> list[str]:
    out = ["<h2>Backtest scores</h2>"]
    meta_path = next((p for p in (folder / "backtest.json", folder / "settings.json") if p.exists()), None)
    if meta_path:
        meta = _json(meta_path)
        out.append(_settings(meta, [k for k in meta if not isinstance(meta[k], dict | list)]))
        out.append(_command(meta.get("command", "")))
    out.append(_table(pd.read_csv(folder / "scores.csv")))
    return out


def convergence(meta: dict) -> str:
    """How far a posterior's sampler converged, in its own terms (nested runs, or emcee's chains and walkers)."""
    if "log_evidence" in meta:
        if meta.get("rhat_max") is None:
            return f"one nested run (no R-hat without a second), log-evidence {meta['log_evidence']}"
        return (f"R-hat between its {meta.get('settings', {}).get('chains', '?')} independent runs at most "
                f"{meta['rhat_max']}, effective samples of the runs {meta.get('effective_samples_runs', '?')}, "
                f"log-evidence {meta['log_evidence']}")
    walkers = "" if meta.get("arviz_rhat_max") is None else (
        f", up to {meta['arviz_rhat_max']} read walker by walker (arviz; converged would be under 1.01)")
    chains = meta.get("settings", {}).get("chains")
    between = (f"R-hat between its chains at most {meta['rhat_max']}" if meta.get("rhat_max") is not None
               else "one chain (no R-hat between chains without a second)" if chains == 1
               else "no R-hat between chains recorded")  # fmt: skip
    return f"acceptance {meta.get('acceptance', float('nan')):.2f}, {between}{walkers}"


def _calibration(folder: Path, system: System) -> list[str]:
    out = ["<h2>Calibration fit</h2>"]
    meta = _json_or_empty(folder / "posterior.json")
    if meta:
        given = meta.get("settings", {})
        acceptance = meta.get("acceptance")
        shown = {"until": given.get("until"), "samples": meta.get("samples"),
                 "acceptance": None if acceptance is None else round(acceptance, 3), "R-hat max": meta.get("rhat_max"),
                 "R-hat max, walker by walker": meta.get("arviz_rhat_max") if "log_evidence" not in meta else None,
                 "effective samples of the runs": meta.get("effective_samples_runs"),
                 "log-evidence": meta.get("log_evidence"),
                 "sampler": meta.get("sampler"), "seed": given.get("seed"), "data version": meta.get("data_version"),
                 "created": meta.get("created"), "refuge": meta.get("refuge")}  # fmt: skip
        out.append(_settings({k: v for k, v in shown.items() if v is not None}, [k for k in shown if k != "refuge"]))
        if given.get("sampler") == "nautilus":
            out.append(_command(
                f"refuge calibrate --until {given['until']} --sampler nautilus --chains {given['chains']} "
                f"--live {given['live']} --seed {given['seed']} --out {folder}"
            ))  # fmt: skip
        elif {"until", "walkers", "chains", "steps", "seed", "screen"} <= set(given):
            out.append(_command(
                f"refuge calibrate --until {given['until']} --sampler emcee "
                f"--particles {given['walkers'] * given['chains']} "
                f"--chains {given['chains']} --steps {given['steps']} --seed {given['seed']} "
                f"--screen {given['screen']} --out {folder}"
            ))  # fmt: skip
    summary = _json(folder / "fit_summary.json")
    rows = [{"sample": k, **v} for k, v in summary.items() if isinstance(v, dict) and "mape_median_pct" in v]
    if rows:
        out.append(_table(pd.DataFrame(rows)))
    share = summary.get("female_share")
    if isinstance(share, dict) and share.get("n_years"):
        missed = ", ".join(map(str, share.get("misses", []))) or "none"
        out.append(f"<p>Female share of arrivals within 5 points of the record in {_e(share['within_5_points'])} "
                   f"of {_e(share['n_years'])} years ({_e(share['years'])}; missed: {_e(missed)}).</p>")
    if summary.get("time_abroad"):
        out.append("<h3>Time abroad before arrival: model against the surveys</h3>")
        out.append(_table(pd.DataFrame(summary["time_abroad"])))
    if (folder / "parameters.csv").exists():
        out.append("<h3>Posterior of the calibrated parameters</h3>")
        out.append(_table(pd.read_csv(folder / "parameters.csv")))
    return out


_SECTIONS = {
    "run": _run,
    "comparison": _comparison,
    "sensitivity": _sensitivity,
    "backtest": _backtest,
    "calibration": _calibration,
}


# -- shared parts -------------------------------------------------------------------------------------------------


def _file_source(meta: dict) -> str | None:
    """The file a run's scenario was read from, if it was a file (a built-in is looked up by its name)."""
    source = meta.get("source", "")
    return None if not source or source.startswith("built-in") else source


def _scenario_words(name: str, system: System, levers: list[dict] | None = None, parameters: dict | None = None,
                    description: str | None = None, source: str | None = None) -> str:
    """A scenario and its levers in sentences, from the run's record or else from its definition.

    A recorded scenario without its description borrows the description of the scenario of that name (or
    of its ``source`` file) only if their levers and parameters are the same: an upload may share a
    built-in's name.
    """
    from .errors import ScenarioError
    from .scenarios import load_scenario
    from .scenarios.schema import lever_in_words, parameter_in_words

    model = system.model()
    try:
        scenario = load_scenario(source or name, system=system)
    except ScenarioError:  # a scenario file moved since: say what the run recorded
        scenario = None
    if levers is None and scenario is None:
        return f"<h3>Scenario {_e(name)}</h3><p class='note'>Its definition is not at hand.</p>"
    if description is None:
        same = scenario is not None and (levers is None or (
            [lever.model_dump(by_alias=True) for lever in scenario.levers] == levers
            and dict(scenario.parameters) == (parameters or {})))
        description = scenario.description if same else ""
    if levers is None:
        levers = [lever.model_dump(by_alias=True) for lever in scenario.levers]
        parameters = scenario.parameters
    labels = {d.name: d.label for d in model.drivers} | {p.name: p.label for p in model.parameters}
    items = []
    for lever in levers:
        kind = next(k for k in ("set", "scale", "add") if lever.get(k) is not None)
        words = lever_in_words(lever["lever"], labels.get(lever["lever"], ""), kind, lever[kind], lever["from"],
                               lever.get("until"))  # fmt: skip
        items.append(f"<li>{_e(words)}</li>")
    for key, value in (parameters or {}).items():
        items.append(f"<li>{_e(parameter_in_words(key, labels.get(key, ''), value))}</li>")
    text = f"<h3>Scenario {_e(name)}</h3>"
    if description:
        text += f"<p>{_e(' '.join(description.split()))}</p>"
    if items:
        return text + "<ul>" + "".join(items) + "</ul>"
    return text + "<p>The baseline: history as recorded, then today's policies held, with no levers.</p>"


def _plots(folder: Path) -> list[str]:
    images = sorted(folder.glob("*.png"))
    if not images:
        return []
    out = ["<h2>Plots</h2>"]
    for image in images:
        data = base64.b64encode(image.read_bytes()).decode("ascii")
        out.append(f"<figure><img alt='{_e(image.stem)}' src='data:image/png;base64,{data}'>"
                   f"<figcaption class='note'>{_e(image.name)}</figcaption></figure>")  # fmt: skip
    return out


def _provenance(folder: Path, system: System) -> list[str]:
    """Every parameter the model used, its value and its evidence; the posterior the members were drawn from."""
    posterior = system.analyses().shipped_posterior()
    meta = _json_or_empty(folder / "run.json")
    calibrated = posterior is not None and "defaults" not in meta.get("member_parameters", "posterior")
    overrides = meta.get("parameters", {})  # the scenario's own values, which every member used
    rows = []
    for p in system.model().parameters:
        row = {"name": p.name, "default": number(p.value), "unit": p.unit, "meaning": p.label}
        if p.name in overrides:
            row["used (posterior 5% / 50% / 95%)"] = f"{number(overrides[p.name])} (the scenario's)"
        elif calibrated and p.name in posterior.samples:
            q = posterior.samples[p.name].quantile([0.05, 0.5, 0.95])
            row["used (posterior 5% / 50% / 95%)"] = " / ".join(number(v) for v in q)
        else:
            row["used (posterior 5% / 50% / 95%)"] = "default"
        row["evidence"] = "; ".join(str(e) for e in p.evidence)
        rows.append(row)
    out = ["<h2>Parameters and their provenance</h2>"]
    if calibrated:
        made = posterior.provenance
        out.append(
            f"<p>Members draw whole samples from the shipped posterior, calibrated to the record up to "
            f"{_e(made.get('settings', {}).get('until', '?'))} ({_e(made.get('samples', '?'))} samples, "
            f"{_e(convergence(made))}, sampler {_e(made.get('sampler', '?'))}, "
            f"data version {_e(made.get('data_version', '?'))}, "
            f"made {_e(made.get('created', '?'))}). Other parameters keep their defaults, and those the "
            "scenario sets take its values.</p>"
        )
    out.append(_table(pd.DataFrame(rows), text=("name", "unit", "meaning", "evidence")))
    return out


def _settings(meta: dict, keys) -> str:
    cells = "".join(f"<tr><th class='text'>{_e(k)}</th><td class='text'>{_e(meta[k])}</td></tr>" for k in keys
                    if k in meta)  # fmt: skip
    return f"<table>{cells}<tr><th class='text'>refuge version</th><td class='text'>" \
           f"{_e(meta.get('refuge', _version()))}</td></tr></table>"  # fmt: skip


def _command(command: str) -> str:
    return f"<p>Command: <code>{_e(command)}</code></p>" if command else ""


def _run_command(meta: dict, folder: Path) -> str:
    """The command that makes this run again, from its recorded settings."""
    scenario = _file_source(meta) or meta["scenario"]
    parts = ["refuge", "run", scenario, "--members", str(meta["members"]), "--seed", str(meta["seed"]),
             "--backend", meta["backend"], "--out", str(folder)]  # fmt: skip
    if meta.get("member_parameters") == "defaults":
        parts.append("--defaults")
    if meta.get("trajectories"):
        parts.append("--trajectories")
    if meta.get("bands") == "ensemble":
        parts.append("--ensemble-bands")
    return " ".join(parts)


def _table(frame: pd.DataFrame, *, index: bool = False, text=("scenario", "measure", "output", "parameter")) -> str:
    body = frame.to_html(index=index, border=0, na_rep="", float_format=number, escape=True)
    for column in text:
        body = body.replace(f"<th>{column}</th>", f"<th class='text'>{column}</th>")
    return body


def number(x: float) -> str:
    """A table's number as a reader wants it: whole people in full with thousands separators (10,552, not
    1.055e+04), smaller figures to four significant digits (0.1234, 3.2e-07)."""
    return f"{x:,.0f}" if abs(x) >= 1_000 else f"{x:.4g}"


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise RunError(f"{path}: cannot be read as JSON ({err})") from None


def _json_or_empty(path: Path) -> dict:
    return _json(path) if path.exists() else {}


def _version() -> str:
    from . import __version__

    return __version__


def _e(value) -> str:
    return html.escape(str(value), quote=True)
