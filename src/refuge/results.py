"""Results of a run: labelled arrays inside, tidy tables at the edge.

``Results.data`` is an :class:`xarray.Dataset` with

* ``flows``  (member, year, flow, sex): people moved along each flow in the year;
* ``stocks`` (member, year, stock, sex): people in each stock at the year's end;
* ``clock`` (member, year, flow, sex), for models with clock stocks: person-weeks
  those moved along each flow in the year had spent in the clock stocks;
* ``spread`` (member), for members drawn from a posterior: the calibrated
  log-scale misfit of the record around the model (``sigma_arrivals``).

:meth:`Results.quantiles` gives *predictive intervals* for the outputs the
record counts (``Output.observed``) when the spread is known: each member's
value times its own log-normal misfit, the intervals the record is expected to
fall in. ``predictive=False`` gives the ensemble's spread alone (parameters and
chance, without the misfit), which is narrower and labelled so.

:meth:`Results.outputs` derives the model's named yearly outputs from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .model.definition import SEXES, Model
from .model.timeline import WEEKS_PER_YEAR, Timeline


@dataclass(frozen=True)
class Results:
    data: xr.Dataset
    model: Model

    @classmethod
    def from_arrays(cls, model: Model, timeline: Timeline, flows, stocks, *, first_member: int = 0, clock=None,
                    spread=None, **attrs):
        members = np.arange(first_member, first_member + flows.shape[0])
        coords = {"member": members, "year": timeline.years, "sex": list(SEXES)}
        variables = {
            "flows": (("member", "year", "flow", "sex"), flows),
            "stocks": (("member", "year", "stock", "sex"), stocks),
        }
        if clock is not None:
            variables["clock"] = (("member", "year", "flow", "sex"), clock)
        if spread is not None:
            variables["spread"] = (("member",), np.asarray(spread, dtype=float))
        data = xr.Dataset(
            variables,
            coords={**coords, "flow": [f.name for f in model.flows], "stock": [s.name for s in model.stocks]},
            attrs=attrs,
        )
        return cls(data, model)

    @classmethod
    def concat(cls, parts: list[Results]) -> Results:
        """Blocks of members joined in member order, each array copied once."""
        if len(parts) == 1:
            return parts[0]
        parts = sorted(parts, key=lambda p: int(p.data.member[0]))
        first = parts[0].data
        variables = {
            name: (first[name].dims, np.concatenate([p.data[name].values for p in parts]))
            for name in first.data_vars
        }
        coords = {name: first.coords[name] for name in first.coords if name != "member"}
        coords["member"] = np.concatenate([p.data.member.values for p in parts])
        data = xr.Dataset(variables, coords=coords, attrs=first.attrs)
        return cls(data, parts[0].model)

    @property
    def members(self) -> int:
        return self.data.sizes["member"]

    def outputs(self) -> xr.DataArray:
        """The model's named outputs, ``(member, year, variable)``."""
        series = []
        for out in self.model.outputs:
            if out.stock is not None:
                values = self.data.stocks.sel(stock=out.stock)
            elif out.clock:
                weeks = self.data.clock.sel(flow=list(out.flows)).sum("flow")
                people = self.data.flows.sel(flow=list(out.flows)).sum("flow")
                if out.sex:
                    weeks, people = weeks.sel(sex=out.sex), people.sel(sex=out.sex)
                else:
                    weeks, people = weeks.sum("sex"), people.sum("sex")
                values = (weeks / people.where(people > 0) / WEEKS_PER_YEAR)
                series.append(values.reset_coords(drop=True).astype(float).expand_dims(variable=[out.name]))
                continue
            else:
                values = self.data.flows.sel(flow=list(out.flows)).sum("flow")
            values = values.sel(sex=out.sex) if out.sex else values.sum("sex")
            series.append(values.reset_coords(drop=True).astype(float).expand_dims(variable=[out.name]))
        return xr.concat(series, dim="variable").transpose("member", "year", "variable")

    def tidy(self) -> pd.DataFrame:
        """Outputs as a long table: ``member, year, variable, value``."""
        frame = self.outputs().to_dataframe(name="value").reset_index()
        return frame[["member", "year", "variable", "value"]]

    def predictive(self, variable: str) -> bool:
        """Whether :meth:`quantiles` of ``variable`` are predictive intervals (misfit included)."""
        return "spread" in self.data and self.model.output(variable).observed

    def quantiles(self, variable: str, q=(0.05, 0.25, 0.5, 0.75, 0.95), *, predictive: bool = True) -> pd.DataFrame:
        """Quantiles of one output by year over members, columns named by quantile.

        Predictive intervals (each member's value times its calibrated log-normal
        misfit, drawn from a stream keyed by the run's seed) where
        :meth:`predictive` says so and ``predictive`` is true; the ensemble's own
        spread otherwise.
        """
        values = self.outputs().sel(variable=variable)
        if predictive and self.predictive(variable):
            seed = int(self.data.attrs.get("seed", 0))
            rng = np.random.default_rng([seed, 0x6D697366])  # "misf"
            noise = rng.standard_normal(values.shape)
            values = values * np.exp(self.data.spread.values[:, None] * noise)
        table = values.quantile(list(q), dim="member").to_pandas().T
        table.columns = [f"q{round(x * 100):02d}" for x in q]
        return table

    def save(self, folder: Path) -> list[Path]:
        """Write ``annual.csv``, ``annual.parquet`` and ``results.nc``; return the paths."""
        tidy = self.tidy()
        paths = [folder / "annual.csv", folder / "annual.parquet", folder / "results.nc"]
        tidy.to_csv(paths[0], index=False)
        tidy.to_parquet(paths[1], index=False)
        self.data.to_netcdf(paths[2])
        return paths
