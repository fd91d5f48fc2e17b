"""Bayesian calibration: the settings, the batched log-posterior, and the run of a sampler's chains side by side.

Two samplers plug in, each a module with ``prepare``, ``run`` and ``posterior``:
nested sampling runs with nautilus (:mod:`.nested`, the default: independent
runs that agree within minutes, with the evidence) and emcee's ensembles
(:mod:`.ensemble`). Both hand the likelihood a batch of points at a time, which
the model's ``mean`` backend evaluates in one pass, and both write their state
as they go, so an interrupted calibration resumes where it stopped.

The steps of :func:`calibrate`:

1. build the targets up to ``until`` and the parameter space with its priors;
2. the sampler prepares its runs or chains in ``out``: those of the same
   settings and evidence resume, the others start afresh;
3. run them side by side (one per worker process, or per Dask worker),
   reporting progress as the slowest advances;
4. the sampler pools their samples, which are saved with their provenance
   (``posterior.csv``, ``posterior.json``) and each sample's latent paths.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ....backends.compiled import one_thread
from ....errors import RunError
from ....limits import MAX_SAMPLER_SEED
from ....store import claim_folder
from ..drivers import LATENT
from ..evidence import Claim, data_version, record_end
from .latent import sample_paths
from .likelihood import Targets, simulate_routes
from .posterior import Posterior, latent_table
from .priors import (
    CALIBRATED,
    LATENT_STEPS,
    PERMEABILITY_LEVEL,
    PERMEABILITY_PERSISTENCE,
    SIGMA_ARRIVALS,
    Space,
    level,
    parameter_space,
    persistence,
)

SAMPLERS = ("emcee", "nautilus")


#: settings only one sampler reads: the other's leave a calibration what it is
_EMCEE_ONLY = ("walkers", "screen", "thin", "refine")
_NAUTILUS_ONLY = ("live", "effective", "samples")


#: the values each budget setting may take
_BOUNDS = {"chains": (1, 64), "live": (100, 100_000), "effective": (100, 1_000_000), "samples": (100, 1_000_000),
           "walkers": (2, 100_000), "steps": (2, 1_000_000), "screen": (1, 10_000_000), "thin": (1, 1_000),
           "refine": (0, 100)}  # fmt: skip


def identity_of(settings: dict) -> dict:
    """The settings that make two calibrations one: those of the sampler they ran, but emcee's steps, which a
    resumed calibration may extend (``--particles`` is no part of a nested run's)."""
    ignored = {"steps", *(_NAUTILUS_ONLY if settings.get("sampler") == "emcee" else _EMCEE_ONLY)}
    return {key: value for key, value in settings.items() if key not in ignored}


def check_sampler(name: str) -> None:
    if name not in SAMPLERS:
        raise RunError(f"sampler must be one of {', '.join(SAMPLERS)}, not {name!r}")


def check_seed(seed: int) -> None:
    if not 0 <= seed <= MAX_SAMPLER_SEED:
        raise RunError(f"seed must be 0 to {MAX_SAMPLER_SEED:,} (the samplers take 32 bits), not {seed}")


@dataclass(frozen=True)
class Settings:
    """What a calibration was asked for; a run or chain resumes only under the same settings (emcee's steps aside)."""

    until: int = 2025
    walkers: int = 64
    chains: int = 2
    steps: int = 400
    screen: int = 4000
    seed: int = 0
    thin: int = 5
    refine: int = 3
    names: tuple[str, ...] = CALIBRATED
    soft: bool = True  # fit the soft evidence (hiding in China, deportations) as well as arrivals
    blind: bool = False  # drivers know nothing dated after ``until`` (a forecast's calibration)
    sampler: str = "nautilus"  # ``chains`` independent nested sampling runs (:mod:`.nested`), or "emcee"
    live: int = 850  # nautilus: live points of each run (the CLI's ``LIVE``)
    effective: int = 2000  # nautilus: effective samples each run gathers before it stops
    samples: int = 5000  # nautilus: equal-weight draws kept from the runs together
    steady: tuple[str, ...] = ()  # walks' steps held at their prior's lowest: a structure to compare by evidence
    #: the model a calibration fits, counted up when it changes under the same settings, so that what was
    #: calibrated before is not resumed as this (2: blind drivers know nothing from the year after ``until``; 3: nor
    #: knots reported after it, and the 1990s split by sex is fitted as a ratio; 4: the broker fee in dollars, tried
    #: and reverted; 5: women and men leave hiding in China at their own rates; 6: the walks' linearisation is a
    #: tangent, not a secant to twice the permeability; 7: the route's permeability drawn back to 0, tried and not
    #: shipped; 8: drawn back to a calibrated level)
    model_version: int = 8

    @property
    def progress_total(self) -> int:
        """The work :func:`calibrate`'s ``progress`` counts to: steps of each chain, or percent of each run."""
        return self.steps if self.sampler == "emcee" else 100

    def check(self) -> None:
        unknown = sorted(set(self.steady) - set(LATENT_STEPS))
        if unknown:
            raise RunError(f"steady must name latent steps ({', '.join(LATENT_STEPS)}), not {', '.join(unknown)}")
        check_sampler(self.sampler)
        if not 1995 <= self.until <= record_end():
            raise RunError(f"until must be a year from 1995 to {record_end()} (the record's span), not {self.until}")
        check_seed(self.seed)
        mine = _NAUTILUS_ONLY if self.sampler == "nautilus" else (*_EMCEE_ONLY, "steps")
        for name in ("chains", *mine):  # beyond the largest, a calibration takes weeks: a slip of the keyboard
            low, high = _BOUNDS[name]
            if not low <= getattr(self, name) <= high:
                raise RunError(f"{name} must be {low:,} to {high:,}, not {getattr(self, name):,}")
        if self.sampler == "nautilus":
            return
        ndim = len(self.space().names)
        if self.walkers < 2 * ndim or self.walkers % 2:
            raise RunError(f"walkers must be even and at least {2 * ndim} (twice the parameters), not {self.walkers}")
        if self.screen < self.walkers * self.chains:
            raise RunError(f"screen must be at least walkers x chains ({self.walkers * self.chains}), "
                           f"not {self.screen}")

    def space(self) -> Space:
        return parameter_space(tuple(self.names), steady=tuple(self.steady))

    def identity(self) -> dict:
        """What makes two calibrations one, as JSON reads it (:func:`identity_of`)."""
        return identity_of(json.loads(json.dumps(asdict(self))))


def _simulate_chunk(names: tuple[str, ...], values: np.ndarray, until: int, blind: int | None = None,
                    centre: np.ndarray | None = None) -> np.ndarray:
    return simulate_routes({n: values[:, i] for i, n in enumerate(names)}, until, blind, centre)


class Evaluator:
    """The log-posterior of a batch of points, splitting the batch over worker processes or a Dask client.

    ``workers=1`` evaluates in this process. A Dask ``client`` (``dask.distributed.Client``)
    takes precedence over ``workers`` when given.
    """

    def __init__(self, space: Space, targets: Targets, *, workers: int = 1, client=None, blind: bool = False):
        self.space, self.targets, self.workers, self.client = space, targets, workers, client
        self.blind = targets.until if blind else None
        self.model_index = [space.names.index(n) for n in space.model_names]
        self.sigma_index = space.names.index(SIGMA_ARRIVALS)
        self.step_index = [space.names.index(n) for n in LATENT_STEPS]
        self.persistence_index = space.names.index(PERMEABILITY_PERSISTENCE)
        self.level_index = space.names.index(PERMEABILITY_LEVEL)
        self._pool = ProcessPoolExecutor(workers, initializer=one_thread) if workers > 1 and client is None else None
        self.calls = 0
        self.evaluations = 0

    def simulate(self, values: np.ndarray, centre: np.ndarray | None = None) -> np.ndarray:
        """Model outputs of a batch of parameter values (natural units), ``(n, years, columns, 2)``.

        ``centre``: each member's latent paths (logarithms) to run about (see :func:`simulate_routes`).
        """
        names = self.space.model_names
        model_values = values[:, self.model_index]
        parts = max(1, self.workers if self.client is None else len(self.client.scheduler_info()["workers"]))
        split = [c for c in np.array_split(np.arange(len(values)), parts) if len(c)]
        chunks = [model_values[c] for c in split]
        centres = [None if centre is None else centre[c] for c in split]
        n = len(chunks)
        args = ([names] * n, chunks, [self.targets.until] * n, [self.blind] * n, centres)
        if self.client is not None:
            results = self.client.gather(self.client.map(_simulate_chunk, *args, pure=False))
        elif self._pool is not None and n > 1:
            results = list(self._pool.map(_simulate_chunk, *args))
        else:
            results = [_simulate_chunk(names, model_values, self.targets.until, self.blind, centre)]
        return np.concatenate(results, axis=0)

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        theta = np.atleast_2d(theta)
        out = self.space.log_prior(theta)
        inside = np.isfinite(out)
        if inside.any():
            values = self.space.values(theta[inside])
            sims = self.simulate(values)
            out[inside] += self.targets.log_likelihood(sims, values[:, self.sigma_index], *self.walks(values))
        self.calls += 1
        self.evaluations += int(inside.sum())
        return out

    def walks(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The latent walks' steps, persistence and level of a batch of parameter values, each ``(n, dims)``."""
        n = len(values)
        return (values[:, self.step_index], persistence(values[:, self.persistence_index], n),
                level(values[:, self.level_index], n))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()


Progress = Callable[[int, int, float], None]


#: what a calibration writes into its folder (``refuge report`` may add its page)
FILES = ("chain-*.h5", "nested-*.h5", "nested-*.tmp.h5", "nested-*.json", "posterior.csv", "posterior.json", "latent.csv", "fit.csv",
         "fit_summary.json", "parameters.csv", "parameters.png", "hiding_in_china.csv", "hiding_in_china.png", "predictive.png",
         "report.html")


def calibrate(
    settings: Settings = Settings(),
    out: Path | str = "calibration",
    *,
    workers: int | None = None,
    client=None,
    progress: Progress | None = None,
    stop_after: int | None = None,
    claims: list[Claim] | None = None,
    force: bool = False,
) -> Posterior:
    """Calibrate the model to the record up to ``settings.until``; resume the runs or chains in ``out`` if present.

    ``settings.chains`` independent nested runs (or emcee ensembles) run side by
    side, one per worker process (``workers`` defaults to ``os.cpu_count()``), or
    one per Dask worker when a ``dask.distributed.Client`` is given.
    ``progress(done, total, best)`` is called as the slowest advances
    (:attr:`Settings.progress_total`). ``stop_after`` stops each after that many
    batches of ``live`` likelihood calls (emcee: steps), to test resuming: the
    state stays on disk, no posterior is written, and the next call continues. ``claims`` replaces
    the shipped evidence (for tests on data simulated by the model itself).
    ``out`` must be absent, empty, or a calibration of the same settings
    (any number of steps: more steps go on from the chains there); ``force``
    replaces a calibration of other settings (:func:`refuge.store.claim_folder`).
    """
    settings.check()
    out = claim_folder(out, "calibration", settings.identity(), FILES, force=force)
    space = settings.space()
    targets = Targets(settings.until, claims, soft=settings.soft)
    version = data_version() if claims is None else "custom claims"
    workers = workers or max(1, os.cpu_count() or 1)
    started = time.perf_counter()
    if settings.sampler == "nautilus":
        from . import nested as sampling
    else:
        from . import ensemble as sampling
    paths, resumed, jobs = sampling.prepare(out, settings, targets, version, workers=workers, client=client,
                                            stop_after=stop_after, claims=claims, force=force)
    run = sampling.run
    if client is not None:
        futures = [client.submit(run, *job, None, pure=False) for job in jobs]
        client.gather(futures)
    elif settings.chains == 1 or workers == 1:
        for job in jobs:
            run(*job, _Reporter(progress, settings))
    else:
        import multiprocessing

        with (multiprocessing.Manager() as manager,
              ProcessPoolExecutor(min(workers, settings.chains), initializer=one_thread) as pool):
            queue = manager.Queue()
            futures = [pool.submit(run, *job, queue) for job in jobs]
            _follow(queue, futures, settings, progress)
            for f in futures:
                f.result()
    provenance = _provenance(settings, space, targets, version, any(resumed), "dask" if client else workers)
    posterior = sampling.posterior(paths, space, settings, provenance)
    if posterior.provenance["complete"]:
        evaluator = Evaluator(space, targets, workers=workers, client=client, blind=settings.blind)
        try:
            posterior = _with_latent(posterior, evaluator, settings.seed)
        finally:
            evaluator.close()
        posterior.provenance["wall_seconds_this_session"] = round(time.perf_counter() - started, 1)
        posterior.save(out)
    return posterior


def _with_latent(posterior: Posterior, evaluator: Evaluator, seed: int) -> Posterior:
    """Each sample's paths of the latent drivers, drawn given the record (backward sampling).

    The sampler's likelihood linearises the model about latent values of 1;
    paths far from them also change who is left hiding to leave. So the draws
    come from a second pass, linearised about each sample's smoothed paths
    from the first.
    """
    import dataclasses

    space, targets = evaluator.space, evaluator.targets
    values = posterior.samples[list(space.names)].to_numpy(dtype=float)
    sigma, walks = values[:, evaluator.sigma_index], evaluator.walks(values)
    first = targets.filtered(evaluator.simulate(values), sigma, *walks)
    centre = sample_paths(first, walks[0], np.zeros(first.mean.shape), *walks[1:])  # zero noise: the smoothed mean
    filtered = targets.filtered(evaluator.simulate(values, centre), sigma, *walks, centre=centre)
    normals = np.random.default_rng([seed, 0x1A7E]).standard_normal(filtered.mean.shape)
    x = sample_paths(filtered, walks[0], normals, *walks[1:])
    years = [targets.first_year, targets.until]
    provenance = {**posterior.provenance,
                  "latent": {"drivers": list(LATENT), "steps": list(LATENT_STEPS), "years": years}}  # fmt: skip
    return dataclasses.replace(posterior, latent=latent_table(x, targets.first_year), provenance=provenance)


class _Reporter:
    """Progress of chains run one after another in this process."""

    def __init__(self, progress: Progress | None, settings: Settings):
        self.progress, self.settings, self.chain = progress, settings, 0

    def put(self, item: tuple[int, int, float]) -> None:
        k, step, best = item
        if self.progress:
            total = self.settings.progress_total * self.settings.chains
            self.progress(k * self.settings.progress_total + step, total, best)


def _follow(queue, futures, settings: Settings, progress: Progress | None) -> None:
    """Report the slowest chain's step until every chain is done."""
    import queue as queues

    steps = dict.fromkeys(range(settings.chains), 0)
    best = -np.inf
    while not all(f.done() for f in futures):
        try:
            k, step, value = queue.get(timeout=0.5)
        except queues.Empty:
            continue
        steps[k] = step
        best = max(best, value)
        if progress:
            progress(min(steps.values()), settings.progress_total, best)


def _provenance(settings: Settings, space: Space, targets: Targets, version: str, resumed: bool,
                workers: int | str) -> dict:
    """What every calibration's ``posterior.json`` says, whichever sampler ran: the sampler adds its diagnostics."""
    provenance = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "data_version": version,
        "settings": asdict(settings),
        "parameters": list(space.names),
        "priors": {n: {"low": p.low, "high": p.high, "log": p.log}
                   for n, p in zip(space.names, space.priors, strict=True)},
        "targets": [t.ids[0] if len(t.ids) == 1 else "+".join(t.ids) for t in targets.terms],
        "workers": workers,
        "resumed": resumed,
        "python": platform.python_version(),
    }
    try:
        from importlib.metadata import version as installed

        provenance["refuge"] = installed("refuge")
    except Exception:  # pragma: no cover - not installed as a distribution
        pass
    return provenance


def arviz_diagnostics(draws: np.ndarray, space: Space) -> dict:
    """Rank-normalised split R-hat and bulk ESS (arviz) of ``draws`` ``(chains, draws, ndim)``: worst and per parameter.

    A parameter held at one value (a steady walk's step) has neither, and is left out.
    """
    import warnings

    free = [name for name, low, high in zip(space.names, space.low, space.high, strict=True) if high > low]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # arviz 0.2x announces its coming refactor
        warnings.simplefilter("ignore", UserWarning)  # "more chains than draws": walkers outnumber kept steps
        import arviz as az

        data = az.convert_to_dataset({name: draws[..., space.names.index(name)] for name in free})
        rhat, ess = az.rhat(data), az.ess(data, method="bulk")
    per = {name: {"rhat": round(float(rhat[name]), 4), "ess_bulk": round(float(ess[name]))} for name in free}
    return {"rhat_max": max(v["rhat"] for v in per.values()),
            "ess_bulk_min": min(v["ess_bulk"] for v in per.values()), "per_parameter": per}


