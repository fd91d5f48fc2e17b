"""Nested sampling with nautilus: independent runs, the model's evidence, and R-hat between runs.

Why nautilus (see ``docs/calibration.md``): the emcee ensembles mix slowly
along the posterior's ridges (autocorrelation up to ~80 steps), so R-hat read
walker by walker stays above 1.01 for hours. Nested sampling draws from the
prior inside shrinking bounds of higher likelihood instead of walking, so its
runs do not have to mix; nautilus learns those bounds with neural networks
and keeps every point it evaluated (importance nested sampling), and it takes
a vectorised likelihood, so a batch of points costs one run of the ``mean``
backend. It also estimates the marginal likelihood (the evidence), which
compares model structures honestly. dynesty calls the likelihood one point at
a time.

Each of ``settings.chains`` runs is independent (seed ``[seed, run]``), writes
its state to ``nested-K.h5`` as it goes (an interrupted run resumes there) and
yields weighted points. arviz's R-hat compares equal-weight draws of the runs,
each run's effective samples (its weights' Kish size) say how much it holds,
and the spread of their log-evidences is the sampling part of the evidence's
error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ....errors import RunError
from ..evidence import Claim
from .likelihood import Targets
from .posterior import Posterior
from .priors import Space
from .sampler import Evaluator, Settings, arviz_diagnostics

RUN = "nested-{}.h5"
#: Share of the evidence still held by the live set at which a run stops exploring (nautilus's default).
F_LIVE = 0.01


def prepare(out: Path, settings: Settings, targets: Targets, version: str, *, workers: int, client,
            stop_after: int | None, claims: list[Claim] | None, force: bool = False
            ) -> tuple[list[Path], list[bool], list[tuple]]:  # fmt: skip
    """The runs' files, whether each resumes (:func:`claim_run`), and the arguments of :func:`run` for each
    (the signature :mod:`.ensemble`'s takes: a nested run resumes exactly or not at all, whatever ``force``)."""
    paths = [out / RUN.format(k) for k in range(settings.chains)]
    resumed = [claim_run(p, settings, version) for p in paths]
    return paths, resumed, [(k, settings, str(paths[k]), stop_after, claims, version) for k in range(settings.chains)]


def run(k: int, settings: Settings, path: str, stop_after: int | None, claims: list[Claim] | None, version: str,
        queue=None) -> bool:
    """Run (or resume) run ``k`` until it is done, or for ``stop_after`` batches; whether it is done.

    After each batch of ``live`` likelihood calls the whole state is written to
    a new file that then replaces ``path`` (nautilus's own checkpoints rewrite
    the file in place, so a run killed while writing lost it). Progress goes to
    ``queue`` as ``(k, percent, best log-posterior)``, the percent estimated
    from the likelihood calls made (:func:`_percent`).
    """
    from nautilus import Sampler

    space = settings.space()
    evaluator = Evaluator(space, Targets(settings.until, claims, soft=settings.soft), workers=1, blind=settings.blind)
    path = Path(path)

    def start(resume: bool):
        return Sampler(_prior(space), evaluator, n_dim=space.ndim, n_live=settings.live, vectorized=True,
                       pass_dict=False, seed=[settings.seed, k], filepath=path if resume else None, resume=resume)

    try:
        sampler = start(path.exists())
    except BlockingIOError:
        raise RunError(f"{path} is open in another process that writes it: is the same calibration running?") from None
    except (OSError, KeyError, ValueError):  # not a run's state (damaged on disk): start again
        path.unlink()
        sampler = start(False)
    sampler.filepath = None  # this function writes the checkpoints
    batches = 0
    while stop_after is None or batches < stop_after:
        done = sampler.run(f_live=F_LIVE, n_eff=settings.effective, n_like_max=sampler.n_like + settings.live)
        batches += 1
        written = path.with_name(f"{path.stem}.tmp{path.suffix}")
        sampler.write(written, overwrite=True)
        os.replace(written, path)
        if queue is not None:
            queue.put((k, _percent(sampler, settings, done), float(np.max(np.concatenate(sampler.log_l)))))
        if done:
            return True
    return False


def _prior(space: Space):
    """The unit cube onto the prior's box (internal coordinates: the priors are uniform there)."""
    return lambda u: space.low + u * (space.high - space.low)


def _percent(sampler, settings: Settings, done: bool) -> int:
    """How far a run has got, estimated: nautilus needs about ``10 + 2 x dimensions`` times its live points in
    likelihood calls (measured: 43,100 calls for 15 dimensions and 1,000 live points; 4,200 for 6 and 200)."""
    if done:
        return 100
    return min(99, int(100 * sampler.n_like / (settings.live * (10 + 2 * sampler.n_dim))))


def claim_run(path: Path, settings: Settings, version: str) -> bool:
    """Whether ``path`` holds a run to resume: the same settings (emcee's steps aside) on the same data.

    Otherwise the run there is deleted and the note beside it (``nested-K.json``)
    rewritten, so the run starts afresh.
    """
    note = path.with_suffix(".json")
    mine = {"settings": settings.identity(), "data_version": version}
    try:
        same = path.exists() and json.loads(note.read_text(encoding="utf-8")) == mine
    except (OSError, ValueError):
        same = False
    if not same:
        path.unlink(missing_ok=True)
        note.write_text(json.dumps(mine, indent=1) + "\n", encoding="utf-8")
    return same


def read_run(path: Path, settings: Settings) -> dict:
    """A finished or interrupted run's weighted points (internal coordinates) and its evidence.

    nautilus keeps points in the unit cube and maps them through the prior as it
    reads them, so the reader needs the same prior; the likelihood is not called.
    """
    from nautilus import Sampler

    if not path.exists():
        raise RunError(f"no nested run in {path}: it stopped before its first batch; run the calibration again")
    space = settings.space()
    sampler = Sampler(_prior(space), lambda x: np.zeros(len(x)), n_dim=space.ndim, n_live=settings.live,
                      vectorized=True, pass_dict=False, filepath=str(path), resume=True)
    points, log_w, log_l = sampler.posterior()
    return {"points": points, "log_w": log_w, "log_l": log_l, "log_z": float(sampler.log_z),
            "n_eff": float(sampler.n_eff), "calls": int(sampler.n_like),
            "done": bool(sampler.explored and sampler.n_eff >= settings.effective)}


def equal_weight(runs: list[dict], draws: int, seed: int) -> np.ndarray:
    """``(runs, n, ndim)``: ``n`` draws from each run's weighted points, ``n`` at most the smallest run's ESS."""
    n = max(1, min(draws // len(runs), *(int(r["n_eff"]) for r in runs)))
    out = []
    for k, run in enumerate(runs):
        w = np.exp(run["log_w"] - run["log_w"].max())
        rows = np.random.default_rng([seed, k, 0xD4A3]).choice(len(w), size=n, p=w / w.sum())
        out.append(run["points"][rows])
    return np.stack(out)


def diagnostics(runs: list[dict], draws: np.ndarray, space: Space) -> dict:
    """The evidence of each run and its spread, and arviz's R-hat and bulk ESS between the runs' draws.

    The draws are independent within a run, so this bulk ESS counts them and says
    little more; each run's own effective samples (its weights' Kish size) say how
    much information it holds.
    """
    log_z = [round(r["log_z"], 3) for r in runs]
    out = {"log_evidence": round(float(np.mean(log_z)), 3),
           "log_evidence_runs": log_z,
           "log_evidence_spread": round(float(np.std(log_z, ddof=1)), 3) if len(runs) > 1 else None,
           "effective_samples_runs": [round(r["n_eff"]) for r in runs],
           "likelihood_calls": sum(r["calls"] for r in runs),
           "rhat_max": None}
    if len(runs) < 2 or draws.shape[1] < 4:
        return out
    found = arviz_diagnostics(draws, space)
    return {**out, "rhat_max": found["rhat_max"], "arviz_ess_bulk_min": found["ess_bulk_min"],
            "arviz_per_parameter": found["per_parameter"]}


def posterior(paths: list[Path], space: Space, settings: Settings, provenance: dict) -> Posterior:
    """Equal-weight draws pooled from every run, with the runs' evidence and diagnostics."""
    import nautilus
    import pandas as pd

    runs = [read_run(path, settings) for path in paths]
    draws = equal_weight(runs, settings.samples, settings.seed)
    samples = pd.DataFrame(space.values(draws.reshape(-1, space.ndim)), columns=list(space.names))
    provenance = {
        **provenance,
        "sampler": f"nautilus {nautilus.__version__} x {settings.chains} independent runs, {settings.live} live "
        f"points, vectorised likelihood",
        "samples": len(samples),
        **diagnostics(runs, draws, space),
        "complete": all(r["done"] for r in runs),
    }
    return Posterior(samples, provenance)
