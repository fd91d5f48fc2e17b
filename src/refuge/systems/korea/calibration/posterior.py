"""Posterior samples with the provenance of the run that made them, and draws from them for runs.

A posterior is two files side by side: ``posterior.csv`` (one row per sample,
one column per calibrated parameter, values in natural units) and
``posterior.json`` (the provenance: data version, seed, sampler settings,
diagnostics, the code's version). The package ships one fitted to 2025;
:func:`posterior_parameters` draws ensemble members' parameters from it, and
``refuge.run`` uses it by default.

>>> draws = posterior_parameters(5, seed=1)
>>> len(draws["attempt_base"])
5
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ....errors import DataError
from .. import north_korea
from .priors import OBSERVATION

SAMPLES = "posterior.csv"
PROVENANCE = "posterior.json"


@dataclass(frozen=True)
class Posterior:
    """Samples (a DataFrame, one column per parameter) and the provenance of the calibration."""

    samples: pd.DataFrame
    provenance: dict = field(default_factory=dict)

    @property
    def model_parameters(self) -> list[str]:
        return [c for c in self.samples.columns if c not in OBSERVATION]

    def save(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        paths = [folder / SAMPLES, folder / PROVENANCE]
        self.samples.to_csv(paths[0], index=False, float_format="%.6g")
        paths[1].write_text(json.dumps(self.provenance, indent=2, default=str) + "\n", encoding="utf-8")
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
        return cls(samples, provenance)

    def draw(self, members: int, seed: int = 0) -> dict[str, np.ndarray]:
        """Model parameters of ``members`` ensemble members, resampled from the posterior.

        Each member gets one whole posterior sample (so correlations between
        parameters are kept); the same seed gives the same draws.
        """
        rows = self._rows(members, seed)
        return {name: self.samples[name].to_numpy(dtype=float)[rows] for name in self.model_parameters}

    def spread(self, members: int, seed: int = 0) -> np.ndarray | None:
        """The observation spread (``sigma_arrivals``) of the same samples :meth:`draw` gives the members."""
        name = next(iter(OBSERVATION))
        if name not in self.samples:
            return None
        return self.samples[name].to_numpy(dtype=float)[self._rows(members, seed)]

    def _rows(self, members: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng([seed, 0x9E3779B9])
        return rng.integers(0, len(self.samples), size=members)


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
            close = difflib.get_close_matches(column, list(bounds), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise DataError(f"{csv}, header, field {column!r}: not a parameter of the model{hint}")
    missing = [n for n in (*required, *OBSERVATION) if n not in samples.columns]
    if missing:
        raise DataError(f"{csv}, header: column(s) {', '.join(map(repr, missing))} missing; the sampled parameters "
                        f"are {', '.join(required)} and {', '.join(OBSERVATION)}")  # fmt: skip
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


def shipped_folder() -> Path:
    return Path(str(resources.files("refuge.systems.korea.data") / "posterior"))


@cache
def shipped_posterior() -> Posterior | None:
    """The posterior the package ships (fitted to 2025), or ``None`` if this build has none."""
    folder = shipped_folder()
    if not (folder / SAMPLES).exists():
        return None
    return Posterior.load(folder)


def posterior_spread(members: int, seed: int = 0) -> np.ndarray | None:
    """Each member's observation spread from the shipped posterior (the rows of :func:`posterior_parameters`)."""
    posterior = shipped_posterior()
    return None if posterior is None else posterior.spread(members, seed)


def posterior_parameters(members: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Parameters of ``members`` members drawn from the shipped posterior; ``{}`` if none is shipped."""
    posterior = shipped_posterior()
    return {} if posterior is None else posterior.draw(members, seed)
