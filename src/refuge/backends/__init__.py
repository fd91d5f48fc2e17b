"""Backends: interchangeable ways to move people, all driven by the model's one set of hazards.

A backend is built with the model, the members' random keys and the timeline,
and has one method, ``step(state, rates, step, tally)``, which moves people for one week in
place and adds what each flow moved to ``tally``, ``(members, flows, 2)``.
"""

from ..errors import RunError
from .agents import Agents
from .counts import CountsBackend
from .mean import MeanBackend

BACKENDS = {backend.name: backend for backend in (MeanBackend, CountsBackend, Agents())}


def get_backend(name):
    """The backend registered as ``name``; a configured backend (such as ``Agents(record=True)``) as it is."""
    if not isinstance(name, str):
        return name
    try:
        return BACKENDS[name]
    except KeyError:
        raise RunError(f"backend {name!r} is not known; choose one of {', '.join(BACKENDS)}") from None
