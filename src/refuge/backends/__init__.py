"""Backends: interchangeable ways to move people, all driven by the model's one set of hazards.

A backend is built with the model, the members' random keys and the timeline,
and has one method, ``step(state, rates, step, tally)``, which moves people for one week in
place and adds what each flow moved to ``tally``, ``(members, flows, strata)``.
The engine's own are ``mean``, ``counts`` and ``agents`` (people alike); a system adds its own
(the Korean system its agents, with the traits it declares), each a fresh value at every lookup.
:mod:`.travel` moves people along a network's links, for systems with geography.
"""

from ..errors import RunError


def get_backend(name, system=None):
    """The backend registered as ``name`` by the engine or ``system``; a configured backend as it is.

    The backends load here, not with the package, so a tool that needs only the random streams or
    :mod:`.travel` does not pay for them.
    """
    if not isinstance(name, str):
        return name
    from ..systems import get_system
    from .agents import AgentsBackend
    from .counts import CountsBackend
    from .mean import MeanBackend

    engine = {backend.name: backend for backend in (MeanBackend, CountsBackend, AgentsBackend)}
    known = {**engine, **get_system(system).backends()}
    try:
        return known[name]
    except KeyError:
        raise RunError(f"backend {name!r} is not known; choose one of {', '.join(known)}") from None
