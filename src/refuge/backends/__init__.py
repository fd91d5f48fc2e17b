"""Backends: interchangeable ways to move people, all driven by the model's one set of hazards.

A backend is built with the model and the members' random keys, and has one
method, ``step(state, rates, step, tally)``, which moves people for one week in
place and adds what each flow moved to ``tally``, ``(members, flows, 2)``.
"""

from ..errors import RunError
from .counts import CountsBackend
from .mean import MeanBackend

BACKENDS = {backend.name: backend for backend in (MeanBackend, CountsBackend)}


def get_backend(name: str):
    try:
        return BACKENDS[name]
    except KeyError:
        raise RunError(f"backend {name!r} is not known; choose one of {', '.join(BACKENDS)}") from None
