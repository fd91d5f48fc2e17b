"""Backend ``agents``: individual people as typed columns, with the traits a system declares.

:mod:`.traits` is the declaration (what a system's people carry and what it does to their
hazards), :mod:`.people` the columns, :mod:`.step` the compiled step, :mod:`.backend` the backend.
"""

from .backend import Agents, AgentsBackend
from .people import People
from .traits import NO_TRAITS, Traits

__all__ = ["NO_TRAITS", "Agents", "AgentsBackend", "People", "Traits"]
