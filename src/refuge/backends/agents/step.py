"""Compiled kernels of the agents backend: one step for every person of one ensemble member.

Each person's draws come from the counter-based stream of (member key, step,
decision, row), so a person's step does not depend on threads or chunks. One
Philox block gives the stay-or-leave uniforms of four rows; the blocks of
``SWEEP`` rows are made in one pass before those rows are walked (a loop the
compiler vectorises, unlike a block made where it is used). A leaver's uniform,
rescaled to (0, 1) below the chance to leave, picks the flow; the system's
``live`` hook gets the uniform too (a stayer's, rescaled above the chance, is
free for a decision of its own).

People are split into chunks of rows (:func:`chunk_rows`); each chunk counts
what it moved and who is where, and the integer chunk totals are summed, so
the chunk size changes nothing but speed.

A person's *class* within a stock is what their declared traits make of their
hazards (:mod:`.traits`). Hazards per class are tabulated once per step
(:func:`hazard_tables`), so the per-person work is a lookup and a draw. The
system's hooks are bound into the kernels by name (``class_of``, ``born``,
``live``; :func:`kernels`), each binding a build of its own.
"""

from __future__ import annotations

import math
from functools import cache

import numba as nb
import numpy as np

from ..compiled import bound, parallel_and_serial, tag_of
from ..moves import apply_counts
from ..random import decision_id, fill_uniforms, uniforms
from . import traits as declared
from .traits import no_birth as born
from .traits import no_change as live
from .traits import no_class as class_of

SMALLEST_CHUNK = 4_096
CHUNKS = 64
#: rows whose stay-or-leave uniforms are made in one pass (8 KiB of them; a chunk's worth would leave the cache)
SWEEP = 1_024
#: fewer rows run on one thread: waking the others each step costs more than it saves at 10,000 people
#: on a busy machine (at 100,000 two threads ran 1.1-1.2 times as fast at load 7, threads waiting passively)
PARALLEL_FROM = 1 << 16
MOVE = decision_id("agents:move")
BIRTH = decision_id("agents:birth")


