"""Posterior samples with the provenance of the run that made them, and draws from them for runs.

A posterior is files side by side: ``posterior.csv`` (one row per sample,
one column per calibrated parameter, values in natural units),
``latent.csv`` (the same rows: each sample's paths of the latent drivers,
logarithms, one column per driver and year, ``route_permeability:1990``) and ``posterior.json`` (the provenance:
data version, seed, sampler settings, diagnostics, the code's version). The
package ships one fitted to 2025; :func:`posterior_parameters` draws ensemble
members' parameters from it, and ``refuge.run`` uses it by default, with each
member's latent path continued by its walk after the record ends.

>>> draws = posterior_parameters(5, seed=1)
>>> len(draws["attempt_base"])
5
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from ....backends.random import decision_id, member_normals
from ....errors import DataError, did_you_mean
from ....model.timeline import Timeline
from .. import north_korea
from ..drivers import LATENT
from .latent import continue_paths
from .priors import (
    LATENT_STEPS,
    OBSERVATION,
    PERMEABILITY_LEVEL,
    PERMEABILITY_PERSISTENCE,
    SIGMA_ARRIVALS,
    level,
    persistence,
)

SAMPLES = "posterior.csv"
PATHS = "latent.csv"
PROVENANCE = "posterior.json"
#: Largest |logarithm| a latent path may hold. A short calibration's walks wander far (steps up to 1.5 a
#: year over decades: 10.9 from a 4-step run); a factor of e^50 either way is a damaged file, not a path.
_LATENT_BOUND = 50.0


@dataclass(frozen=True)
class Posterior:
    """Samples (one column per parameter), their latent paths (one column per driver and year) and the provenance."""

    samples: pd.DataFrame
    provenance: dict = field(default_factory=dict)
    latent: pd.DataFrame | None = None

    @property
    def model_parameters(self) -> list[str]:
        return [c for c in self.samples.columns if c not in OBSERVATION]

    def save(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        paths = [folder / SAMPLES, folder / PROVENANCE]
        self.samples.to_csv(paths[0], index=False, float_format="%.6g")
        paths[1].write_text(json.dumps(self.provenance, indent=2, default=str) + "\n", encoding="utf-8")
        if self.latent is not None:
            paths.append(folder / PATHS)
            self.latent.to_csv(paths[-1], index=False, float_format="%.5g")
        return paths

    @classmethod
    def load(cls, folder: Path) -> Posterior:
        """Read a posterior written by :meth:`save` (or by ``refuge calibrate``)."""
        csv, meta = Path(folder) / SAMPLES, Path(folder) / PROVENANCE
        if not csv.exists():
            raise DataError(f"no posterior in {folder}: {SAMPLES} is missing (run `refuge calibrate --out {folder}`)")
        try:
            provenance = json.loads(meta.read_text(encoding="utf-8")) if meta.exists() else {}
        except (OSError, ValueError) as err:
            raise DataError(f"{meta}: not a posterior's provenance (JSON: {err})") from None
        samples = _read_samples(csv, provenance)
        latent = _read_latent(Path(folder) / PATHS, len(samples))
        return cls(samples, provenance, latent)

    def rows(self, members: int, seed: int = 0) -> np.ndarray:
        """The sample each of ``members`` ensemble members takes: whole rows, so correlations are kept."""
        rng = np.random.default_rng([seed, 0x9E3779B9])
        return rng.integers(0, len(self.samples), size=members)

    def parameters(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Model parameters of the samples ``rows``."""
        return {name: self.samples[name].to_numpy(dtype=float)[rows] for name in self.model_parameters}

    def draw(self, members: int, seed: int = 0) -> dict[str, np.ndarray]:
        """Model parameters of ``members`` ensemble members, resampled from the posterior (the same seed, the same)."""
        return self.parameters(self.rows(members, seed))

    def spread(self, rows: np.ndarray) -> np.ndarray | None:
        """The observation spread (``sigma_arrivals``) of the samples ``rows``."""
        if SIGMA_ARRIVALS not in self.samples:
            return None
        return self.samples[SIGMA_ARRIVALS].to_numpy(dtype=float)[rows]

    def persistence(self, rows: np.ndarray) -> np.ndarray:
        """The latent walks' persistence ``(rows, dims)`` of the samples ``rows`` (1 in a calibration without it)."""
        column = self.samples.get(PERMEABILITY_PERSISTENCE)
        return persistence(None if column is None else column.to_numpy(dtype=float)[rows], len(rows))

    def level(self, rows: np.ndarray) -> np.ndarray:
        """The level ``(rows, dims)`` the latent walks of the samples ``rows`` are drawn back to (0 without it)."""
        column = self.samples.get(PERMEABILITY_LEVEL)
        return level(None if column is None else column.to_numpy(dtype=float)[rows], len(rows))

    def paths(self, rows: np.ndarray, keys: np.ndarray, timeline: Timeline) -> dict[str, np.ndarray]:
        """The latent drivers by year of the samples ``rows`` over ``timeline``; ``{}`` without latent paths.

        Years the calibration saw take the sample's own paths; later years
        continue them by their walks with the sample's steps and persistence, each
        member drawing from its own stream (``keys``), so a member's future does
        not depend on how the ensemble is split. Years before the paths hold their first values.
        """
        if self.latent is None:
            return {}
        first, x = latent_array(self.latent)
        ahead = max(0, timeline.end - (first + x.shape[1] - 1))
        x = x[rows]
        if ahead:
            steps = self.samples[list(LATENT_STEPS)].to_numpy(dtype=float)[rows]
            normals = np.stack([member_normals(keys, decision_id(name), ahead) for name in LATENT], axis=-1)
            x = continue_paths(x, steps, normals, self.persistence(rows), self.level(rows))
        return _by_year(x, first, timeline)

    def central_paths(self, timeline: Timeline, quantiles: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """The latent drivers' median path over the samples, by year of ``timeline``, ``(rows, years)`` each; ``{}``
        without latent paths.

        After the years the calibration saw, a path goes on as the walk's median
        does (where it stands, or drawn back to the level by the posterior's
        median persistence), or, for a driver in ``quantiles``, at each row's
        quantile of the walk's spread in every later year: a fan of paths, one a row.
        """
        if self.latent is None:
            return {}
        first, x = latent_array(self.latent)
        quantiles = quantiles or {}
        rows = max([len(q) for q in quantiles.values()], default=1)
        centre = np.repeat(np.median(x, axis=0)[None], rows, axis=0)
        ahead = max(0, timeline.end - (first + x.shape[1] - 1))
        if ahead:
            z = np.stack([norm.ppf(quantiles[name]) if name in quantiles else np.zeros(rows) for name in LATENT], -1)
            steps = np.median(self.samples[list(LATENT_STEPS)].to_numpy(dtype=float), axis=0)
            every = np.arange(len(self.samples))
            kept, mu = np.median(self.persistence(every), axis=0), np.median(self.level(every), axis=0)
            h = np.arange(1, ahead + 1)[None, :, None]
            # x[T + h] - mu = kept^h (x[T] - mu) + noise of variance step^2 (1 + kept^2 + ... + kept^(2(h-1)))
            spread = np.sqrt(np.where(kept < 1, (1 - kept ** (2 * h)) / np.maximum(1 - kept**2, 1e-12), h))
            later = mu + kept**h * (centre[:, -1:] - mu) + spread * steps * z[:, None, :]
            centre = np.concatenate([centre, later], axis=1)
        return _by_year(centre, first, timeline)


def _by_year(x: np.ndarray, first: int, timeline: Timeline) -> dict[str, np.ndarray]:
    """Latent paths ``(samples, years from first, dims)`` (logarithms) as values by year of ``timeline``, each
    ``(samples, years)``; years before the paths hold their first values, years after their last."""
    index = np.clip(timeline.years - first, 0, x.shape[1] - 1)
    return {name: np.exp(x[:, index, k]) for k, name in enumerate(LATENT)}


def latent_table(x: np.ndarray, first: int) -> pd.DataFrame:
    """Latent paths ``(samples, years, dims)`` (logarithms) as a table: one column per driver and year."""
    years = range(first, first + x.shape[1])
    columns = [f"{name}:{year}" for name in LATENT for year in years]
    return pd.DataFrame(x.transpose(0, 2, 1).reshape(len(x), -1), columns=columns)


def latent_array(table: pd.DataFrame) -> tuple[int, np.ndarray]:
    """The first year and the paths ``(samples, years, dims)`` of a :func:`latent_table`."""
    first = int(table.columns[0].split(":")[1])
    values = table.to_numpy(dtype=float)
    return first, values.reshape(len(table), len(LATENT), -1).transpose(0, 2, 1)


def _read_samples(csv: Path, provenance: dict) -> pd.DataFrame:
    """The sample table, checked cell by cell: each column a calibrated parameter, each cell finite and in range.

    The columns required are those the provenance says were sampled (the current
    calibration's when it says nothing), so no parameter falls back to its default unseen.
    """
    from .priors import CALIBRATED

    try:
        samples = pd.read_csv(csv, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as err:
        raise DataError(f"{csv}: not a posterior sample table ({err})") from None
    settings = provenance.get("settings") if isinstance(provenance, dict) else None
    names = settings.get("names") if isinstance(settings, dict) else None
    required = [str(n) for n in names] if isinstance(names, list) and names else list(CALIBRATED)
    bounds = {p.name: p.bounds for p in north_korea().parameters} | {n: (p.low, p.high) for n, p in OBSERVATION.items()}
    for column in samples.columns:
        if column not in bounds:
            raise DataError(f"{csv}, header, field {column!r}: not a parameter of the model"
                            f"{did_you_mean(column, bounds)}")
    sampled = provenance.get("parameters") if isinstance(provenance, dict) else None
    observed = [n for n in OBSERVATION if not isinstance(sampled, list) or n in sampled]
    missing = [n for n in (*required, *observed) if n not in samples.columns]
    if missing:
        raise DataError(f"{csv}, header: column(s) {', '.join(map(repr, missing))} missing; the sampled parameters "
                        f"are {', '.join(required)} and {', '.join(observed)}")  # fmt: skip
    if samples.empty:
        raise DataError(f"{csv}: no samples; allowed: one row a sample")
    values = {}
    for column in samples.columns:
        numbers = pd.to_numeric(samples[column], errors="coerce").to_numpy(dtype=float)
        low, high = bounds[column]
        bad = ~(np.isfinite(numbers) & (numbers >= low) & (numbers <= high))
        if bad.any():
            row = int(np.argmax(bad))
            raise DataError(f"{csv}, row {row + 2}, field {column!r}: value {samples[column].iloc[row]!r} is not "
                            f"allowed; allowed: a number in [{low:g}, {high:g}]")  # fmt: skip
        values[column] = numbers
    return pd.DataFrame(values)


def _read_latent(csv: Path, samples: int) -> pd.DataFrame | None:
    """Latent paths, one row per sample and one column per driver and consecutive year, checked cell by cell.

    Read as numbers first (a run reads this file at start; as text it took 0.3 s at 7,200 samples);
    read again as text only to name a bad cell.
    """
    if not csv.exists():
        return None
    text = None
    try:
        table = pd.read_csv(csv, dtype=float)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as err:
        raise DataError(f"{csv}: not a table of latent paths ({err})") from None
    except ValueError:  # a cell that is not a number (the parser's errors above are ValueErrors too)
        text = pd.read_csv(csv, dtype=str, keep_default_na=False)
        table = text.apply(pd.to_numeric, errors="coerce")
    years = [c.split(":")[1] if c.count(":") == 1 else "" for c in table.columns]
    first = int(years[0]) if years and years[0].isdigit() else 0
    per = len(years) // len(LATENT)
    expected = [f"{name}:{year}" for name in LATENT for year in range(first, first + per)]
    if not per or list(table.columns) != expected:
        raise DataError(f"{csv}, header: {', '.join(table.columns)[:200]!r} is not allowed; allowed: for each of "
                        f"{', '.join(LATENT)}, one column per consecutive year, as DRIVER:YEAR")  # fmt: skip
    if len(table) != samples:
        raise DataError(f"{csv}: {len(table)} paths for {samples} samples; allowed: one path per sample")
    numbers = table.to_numpy(dtype=float)
    bad = ~(np.isfinite(numbers) & (np.abs(numbers) <= _LATENT_BOUND))
    if bad.any():
        text = pd.read_csv(csv, dtype=str, keep_default_na=False) if text is None else text
        row, col = np.argwhere(bad)[0]
        raise DataError(f"{csv}, row {row + 2}, field {table.columns[col]!r}: value {text.iat[row, col]!r} is not "
                        f"allowed; allowed: a logarithm in [-{_LATENT_BOUND:g}, {_LATENT_BOUND:g}]")
    return pd.DataFrame(numbers, columns=table.columns)


def shipped_folder() -> Path:
    return Path(str(resources.files("refuge.systems.korea.data") / "posterior"))


@cache
def shipped_posterior() -> Posterior | None:
    """The posterior the package ships (fitted to 2025), or ``None`` if this build has none."""
    folder = shipped_folder()
    if not (folder / SAMPLES).exists():
        return None
    return Posterior.load(folder)


def posterior_parameters(members: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Parameters of ``members`` members drawn from the shipped posterior; ``{}`` if none is shipped."""
    posterior = shipped_posterior()
    return {} if posterior is None else posterior.draw(members, seed)
