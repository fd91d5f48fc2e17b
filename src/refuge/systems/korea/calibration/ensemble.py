"""emcee ensembles (``--sampler emcee``): resumable from HDF5, started by a batched search of the prior.

emcee hands the likelihood half an ensemble at a time (``vectorize=True``), so
a step costs two batched runs of the ``mean`` backend. Its ensembles mix slowly
along the posterior's ridges (``docs/calibration.md`` §4), so nested sampling
(:mod:`.nested`) is the default; the ensembles stay for comparison and for the
backtest's small budgets. Each chain ``chain-K.h5`` holds every step with the
sampler's random state, so an interrupted calibration resumes where it stopped.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ....errors import RunError
from ..evidence import Claim
from .likelihood import Targets
from .posterior import Posterior
from .priors import Space
from .sampler import Evaluator, Settings, arviz_diagnostics, identity_of

CHAIN = "chain-{}.h5"


def prepare(out: Path, settings: Settings, targets: Targets, version: str, *, workers: int, client,
            stop_after: int | None, claims: list[Claim] | None, force: bool = False
            ) -> tuple[list[Path], list[bool], list[tuple]]:  # fmt: skip
    """The chains' files, whether each resumes, and the arguments of :func:`run` for each.

    Chains that cannot resume start from the best points of one batched search
    (:func:`_initial_walkers`), split between them. A chain of these settings
    holding more steps than asked for is refused, or with ``force`` started afresh:
    its posterior would be of the longer chain.
    """
    space = settings.space()
    paths = [out / CHAIN.format(k) for k in range(settings.chains)]
    held = [_steps_to_resume(p, settings, space, version) for p in paths]
    longer = [n for n in held if n > settings.steps]
    if longer and not force:
        raise RunError(f"{out}: its chains hold {longer[0]} steps, more than --steps {settings.steps}; ask for "
                       f"{longer[0]} or more (the chains go on), or give --force to start afresh")  # fmt: skip
    resumed = [0 < n <= settings.steps for n in held]
    starts: list[np.ndarray | None] = [None] * settings.chains
    if not all(resumed):
        screening = Evaluator(space, targets, workers=workers, client=client, blind=settings.blind)
        try:
            best = _initial_walkers(screening, space, settings)
        finally:
            screening.close()
        for k, path in enumerate(paths):
            if not resumed[k]:
                starts[k] = best[k :: settings.chains]
                path.unlink(missing_ok=True)
    jobs = [(k, settings, str(paths[k]), starts[k], stop_after, claims, version) for k in range(settings.chains)]
    return paths, resumed, jobs


def run(k: int, settings: Settings, path: str, start: np.ndarray | None, stop_after: int | None,
        claims: list[Claim] | None, version: str, queue=None) -> int:
    """Run (or resume) chain ``k`` to ``settings.steps``; returns the steps it holds."""
    import emcee

    from .chainfile import ChainFile

    space = settings.space()
    evaluator = Evaluator(space, Targets(settings.until, claims, soft=settings.soft), workers=1, blind=settings.blind)
    backend = ChainFile(path, name="chain")
    if start is not None:
        backend.reset(settings.walkers, space.ndim)
        _write_settings(Path(path), settings, space, version)
    moves = [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]
    sampler = emcee.EnsembleSampler(settings.walkers, space.ndim, evaluator, vectorize=True, backend=backend,
                                    moves=moves)
    done = backend.iteration
    if done == 0:
        sampler.random_state = np.random.RandomState([settings.seed, k]).get_state()
        state = start
    else:
        state = sampler.get_last_sample()
    remaining = settings.steps - done
    if stop_after is not None:
        remaining = min(remaining, stop_after)
    for i, sample in enumerate(sampler.sample(state, iterations=max(remaining, 0), store=True), start=done + 1):
        if queue is not None:
            queue.put((k, i, float(np.max(sample.log_prob))))
    return backend.iteration


def _initial_walkers(evaluator: Evaluator, space: Space, settings: Settings) -> np.ndarray:
    """Starting points: the best ``walkers x chains`` points of a batched search of the prior.

    ``screen`` prior draws, then ``refine`` rounds that draw ``screen / 2`` points
    from a normal fitted to the best tenth so far (cross-entropy search); each
    round is one batched run. It only places the walkers: the burn-in that
    follows is discarded.
    """
    rng = np.random.default_rng(settings.seed)
    points = space.draw(settings.screen, rng)
    logp = evaluator(points)
    need = settings.walkers * settings.chains
    for _ in range(settings.refine):
        elite = points[np.argsort(-logp)[: max(need, len(points) // 10)]]
        cov = np.cov(elite, rowvar=False) + np.diag(((space.high - space.low) * 1e-3) ** 2)
        new = rng.multivariate_normal(elite.mean(axis=0), cov, size=max(settings.screen // 2, need))
        new = np.clip(new, space.low, space.high)
        points, logp = np.concatenate([points, new]), np.concatenate([logp, evaluator(new)])
    return points[np.argsort(-logp)[:need]]


def _write_settings(path: Path, settings: Settings, space: Space, version: str) -> None:
    import h5py

    with h5py.File(path, "a") as f:
        f.attrs["refuge_settings"] = json.dumps(asdict(settings))
        f.attrs["refuge_parameters"] = json.dumps(list(space.names))
        f.attrs["refuge_data_version"] = version


def _steps_to_resume(path: Path, settings: Settings, space: Space, version: str) -> int:
    """The steps ``path`` holds of a chain this calibration can resume (same settings but steps, same data): 0 if
    none."""
    import h5py

    if not path.exists():
        return 0
    try:
        with h5py.File(path, "r") as f:
            old = json.loads(f.attrs.get("refuge_settings", "{}"))
            names = json.loads(f.attrs.get("refuge_parameters", "[]"))
            stored = f.attrs.get("refuge_data_version", "")
            iterations = int(f["chain"].attrs.get("iteration", 0)) if "chain" in f else 0
    except (OSError, KeyError, ValueError):
        return 0
    same = identity_of(old) == settings.identity() and names == list(space.names) and stored == version
    return iterations if same else 0


def posterior(paths: list[Path], space: Space, settings: Settings, provenance: dict) -> Posterior:
    """Pool the second half of every chain, thinned, into posterior samples with provenance and diagnostics."""
    import emcee
    import pandas as pd

    chains, taus, accepted, steps_held = [], [], [], []
    for path in paths:
        backend = emcee.backends.HDFBackend(str(path), name="chain", read_only=True)
        steps = backend.iteration
        steps_held.append(int(steps))
        if steps == 0:
            continue
        burn = steps // 2
        chains.append(backend.get_chain(discard=burn))  # (steps, walkers, ndim)
        accepted.append(float(np.mean(backend.accepted / steps)))
        with np.errstate(invalid="ignore", divide="ignore"):
            taus.append(emcee.autocorr.integrated_time(chains[-1], quiet=True) if steps - burn > 1 else np.nan)
    steps = min(steps_held)
    flat = np.concatenate([c[:: settings.thin].reshape(-1, space.ndim) for c in chains]) if chains else np.empty(
        (0, space.ndim))
    samples = pd.DataFrame(space.values(flat), columns=list(space.names))
    provenance = {
        **provenance,
        "sampler": f"emcee {emcee.__version__} EnsembleSampler x {settings.chains} chains, "
        "DEMove 0.8 + DESnookerMove 0.2, vectorised likelihood",
        "iterations": steps,
        "burn_in": steps // 2,
        "samples": len(samples),
        "acceptance": float(np.mean(accepted)) if accepted else 0.0,
        "autocorr_steps_max": _finite_max(taus),
        "rhat_max": _rhat(chains),
        **_arviz_diagnostics(chains, space),
        "complete": steps >= settings.steps,
    }
    return Posterior(samples, provenance)


def _arviz_diagnostics(chains: list[np.ndarray], space: Space) -> dict:
    """arviz's R-hat and bulk ESS with every walker of every ensemble taken as a chain.

    Walkers of one ensemble are not independent chains, so these are the usual
    emcee reading of arviz's diagnostics, not a guarantee.
    """
    if not chains or min(c.shape[0] for c in chains) < 4:
        return {}
    n = min(c.shape[0] for c in chains)
    found = arviz_diagnostics(np.concatenate([np.swapaxes(c[-n:], 0, 1) for c in chains]), space)
    return {f"arviz_{key}": value for key, value in found.items()}


def _finite_max(taus: list) -> float | None:
    values = np.concatenate([np.atleast_1d(t) for t in taus]) if taus else np.array([])
    values = values[np.isfinite(values)]
    return round(float(values.max()), 1) if len(values) else None


def _rhat(chains: list[np.ndarray]) -> float | None:
    """Largest Gelman-Rubin statistic over parameters, each ensemble's walkers pooled as one chain."""
    if len(chains) < 2:
        return None
    n = min(c.shape[0] for c in chains)
    if n < 2:
        return None
    pooled = np.stack([c[-n:].reshape(-1, c.shape[-1]) for c in chains])  # (chains, draws, ndim)
    draws = pooled.shape[1]
    within = pooled.var(axis=1, ddof=1).mean(axis=0)
    between = draws * pooled.mean(axis=1).var(axis=0, ddof=1)
    var = (draws - 1) / draws * within + between / draws
    return round(float(np.sqrt(var / within).max()), 3)