def chunk_rows(count: int) -> int:
    """Rows per chunk: about ``CHUNKS`` chunks to share among threads, none under ``SMALLEST_CHUNK`` rows."""
    return max(SMALLEST_CHUNK, -(-count // CHUNKS))


def block_rows(count: int) -> int:
    """Rows per chunk of a block of steps: about ``CHUNKS`` chunks, none under a sweep's rows (a chunk's work is
    its rows times the block's steps, so small chunks share the cores evenly)."""
    return max(SWEEP, -(-count // CHUNKS))


@nb.njit(cache=True, error_model="numpy")
def hazard_tables(rates, census, weights, outflows, nout, destined, destinations, p_leave, cum):
    """This step's chance to leave and the split among flows, per (stock, stratum, class) with people in it.

    A flow's hazard for a class is the model's per-capita rate times the class's
    weight over the stock's average weight (from ``census``), so the stock's
    expected total is the model's. A destined flow (``destined``) is taken only by
    the classes bound to it (``destinations``), at the summed rate of the stock's
    destined flows. Where every class of a stock weighs one, the average is exactly
    one and each hazard is the model's rate, so the weighing is skipped.
    """
    stocks, strata, classes = census.shape  # p_leave stays zero in stocks without outflows
    haz = np.zeros(outflows.shape[1])
    mean_weight = np.ones(outflows.shape[1])
    for s in range(stocks):
        if nout[s] == 0:
            continue
        alike = True
        for c in range(classes):
            for j in range(nout[s]):
                alike = alike and weights[s, c, j] == 1.0
        for x in range(strata):
            people = 0.0
            for c in range(classes):
                people += census[s, x, c]
            exits = 0.0
            for j in range(nout[s]):
                f = outflows[s, j]
                if destined[f]:
                    exits += rates[f, x]
                if alike:
                    continue
                weighted = 0.0
                for c in range(classes):
                    weighted += census[s, x, c] * weights[s, c, j]
                mean_weight[j] = weighted / people if weighted > 0.0 else -1.0
            for c in range(classes):
                if census[s, x, c] == 0:
                    continue  # nobody in the class: nobody to draw for
                total = 0.0
                for j in range(nout[s]):
                    f = outflows[s, j]
                    if destined[f]:
                        h = exits if destinations[s, c] == f else 0.0
                    elif alike:
                        h = rates[f, x]
                    elif mean_weight[j] > 0.0:
                        h = rates[f, x] * weights[s, c, j] / mean_weight[j]
                    else:
                        h = rates[f, x]
                    haz[j] = h
                    total += h
                p_leave[s, x, c] = -math.expm1(-total)
                acc = 0.0
                for j in range(nout[s]):
                    acc += haz[j] / total if total > 0.0 else 0.0
                    cum[s, x, c, j] = acc


def _move_people(stock, stratum, klass, traits, event, count, rows, clock, flows, context, tally, census):
    """One step for rows ``0 .. count-1`` in chunks of ``rows`` (:func:`_walk_chunk` each).

    ``klass`` is each person's class, ``traits`` the declared trait columns, ``event`` the flow each
    person took (when recording);
    ``clock`` is ``(k0, k1, step, new_year)``; ``flows`` this step's chances and splits
    (:func:`hazard_tables`), the stocks' outflows and the flows' targets, and whether the people are
    alike; ``context`` the system's values for its hooks; ``tally`` and ``census`` per chunk, filled here.

    The chunk's walk is a function of its own, called, not inlined: inlined into the parallel loop,
    writes through a tuple of columns unpacked there were lost (Numba 0.68; ``tests/test_compiled.py``).
    """
    chunks = (count + rows - 1) // rows
    for chunk in nb.prange(chunks):
        walk_chunk(stock, stratum, klass, traits, event, chunk * rows, min(count, (chunk + 1) * rows), clock, flows,
                   context, tally[chunk], census[chunk])  # fmt: skip


def _walk_chunk(stock, stratum, klass, traits, event, start, end, clock, flows, context, tally, census):
    """Rows ``start .. end-1``, in sweeps of ``SWEEP`` rows whose draws stay in the first-level cache.

    Order for each sweep (each person's own: people do not touch one another):

    1. each person leaves their stock with this step's chance for their stock, stratum and class
       (``klass``, the class the last step left them in), along a flow drawn from the split;
    2. the system's ``live`` hook: what the step (and the move) does to their traits;
    3. the system's ``class_of``: each person's class now, kept in ``klass`` and counted in ``census``
       by stock, stratum and class.

    The hooks take the sweep's rows at once: a tuple of columns unpacked for each person costs
    a reference count per column (atomic, and ten times the step of a person). People alike (no
    declared traits) take :func:`_walk_alike`, step 1 alone, and are not counted (the caller takes
    the census from the aggregate state).
    """
    k0, k1, step, _ = clock
    p_leave, cum, outflows, nout, targets, alike = flows
    recording = event.shape[0] > 0
    tally[:] = 0
    census[:] = 0
    u = np.empty(SWEEP)
    leavers = np.empty(SWEEP, dtype=np.int64)
    p = np.empty(SWEEP)
    moved = np.empty(SWEEP, dtype=np.int64)
    for first in range(start & ~3, end, SWEEP):
        lo, hi = max(first, start), min(end, first + SWEEP)
        fill_uniforms(u[: (hi - first + 3) & ~3], k0, k1, step, MOVE, first >> 2)
        if alike:
            _walk_alike(lo, hi, u[lo - first :], leavers, stock, stratum, event, p_leave, cum, outflows, nout, targets,
                        tally, recording)  # fmt: skip
            continue
        draws = u[lo - first : hi - first]
        for k in range(hi - lo):
            i = lo + k
            s = stock[i]
            x = stratum[i]
            c = klass[i]
            p[k] = p_leave[s, x, c]  # zero in a stock without outflows
            moved[k] = -1
            if draws[k] < p[k]:
                u1 = draws[k] / p[k]
                j = 0
                for f in range(nout[s] - 1):  # the first j with u1 <= cum[j], without a branch to guess
                    j += u1 > cum[s, x, c, f]
                f = outflows[s, j]
                moved[k] = f
                stock[i] = targets[f]
                tally[f, x] += 1
            if recording:
                event[i] = moved[k]
        live(traits, stock, stratum, lo, hi, moved, draws, p, clock, context)
        class_of(traits, stock, lo, hi, context, klass[lo:hi])
        for i in range(lo, hi):
            census[stock[i], stratum[i], klass[i]] += 1


@nb.njit(cache=True, inline="always", error_model="numpy")
def _walk_alike(start, end, u, leavers, stock, stratum, event, p_leave, cum, outflows, nout, targets, tally,
                recording):  # fmt: skip
    """Rows ``start .. end-1`` (their uniforms ``u`` from row ``start``) of people alike: step 1 of
    :func:`_move_people` only, in two passes with the same moves: the first lists the leavers (in
    ``leavers``, without a branch on the draw, which no processor guesses), the second moves them.
    """
    n = 0
    for i in range(start, end):
        leavers[n] = i
        n += u[i - start] < p_leave[stock[i], stratum[i], 0]  # zero for a stock without outflows: nobody leaves it
        if recording:
            event[i] = -1
    for k in range(n):
        i = leavers[k]
        s = stock[i]
        x = stratum[i]
        u1 = u[i - start] / p_leave[s, x, 0]
        j = 0
        for c in range(nout[s] - 1):
            j += u1 > cum[s, x, 0, c]
        moved = outflows[s, j]
        stock[i] = targets[moved]
        tally[moved, x] += 1
        if recording:
            event[i] = moved


def _move_block(stock, stratum, count, rows, k0, k1, first, periods, table, p_leave, cum, outflows, nout, targets,
                tally):  # fmt: skip
    """Steps ``first`` onwards of people alike, rows ``0 .. count-1`` in chunks of ``rows``, each chunk taking
    its people through every step of the block in one go, with no wait between steps.

    The moves are those of :func:`_move_people` step by step, as a person's
    uniform is keyed by step and row: step ``k`` reads ``p_leave[table[k]]``
    ``(stocks, strata, 1)`` and ``cum[table[k]]`` from :func:`block_tables`;
    ``tally`` ``(chunks, periods, flows, strata)`` counts each chunk's moves by the
    period of the step (``periods``, one per step), filled here.
    """
    chunks = (count + rows - 1) // rows
    for chunk in nb.prange(chunks):
        walk_block(stock, stratum, chunk * rows, min(count, (chunk + 1) * rows), k0, k1, first, periods, table,
                   p_leave, cum, outflows, nout, targets, tally[chunk])  # fmt: skip


def _walk_block(stock, stratum, start, end, k0, k1, first, periods, table, p_leave, cum, outflows, nout, targets,
                tally):  # fmt: skip
    """Rows ``start .. end-1`` through every step of the block, each step in sweeps of ``SWEEP`` rows whose
    uniforms are made in one pass and then walked (:func:`_walk_alike`), as :func:`_walk_chunk` does a step."""
    tally[:] = 0
    u = np.empty(SWEEP)
    leavers = np.empty(SWEEP, dtype=np.int64)
    no_events = np.empty(0, dtype=np.int8)
    for k in range(table.shape[0]):
        for sweep in range(start & ~3, end, SWEEP):
            lo, hi = max(sweep, start), min(end, sweep + SWEEP)
            fill_uniforms(u[: (hi - sweep + 3) & ~3], k0, k1, first + k, MOVE, sweep >> 2)
            _walk_alike(lo, hi, u[lo - sweep :], leavers, stock, stratum, no_events, p_leave[table[k]], cum[table[k]],
                        outflows, nout, targets, tally[periods[k]], False)  # fmt: skip


@nb.njit(cache=True, error_model="numpy")
def block_tables(rates, outflows, nout, table, p_leave, cum):
    """:func:`hazard_tables` of people alike for the steps of a block, ``rates`` ``(steps, flows, strata)``: a
    table per run of steps with the same rates, ``table[k]`` the one step ``k`` reads (``p_leave`` and ``cum``
    have room for one a step). Returns how many tables were made."""
    tables = 0
    for k in range(rates.shape[0]):
        if k > 0 and _same(rates[k], rates[k - 1]):
            table[k] = table[k - 1]
            continue
        table[k] = tables
        for s in range(outflows.shape[0]):
            for x in range(rates.shape[2]):
                total = 0.0
                for j in range(nout[s]):
                    total += rates[k, outflows[s, j], x]
                p_leave[tables, s, x, 0] = -math.expm1(-total)
                acc = 0.0
                for j in range(nout[s]):
                    acc += rates[k, outflows[s, j], x] / total if total > 0.0 else 0.0
                    cum[tables, s, x, 0, j] = acc
        tables += 1
    return tables


@nb.njit(cache=True, inline="always")
def _same(a, b):
    """Whether two steps' rates ``(flows, strata)`` are equal, without an array made to say so."""
    for f in range(a.shape[0]):
        for x in range(a.shape[1]):
            if a[f, x] != b[f, x]:
                return False
    return True


@nb.njit(cache=True)
def add_block(by_chunk, moved, state, sources, targets):
    """Sum the chunks' moves ``(chunks, periods, flows, strata)`` into ``moved`` ``(periods, flows, strata)`` and
    apply them to ``state`` ``(stocks, strata)``, in place."""
    for c in range(by_chunk.shape[0]):
        for k in range(by_chunk.shape[1]):
            moved[k] += by_chunk[c, k]
            apply_counts(state, by_chunk[c, k], sources, targets)


def _new_people(stock, stratum, klass, traits, start, end, into, x, k0, k1, step, context, census):
    """Fill rows ``start .. end-1`` with people arriving in stock ``into``, stratum ``x``: their traits from the
    system's ``born`` hook (four uniforms of each row's own stream), ``SWEEP`` rows at a time; their class into
    ``klass`` and ``census``."""
    u = np.empty((SWEEP, 4))
    classes = np.empty(SWEEP, dtype=np.int64)
    for lo in range(start, end, SWEEP):
        hi = min(end, lo + SWEEP)
        for i in range(lo, hi):
            stock[i] = into
            stratum[i] = x
            u[i - lo, 0], u[i - lo, 1], u[i - lo, 2], u[i - lo, 3] = uniforms(k0, k1, step, BIRTH, i)
        born(traits, lo, hi, into, x, u, context)
        class_of(traits, stock, lo, hi, context, classes)
        for k in range(hi - lo):
            if klass.shape[0] > 0:  # people alike have no class column
                klass[lo + k] = classes[k]
            census[into, x, classes[k]] += 1


#: one step of people on all cores, and on one (see ``PARALLEL_FROM``), with no traits
walk_chunk = nb.njit(cache=True, error_model="numpy")(_walk_chunk)
move_people, move_people_serial = parallel_and_serial(_move_people, error_model="numpy")
#: a block of steps of people alike on all cores, and on one
walk_block = nb.njit(cache=True, error_model="numpy")(_walk_block)
move_block, move_block_serial = parallel_and_serial(_move_block, error_model="numpy")
new_people = nb.njit(cache=True, error_model="numpy")(_new_people)


@cache
def kernels(class_of, born, live):
    """``(move_people, move_people_serial, new_people)`` with a system's hooks bound (see :mod:`.traits`)."""
    if (class_of, born, live) == (declared.no_class, declared.no_birth, declared.no_change):
        return move_people, move_people_serial, new_people
    hooks = {"class_of": class_of, "born": born, "live": live}
    tag = tag_of(hooks)
    walk = bound(_walk_chunk, hooks, tag, error_model="numpy")
    return (*parallel_and_serial(_move_people, calls={"walk_chunk": walk}, tag=tag, error_model="numpy"),
            bound(_new_people, hooks, tag, error_model="numpy"))  # fmt: skip


@nb.njit(cache=True)
def add_chunks(moved_by_chunk, census_by_chunk, moved, census):
    """Sum the chunks' counts into ``moved`` and ``census``, in place (no arrays made each step)."""
    moved[:] = 0
    census[:] = 0
    flat_moved = moved.reshape(-1)
    flat = census.reshape(-1)
    moved_chunks = moved_by_chunk.reshape(moved_by_chunk.shape[0], -1)
    by_chunk = census_by_chunk.reshape(census_by_chunk.shape[0], -1)
    for chunk in range(moved_by_chunk.shape[0]):
        for k in range(flat_moved.shape[0]):
            flat_moved[k] += moved_chunks[chunk, k]
        for k in range(flat.shape[0]):
            flat[k] += by_chunk[chunk, k]


@nb.njit(cache=True)
def apply_moves(state, tally, moved, sources, targets, census, counted):
    """Move the step's counts ``(flows, strata)`` between stocks of the aggregate state; add them to ``tally``.

    Unless the kernel ``counted`` them, every stock's people are its one class, counted from the state.
    """
    apply_counts(state, moved, sources, targets)
    tally += moved
    if not counted:
        for s in range(state.shape[0]):
            for x in range(state.shape[1]):
                census[s, x, 0] = state[s, x]
