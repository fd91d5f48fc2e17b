"""One kernel compiled twice, for all cores and for one, as two separately cached functions.

Numba names a cache entry by the function's qualified name and first line, and
does not key it by ``parallel`` (numba issue 6845): compile one function with and
without ``parallel=True`` and whichever build is cached first is loaded for both
in later processes, so a "parallel" kernel can run on one thread. Here each build
is a copy of the function under its own name, so it has its own cache entry.

Numba checks only a kernel's own file for changes, not the files of what it
calls: after editing ``random.py``, delete the cached builds (``find src -name
'*.nb[ic]' -delete``) or kernels elsewhere keep the old generator.

OpenMP's threads, left to themselves, spin while they wait for the next kernel:
between two weeks' kernels they take a core from the Python that computes the
hazards, and on a busy machine from everyone else (a 1,000-member counts run at
load 6: 19 s of CPU for 25-39 s wall, against 9-10 s and 14 s with passive waiting).
Unless the user has chosen otherwise, they wait passively.
"""

from __future__ import annotations

import inspect
import os
import types
import zlib
from pathlib import Path

import numba as nb

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read when Numba first starts its OpenMP threads

#: fewer members run on one thread: a week of a member is about 2 us, and on a busy machine
#: a parallel region waits for the slower thread's turn on a core (milliseconds)
PARALLEL_MEMBERS = 1_000


def one_thread() -> None:
    """A worker process's initializer: its kernels run on one thread, since its siblings have the other cores (a
    parallel region in each of two processes on two cores waits for the other's turn every step)."""
    nb.set_num_threads(1)


def parallel_and_serial(py_func, *, calls: dict | None = None, tag: str = "", **options):
    """Dispatchers ``(parallel, serial)`` of ``py_func``, each cached under its own name.

    ``calls`` binds names the function calls (a system's compiled hooks) in place of the module's own,
    as a build of its own named with ``tag`` (:func:`tag_of` the hooks): editing a hook's file gives
    a fresh build rather than the cached one with the old hook inside.
    """
    return tuple(nb.njit(parallel=parallel, cache=True, **options)(_renamed(py_func, tag + suffix, calls))
                 for parallel, suffix in ((True, "parallel"), (False, "serial")))  # fmt: skip


def bound(py_func, calls: dict, tag: str, **options):
    """One dispatcher of ``py_func`` with ``calls`` bound, cached under a name with ``tag``."""
    return nb.njit(cache=True, **options)(_renamed(py_func, tag.rstrip("_"), calls))


def tag_of(calls: dict) -> str:
    """A name for a binding of ``calls``: their names and a checksum of their source files."""
    sources = b"".join(sorted({Path(inspect.getsourcefile(f.py_func)).read_bytes() for f in calls.values()}))
    return f"{'_'.join(f.py_func.__name__ for f in calls.values())}_{zlib.crc32(sources):08x}_"


def _renamed(py_func, suffix: str, calls: dict | None = None):
    name = f"{py_func.__name__}_{suffix}"
    code = py_func.__code__.replace(co_name=name, co_qualname=name)
    scope = {**py_func.__globals__, **calls} if calls else py_func.__globals__
    twin = types.FunctionType(code, scope, name, py_func.__defaults__, py_func.__closure__)
    twin.__qualname__ = name
    twin.__doc__ = py_func.__doc__
    return twin
