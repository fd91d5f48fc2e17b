"""Results of a run: labelled arrays inside, tidy tables at the edge.

``Results.data`` is an :class:`xarray.Dataset` with

* ``flows``  (member, year, flow, stratum): people moved along each flow in the year;
* ``stocks`` (member, year, stock, stratum): people in each stock at the year's end;
* ``clock`` (member, year, flow, stratum), for models with clock stocks: person-steps
  those moved along each flow in the year had spent in the clock stocks;
* ``spread`` (member), for members drawn from a posterior: the calibrated
  log-scale misfit of the record around the model (``sigma_arrivals``).

The strata axis is named as the model's :class:`~refuge.model.definition.Strata` say
(``sex`` in the North Korean system). Results per step (``run(..., resolution="step")``)
have a ``step`` axis in place of ``year``, labelled with each step's ``year`` and decimal
``time`` (at its start): what moved in the step and the stocks at its end.

:meth:`Results.quantiles` gives *predictive intervals* for the outputs the
record counts (``Output.observed``) when the spread is known: each member's
value times its own log-normal misfit, the intervals the record is expected to
fall in. ``predictive=False`` gives the ensemble's spread alone (parameters and
chance, without the misfit), which is narrower and labelled so.

Each variable carries its ``units`` and ``long_name`` (CF attributes), so a
``results.nc`` opened anywhere says what its numbers count.

:meth:`Results.outputs` derives the model's named yearly outputs from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .errors import RunError
from .model.definition import Model
from .model.timeline import Timeline

#: the label dimension of each array
_DIMS = {"flows": "flow", "stocks": "stock", "clock": "flow"}

#: CF attributes of the arrays of a results file
UNITS = {
    "flows": {"units": "people per year", "long_name": "people moved along each flow in the calendar year"},
    "stocks": {"units": "people", "long_name": "people in each stock at the end of the calendar year"},
    "clock": {"units": "person-steps", "long_name": "steps those moved along each flow had spent in the clock stocks"},
    "spread": {"units": "1", "long_name": "log-scale misfit of the record around the model (sigma_arrivals)"},
    "year": {"units": "calendar year", "long_name": "calendar year"},
    "step": {"units": "1", "long_name": "step of the timeline, counted from its first"},
    "time": {"units": "year", "long_name": "decimal year at the start of the step"},
    "member": {"units": "1", "long_name": "ensemble member (its own random stream and parameter draw)"},
}
#: the same, for results per step
UNITS_PER_STEP = {
    **UNITS,
    "flows": {"units": "people per step", "long_name": "people moved along each flow in the step"},
    "stocks": {"units": "people", "long_name": "people in each stock at the end of the step"},
}


#: misfit draws the predictive quantiles are taken over, at least one a member
PREDICTIVE_DRAWS = 4_000
#: and the most values they draw at once (a year's results: 4,000 draws of 60 years)
PREDICTIVE_VALUES = 240_000


@dataclass(frozen=True)
class Results:
    data: xr.Dataset
    model: Model

    @classmethod
    def from_arrays(cls, model: Model, timeline: Timeline, flows, stocks, *, first_member: int = 0, clock=None,
                    spread=None, resolution: str = "year", **attrs):  # fmt: skip
        """Results of arrays ``(member, period, ., stratum)``, a period being a year or, by ``resolution``, a step."""
        members = np.arange(first_member, first_member + flows.shape[0])
        strata = model.strata.dimension
        units = UNITS_PER_STEP if resolution == "step" else UNITS
        if resolution == "step":
            time = {"step": ("step", np.arange(timeline.steps), UNITS["step"]),
                    "year": ("step", timeline.years[timeline.year_index], UNITS["year"]),
                    "time": ("step", timeline.times, UNITS["time"])}  # fmt: skip
        else:
            time = {"year": ("year", timeline.years, UNITS["year"])}
        period = "step" if resolution == "step" else "year"
        coords = {"member": ("member", members, UNITS["member"]), **time, strata: list(model.strata.names)}
        variables = {
            "flows": (("member", period, "flow", strata), flows, units["flows"]),
            "stocks": (("member", period, "stock", strata), stocks, units["stocks"]),
        }
        if clock is not None:
            variables["clock"] = (("member", period, "flow", strata), clock, UNITS["clock"])
        if spread is not None:
            variables["spread"] = (("member",), np.asarray(spread, dtype=float), UNITS["spread"])
        data = xr.Dataset(
            variables,
            coords={**coords, "flow": [f.name for f in model.flows], "stock": [s.name for s in model.stocks]},
            attrs={**attrs, "steps_per_year": timeline.steps_per_year},
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
            name: (first[name].dims, np.concatenate([p.data[name].values for p in parts]), first[name].attrs)
            for name in first.data_vars
        }
        coords = {name: first.coords[name] for name in first.coords if name != "member"}
        coords["member"] = ("member", np.concatenate([p.data.member.values for p in parts]), first.member.attrs)
        data = xr.Dataset(variables, coords=coords, attrs=first.attrs)
        return cls(data, parts[0].model)

    @property
    def members(self) -> int:
        return self.data.sizes["member"]

    @property
    def period(self) -> str:
        """The axis of time: ``"year"``, or ``"step"`` for results per step."""
        return "step" if "step" in self.data.dims else "year"

    @property
    def steps_per_year(self) -> int:
        # results written before the timeline kept its step were weekly
        return int(self.data.attrs.get("steps_per_year", 52))

    def _coords(self) -> dict:
        """Member and time coordinates of an output: the period's labels (a step's year and time too)."""
        time = {name: (self.period, c.values) for name, c in self.data.coords.items() if c.dims == (self.period,)}
        return {"member": self.data.member.values, **time}

    def outputs(self) -> xr.DataArray:
        """The model's named outputs, ``(member, year, variable)`` (or per ``step``); computed once, as plots and
        tables reread them."""
        return self._outputs

    @cached_property
    def _outputs(self) -> xr.DataArray:
        arrays = {name: self.data[name].values for name in ("flows", "stocks", "clock") if name in self.data}
        at = {dim: {label: i for i, label in enumerate(self.data[dim].values)} for dim in ("flow", "stock")}

        def read(name: str, labels: list[str]) -> np.ndarray:
            return arrays[name][:, :, [at[_DIMS[name]][label] for label in labels], :]

        columns = [self._column(out, read) for out in self.model.outputs]
        return xr.DataArray(
            np.stack(columns, axis=-1),
            dims=("member", self.period, "variable"),
            coords={**self._coords(), "variable": np.array([out.name for out in self.model.outputs], dtype=object)},
        )

    def output(self, name: str) -> xr.DataArray:
        """One named output, ``(member, year)`` (or per ``step``): only its flows or stock are read (results on disk
        stay there)."""
        out = {o.name: o for o in self.model.outputs}.get(name)
        if out is None:
            raise RunError(f"output {name!r} is not known; outputs are {', '.join(o.name for o in self.model.outputs)}")
        if "_outputs" in self.__dict__:
            return self._outputs.sel(variable=name, drop=True)

        def read(variable: str, labels: list[str]) -> np.ndarray:
            return self.data[variable].sel({_DIMS[variable]: labels}).values

        return xr.DataArray(self._column(out, read), dims=("member", self.period), coords=self._coords())

    def _column(self, out, read) -> np.ndarray:
        """One output, ``(member, period)``, from ``read(variable, labels)``: ``(member, period, label, stratum)``."""
        stratum = self.model.strata.names.index(out.stratum) if out.stratum else None

        def total(values: np.ndarray) -> np.ndarray:
            values = values.sum(axis=2)
            return (values[:, :, stratum] if stratum is not None else values.sum(axis=2)).astype(float)

        if out.stock is not None:
            return total(read("stocks", [out.stock]))
        people = total(read("flows", list(out.flows)))
        if not out.clock:
            return people
        steps = total(read("clock", list(out.flows)))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(people > 0, steps / people, np.nan) / self.steps_per_year

    def tidy(self) -> pd.DataFrame:
        """Outputs as a long table: ``member, year, variable, value`` (per step: ``member, step, year, time, ...``)."""
        outputs = self.outputs()
        frame = outputs.to_dataframe(name="value").reset_index()
        return frame[["member", *(c for c in outputs.coords if outputs[c].dims == (self.period,)), "variable", "value"]]

    def predictive(self, variable: str) -> bool:
        """Whether :meth:`quantiles` of ``variable`` are predictive intervals (misfit included)."""
        return "spread" in self.data and self.model.output(variable).observed

    def quantiles(self, variable: str, q=(0.05, 0.25, 0.5, 0.75, 0.95), *, predictive: bool = True) -> pd.DataFrame:
        """Quantiles of one output by year over members, columns named by quantile.

        Predictive intervals (each member's value times its calibrated log-normal
        misfit, several draws a member from a stream keyed by the run's seed) where
        :meth:`predictive` says so and ``predictive`` is true; the ensemble's own
        spread otherwise.
        """
        q = np.atleast_1d(np.asarray(q, dtype=float))
        if q.ndim != 1 or not ((q >= 0) & (q <= 1)).all() or len(set(q)) != len(q):
            raise RunError(f"q: {q.tolist()} is not allowed; allowed: distinct quantiles between 0 and 1")
        values = self.output(variable)
        over = "member"
        if predictive and self.predictive(variable):
            seed = int(self.data.attrs.get("seed", 0))
            rng = np.random.default_rng([seed, 0x6D697366])  # "misf"
            # several misfit draws a member, PREDICTIVE_DRAWS in all: with one, a small ensemble's predictive
            # median wandered from its members' median by the draws' chance alone (fewer for results per step)
            members, periods = values.sizes["member"], values.sizes[self.period]
            draws = max(1, min(-(-PREDICTIVE_DRAWS // members), PREDICTIVE_VALUES // (members * periods)))
            noise = xr.DataArray(rng.standard_normal((draws, *values.shape)), dims=("draw", *values.dims))
            values = values * np.exp(self.data.spread * noise)
            over = ("draw", "member")
        table = values.quantile(list(q), dim=over).to_pandas().T
        table.columns = [_quantile_name(x) for x in q]
        return table

    @classmethod
    def open(cls, path: Path, model: Model) -> Results:
        """Results written by a run (``results.nc``), read lazily: arrays load as they are used."""
        return cls(xr.open_dataset(path), model)

    def save_block(self, path: Path) -> None:
        """The raw arrays of this block of members, for a run to resume from (``.npz``)."""
        first = int(self.data.member[0]) if self.members else 0
        with open(path, "wb") as f:
            np.savez(f, first=first, **{name: self.data[name].values for name in self.data.data_vars})


def _quantile_name(q: float) -> str:
    """``q05`` for the 5% quantile, ``q2.5`` for 2.5%, ``q0.1`` for 0.1%: a name for each distinct quantile."""
    percent = q * 100
    return f"q{round(percent):02d}" if abs(percent - round(percent)) < 1e-9 else f"q{percent:g}"


class ResultsWriter:
    """``results.nc`` written one block of members at a time, so a run's memory does not grow with its members."""

    def __init__(self, path: Path, model: Model, timeline: Timeline, attrs: dict) -> None:
        import netCDF4

        self._file = netCDF4.Dataset(path, "w", format="NETCDF4")
        f = self._file
        f.setncatts({**{k: v for k, v in attrs.items() if v is not None}, "steps_per_year": timeline.steps_per_year})
        names = {"flow": [x.name for x in model.flows], "stock": [x.name for x in model.stocks],
                 model.strata.dimension: list(model.strata.names)}  # fmt: skip
        f.createDimension("member", None)
        f.createDimension("year", len(timeline.years))
        for dim, labels in names.items():
            f.createDimension(dim, len(labels))
            var = f.createVariable(dim, str, (dim,))
            var[:] = np.array(labels, dtype=object)
        f.createVariable("member", "i8", ("member",)).setncatts(UNITS["member"])
        year = f.createVariable("year", "i8", ("year",))
        year.setncatts(UNITS["year"])
        year[:] = timeline.years
        self._filled = 0

    def append(self, part: Results) -> None:
        f = self._file
        for name in part.data.data_vars:
            values, dims = part.data[name].values, part.data[name].dims
            if name not in f.variables:
                var = f.createVariable(name, values.dtype, dims, zlib=True, complevel=1,
                                       chunksizes=(min(len(values), 1024), *values.shape[1:]))  # fmt: skip
                var.setncatts(UNITS[name])
            f.variables[name][self._filled : self._filled + len(values)] = values
        f.variables["member"][self._filled : self._filled + part.members] = part.data.member.values
        self._filled += part.members

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()

