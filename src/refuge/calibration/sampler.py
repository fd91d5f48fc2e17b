"""Bayesian calibration with emcee: an ensemble MCMC over a vectorised likelihood, resumable from HDF5.

Why emcee (see ``docs/calibration.md``): the model's ``mean`` backend evaluates
a whole batch of parameter sets in one pass, and emcee's ``vectorize=True``
hands the likelihood half an ensemble at a time, so a few hundred walkers cost
two batched runs a step. Its HDF5 backend writes every step as it is taken, so
an interrupted calibration resumes where it stopped, with the sampler's random
state. ABC-SMC (pyabc) calls the model once per particle, which throws the
vectorisation away.

The steps of :func:`calibrate`:

1. build the targets up to ``until`` and the parameter space with its priors;
2. if ``out/chain.h5`` holds a chain of the same settings, resume it;
   otherwise screen ``screen`` draws from the prior in one batch and start the
   walkers at the best of them (spread over the good region, not at one point);
3. run the ensemble for the remaining steps, reporting progress after each;
4. discard the first half as burn-in, thin, and save the samples with their
   provenance (``posterior.csv``, ``posterior.json``).
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

from ..errors import RunError
from ..evidence import data_version
from .likelihood import Targets, simulate_batch
from .posterior import Posterior
from .priors import SIGMA_ARRIVALS, Space, parameter_space

CHAIN = "chain.h5"


@dataclass(frozen=True)
class Settings:
    """What a calibration was asked for; a chain resumes only under the same settings."""

    until: int = 2019
    walkers: int = 128
    steps: int = 600
    screen: int = 4000
    seed: int = 0
    thin: int = 5

    def check(self) -> None:
        if not 1995 <= self.until <= 2019:
            raise RunError(f"until must be a year from 1995 to 2019 (the record's span), not {self.until}")
        if self.walkers < 2 * len(parameter_space().names) or self.walkers % 2:
            raise RunError(
                f"walkers must be even and at least {2 * len(parameter_space().names)} (twice the parameters), "
                f"not {self.walkers}"
            )
        if self.steps < 2:
            raise RunError(f"steps must be at least 2, not {self.steps}")
        if self.screen < self.walkers:
            raise RunError(f"screen must be at least the number of walkers ({self.walkers}), not {self.screen}")
        if self.seed < 0:
            raise RunError(f"seed must be 0 or more, not {self.seed}")
        if self.thin < 1:
            raise RunError(f"thin must be at least 1, not {self.thin}")


def _simulate_chunk(names: tuple[str, ...], values: np.ndarray, until: int) -> np.ndarray:
    return simulate_batch({n: values[:, i] for i, n in enumerate(names)}, until)


class Evaluator:
    """The log-posterior of a batch of points, splitting the batch over worker processes or a Dask client.

    ``workers=1`` evaluates in this process. A Dask ``client`` (``dask.distributed.Client``)
    takes precedence over ``workers`` when given.
    """

    def __init__(self, space: Space, targets: Targets, *, workers: int = 1, client=None):
        self.space, self.targets, self.workers, self.client = space, targets, workers, client
        self.model_index = [space.names.index(n) for n in space.model_names]
        self.sigma_index = space.names.index(SIGMA_ARRIVALS)
        self._pool = ProcessPoolExecutor(workers) if workers > 1 and client is None else None
        self.calls = 0
        self.evaluations = 0

    def simulate(self, values: np.ndarray) -> np.ndarray:
        """Model outputs of a batch of parameter values (natural units), ``(n, years, columns)``."""
        names = self.space.model_names
        model_values = values[:, self.model_index]
        parts = max(1, self.workers if self.client is None else len(self.client.scheduler_info()["workers"]))
        chunks = [c for c in np.array_split(model_values, parts) if len(c)]
        until = self.targets.until
        if self.client is not None:
            futures = self.client.map(_simulate_chunk, [names] * len(chunks), chunks, [until] * len(chunks), pure=False)
            results = self.client.gather(futures)
        elif self._pool is not None and len(chunks) > 1:
            results = list(self._pool.map(_simulate_chunk, [names] * len(chunks), chunks, [until] * len(chunks)))
        else:
            results = [_simulate_chunk(names, model_values, until)]
        return np.concatenate(results, axis=0)

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        theta = np.atleast_2d(theta)
        out = self.space.log_prior(theta)
        inside = np.isfinite(out)
        if inside.any():
            values = self.space.values(theta[inside])
            sims = self.simulate(values)
            out[inside] += self.targets.log_likelihood(sims, values[:, self.sigma_index])
        self.calls += 1
        self.evaluations += int(inside.sum())
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()


Progress = Callable[[int, int, float], None]


def calibrate(
    settings: Settings = Settings(),
    out: Path | str = "calibration",
    *,
    workers: int | None = None,
    client=None,
    progress: Progress | None = None,
    stop_after: int | None = None,
) -> Posterior:
    """Calibrate the model to the record up to ``settings.until``; resume ``out/chain.h5`` if present.

    ``workers`` defaults to the machine's cores (at most 2 on the project's machines
    counts: ``os.cpu_count()``). ``progress(step, steps, best_log_prob)`` is called
    after each step. ``stop_after`` stops after that many new steps (to test
    resuming); the chain so far stays on disk and the next call continues it.
    """
    import emcee

    settings.check()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    space = parameter_space()
    targets = Targets(settings.until)
    workers = workers or max(1, min(os.cpu_count() or 1, 8))
    evaluator = Evaluator(space, targets, workers=workers, client=client)
    path = out / CHAIN
    started = time.perf_counter()
    try:
        backend = emcee.backends.HDFBackend(str(path), name="chain")
        resumed = _compatible(path, settings, space)
        if not resumed:
            if path.exists():
                path.unlink()
            backend = emcee.backends.HDFBackend(str(path), name="chain")
            backend.reset(settings.walkers, space.ndim)
            _write_settings(path, settings, space)
        moves = [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]
        sampler = emcee.EnsembleSampler(
            settings.walkers, space.ndim, evaluator, vectorize=True, backend=backend, moves=moves,
            parameter_names=None,
        )
        done = backend.iteration
        if done == 0:
            sampler.random_state = np.random.RandomState(settings.seed).get_state()
            start = _initial_walkers(evaluator, space, settings)
        else:
            start = None
        remaining = settings.steps - done
        if stop_after is not None:
            remaining = min(remaining, stop_after)
        if remaining > 0:
            state = start if start is not None else sampler.get_last_sample()
            for i, sample in enumerate(sampler.sample(state, iterations=remaining, store=True), start=done + 1):
                if progress:
                    progress(i, settings.steps, float(np.max(sample.log_prob)))
        elapsed = time.perf_counter() - started
        complete = backend.iteration >= settings.steps
        posterior = _posterior(backend, space, settings, evaluator, elapsed, resumed, complete)
        if complete:
            posterior.save(out)
        return posterior
    finally:
        evaluator.close()


def _initial_walkers(evaluator: Evaluator, space: Space, settings: Settings) -> np.ndarray:
    """The best ``walkers`` of ``screen`` prior draws, by log-posterior (one batched run)."""
    rng = np.random.default_rng(settings.seed)
    draws = space.draw(settings.screen, rng)
    logp = evaluator(draws)
    best = np.argsort(-logp)[: settings.walkers]
    return draws[best]


def _write_settings(path: Path, settings: Settings, space: Space) -> None:
    import h5py

    with h5py.File(path, "a") as f:
        f.attrs["refuge_settings"] = json.dumps(asdict(settings))
        f.attrs["refuge_parameters"] = json.dumps(list(space.names))
        f.attrs["refuge_data_version"] = data_version()


def _compatible(path: Path, settings: Settings, space: Space) -> bool:
    """Whether ``path`` holds a chain this calibration can resume (same settings but steps, same data)."""
    import h5py

    if not path.exists():
        return False
    try:
        with h5py.File(path, "r") as f:
            old = json.loads(f.attrs.get("refuge_settings", "{}"))
            names = json.loads(f.attrs.get("refuge_parameters", "[]"))
            version = f.attrs.get("refuge_data_version", "")
            iterations = int(f["chain"].attrs.get("iteration", 0)) if "chain" in f else 0
    except (OSError, KeyError, ValueError):
        return False
    same = {k: v for k, v in old.items() if k != "steps"} == {
        k: v for k, v in asdict(settings).items() if k != "steps"
    }
    return same and names == list(space.names) and version == data_version() and iterations > 0


def _posterior(backend, space: Space, settings: Settings, evaluator: Evaluator, elapsed: float,
               resumed: bool, complete: bool) -> Posterior:
    import emcee
    import pandas as pd

    steps = backend.iteration
    burn = steps // 2
    chain = backend.get_chain(discard=burn, thin=settings.thin, flat=True)
    values = space.values(chain)
    samples = pd.DataFrame(values, columns=list(space.names))
    try:
        tau = emcee.autocorr.integrated_time(backend.get_chain(discard=burn), quiet=True)
        tau_list = [float(t) for t in tau]
    except (emcee.autocorr.AutocorrError, ValueError):
        tau_list = []
    provenance = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "data_version": data_version(),
        "settings": asdict(settings),
        "sampler": f"emcee {emcee.__version__} EnsembleSampler, DEMove 0.8 + DESnookerMove 0.2, vectorised",
        "parameters": list(space.names),
        "priors": {n: {"low": p.low, "high": p.high, "log": p.log} for n, p in zip(space.names, space.priors,
                                                                                     strict=True)},
        "iterations": int(steps),
        "burn_in": int(burn),
        "samples": len(samples),
        "acceptance": float(np.mean(backend.accepted / max(steps, 1))),
        "autocorr_steps": tau_list,
        "targets": [t.ids[0] if len(t.ids) == 1 else "+".join(t.ids) for t in evaluator.targets.terms],
        "workers": evaluator.workers,
        "wall_seconds_this_session": round(elapsed, 1),
        "resumed": resumed,
        "complete": bool(complete),
        "python": platform.python_version(),
    }
    try:
        from importlib.metadata import version

        provenance["refuge"] = version("refuge")
    except Exception:  # pragma: no cover - not installed as a distribution
        pass
    return Posterior(samples, provenance)
