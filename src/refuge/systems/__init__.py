"""Systems that plug into the engine, and the one protocol they share.

The engine (``refuge.model``, ``refuge.backends``, ``refuge.simulation``, results, output, plots,
comparison, the run store) knows no country: what is particular to a system — its model, its
built-in scenarios, how members draw their parameters, its own backends, its plots and the
measures a comparison shows — it asks of a :class:`System`. Systems are found by name here,
imported only when asked for, so an engine module never imports one.

>>> get_system("korea").name
'korea'
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..errors import RunError, did_you_mean

if TYPE_CHECKING:
    import numpy as np

    from ..model.timeline import Timeline

#: the system a verb runs when none is named
DEFAULT = "korea"
#: name -> module holding the system as ``SYSTEM``
_MODULES = {"korea": "refuge.systems.korea.system"}


@runtime_checkable
class System(Protocol):
    """What a system provides the engine. Each is a small value; no method keeps state between runs."""

    name: str
    #: the years and the steps a year a run takes unless told otherwise (a :class:`~refuge.model.timeline.Timeline`)
    timeline: Timeline
    #: the first and last year a scenario comparison, a sensitivity analysis and the web page measure unless told
    window: tuple[int, int]
    #: the plot files :meth:`write_plots` writes
    plot_files: tuple[str, ...]
    #: measures a scenario comparison shows: output name -> ("sum" over the window | "max", words)
    measures: Mapping[str, tuple[str, str]]
    #: short names ``refuge sensitivity --output`` takes, each for one of :attr:`measures`; the first five are its
    #: default
    sensitivity_outputs: Mapping[str, str]
    #: the output the historical record counts: the headline of reports and of the web page's first chart
    headline: str
    #: the web page's charts after the headline's, each a title and the outputs it draws with bands (one unit a
    #: chart: people, or years for a clock output)
    charts: Mapping[str, tuple[str, ...]]

    def model(self):
        """The system's :class:`~refuge.model.definition.Model` with its default parameters."""

    def scenario_folder(self) -> Traversable:
        """The folder of built-in scenario files (``<name>.yaml``)."""

    def member_parameters(self, members: int, seed: int) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        """Parameters each member draws (e.g. from a posterior) and each member's misfit, or ``({}, None)``."""

    def member_paths(self, members: int, seed: int, first: int, keys: np.ndarray, timeline) -> dict[str, np.ndarray]:
        """Drivers the members of ``first .. first + len(keys) - 1`` follow on paths of their own, by year
        (e.g. a latent process drawn from a posterior and continued by its law; ``keys``: their streams), or ``{}``."""

    def central_paths(self, timeline, quantiles: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """The drivers of :meth:`member_paths` on a central path each, ``(rows, years of timeline)``, or ``{}``: what
        a run without members of its own follows (sensitivity's model function). After the years the system was
        calibrated on, a driver in ``quantiles`` follows each row's quantile of its spread, the others their
        centre; one row without ``quantiles``."""

    def parameter_draws(self, name: str) -> tuple[float, float] | None:
        """The lowest and highest value members may draw for ``name`` (for lever checks), or ``None``."""

    def parameter_source(self, calibrated: bool) -> str:
        """Words for where members' parameters came from, kept with a run's settings."""

    def backends(self) -> dict[str, object]:
        """Backends of the system's own, by name, each a fresh value (e.g. agents with the system's traits)."""

    def recorder(self):
        """A backend keeping every person's moves (``take_events(first)``); ``None`` for a system without people."""

    def write_trajectories(self, events, folder: Path) -> None:
        """Tables and plots of the moves a :meth:`recorder` kept, into ``folder``."""

    def write_plots(self, results, folder: Path, *, predictive: bool) -> None:
        """The system's plots of a run (:attr:`plot_files`) into ``folder``."""

    def summary(self, results, *, predictive: bool):
        """A run's summary for a terminal (a rich renderable)."""

    def trajectory_summary(self, folder: Path):
        """The summary of the trajectories :meth:`write_trajectories` wrote into ``folder``."""

    def record_end(self) -> int | None:
        """The last year of the system's historical record (plots mark it), or ``None``."""

    def analyses(self):
        """The system's calibration and what the analysis verbs read beside it, or ``None`` for a system without one.

        A namespace (the North Korean system's is :mod:`refuge.systems.korea.analyses`): ``Settings``,
        ``calibrate``, ``write_report``, ``record_end`` (``--until``'s default) and ``CALIBRATION_FILES``
        (``refuge calibrate``); ``shipped_posterior`` and the names it calibrates, ``CALIBRATED``
        (``sensitivity``, ``report``, ``serve``); ``record``, the yearly record plots are drawn against;
        ``route_map`` for the web app; ``Budget``, ``backtest`` and its ``ORIGINS`` (``refuge backtest``);
        ``ESTIMATES``, ``estimate`` and ``plot_estimate`` (``refuge estimate``); the evidence's functions
        (``refuge evidence``).
        """


def get_system(name: str | System | None = None) -> System:
    """The system registered as ``name`` (the default when ``None``); a system value as it is."""
    if name is None:
        name = DEFAULT
    if not isinstance(name, str):
        return name
    if name not in _MODULES:
        raise RunError(f"system {name!r} is not known{did_you_mean(name, _MODULES)}; choose one of "
                       f"{', '.join(_MODULES)}")
    return import_module(_MODULES[name]).SYSTEM


def system_names() -> list[str]:
    return list(_MODULES)


def analyses_of(system: str | System | None, verb: str):
    """The analyses of ``system`` (see :meth:`System.analyses`); a system without them is refused for ``verb``."""
    chosen = get_system(system)
    found = chosen.analyses()
    if found is None:
        able = [name for name in _MODULES if get_system(name).analyses() is not None]
        raise RunError(f"--system {chosen.name!r}: 'refuge {verb}' needs a calibrated system, and {chosen.name!r} has "
                       f"no calibration; allowed: {', '.join(able)}")  # fmt: skip
    return found


def window(system: str | System | None, start: int | None, end: int | None) -> tuple[int, int]:
    """``start`` and ``end`` where given, else the system's :attr:`~System.window`; checked against its timeline."""
    chosen = get_system(system)
    start, end = (chosen.window[0] if start is None else start), (chosen.window[1] if end is None else end)
    chosen.timeline.check_window(start, end)
    return start, end
