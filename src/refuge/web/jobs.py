"""Jobs of the web app: runs and comparisons, each in its own process, a bounded number at a time.

Each job has a random, unguessable id and a folder of its own under the server's
work folder; the id is the only way to its results, so one person's run never
shows up in another's page. A job that crashes or runs past the operator's time
limit ends alone and says so; the server goes on.
"""

from __future__ import annotations

import multiprocessing
import secrets
import shutil
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RunError

#: the kinds of job and the files each may hand out, by the name a request uses
DOWNLOADS = {
    "run": {"annual.csv": "run/annual.csv", "report.html": "run/report.html"},
    "compare": {"compare.csv": "compare/compare.csv", "differences.csv": "compare/differences.csv",
                "report.html": "compare/report.html"},
}  # fmt: skip


class Busy(RunError):
    """The server holds as many jobs as its operator allows; the person should try again shortly."""


@dataclass(frozen=True)
class Limits:
    """What one person may ask of the server, set by its operator (``refuge serve --max-...``)."""

    members: int = 1_000  # ensemble members in one run (each scenario of a comparison)
    runs: int = 2  # jobs running at once
    queue: int = 8  # jobs waiting for a free slot
    seconds: float = 600.0  # longest a job may run before it is stopped
    kept: int = 32  # finished jobs whose results are kept, the oldest removed first (a run of 1,000 members is ~70 MB)
    scenarios: int = 4  # scenarios in one comparison


@dataclass
class Job:
    id: str
    kind: str
    spec: dict
    folder: Path
    total: int  # member-weeks of work, for the progress bar
    state: str = "queued"  # queued, running, done, failed
    error: str | None = None
    started: float | None = None
    process: multiprocessing.process.BaseProcess | None = field(default=None, repr=False)

    def progress(self) -> float:
        if self.state == "done":
            return 1.0
        try:
            done = int((self.folder / "progress").read_text(encoding="ascii") or 0)
        except (OSError, ValueError):
            return 0.0
        return min(done / self.total, 0.99) if self.total else 0.0

    def public(self) -> dict:
        """What a page may know of the job."""
        return {"id": self.id, "kind": self.kind, "state": self.state, "progress": round(self.progress(), 3),
                "error": self.error}  # fmt: skip


class Jobs:
    """The server's jobs: a queue, processes started as slots free up, a watcher that reaps them."""

    def __init__(self, limits: Limits, root: Path, context=None) -> None:
        """``context`` is how processes start: the fork server by default (tests may fork directly)."""
        self.limits, self.root = limits, Path(root)
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        if context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["refuge.web.worker"])
        self._context = context
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="refuge-jobs", daemon=True)
        self._watcher.start()

    def submit(self, kind: str, spec: dict, total: int) -> Job:
        """Queue a job, or refuse with :class:`Busy` when running and waiting jobs fill every slot."""
        with self._lock:
            active = sum(job.state in ("queued", "running") for job in self._jobs.values())
            if active >= self.limits.runs + self.limits.queue:
                raise Busy(f"busy: {active} jobs are running or waiting, the most this server takes "
                           f"({self.limits.runs} at once, {self.limits.queue} waiting); try again in a minute")
            job_id = secrets.token_urlsafe(16)
            folder = self.root / job_id
            folder.mkdir()
            job = Job(job_id, kind, spec, folder, total)
            self._jobs[job_id] = job
            return job  # the watcher starts it within a tenth of a second; a request never waits on a fork

    def warm(self) -> None:
        """Start the process jobs are forked from (it imports the model once), before anyone waits on it."""
        process = self._context.Process(target=int, name="refuge-warm")
        process.start()
        process.join()

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def counts(self) -> dict[str, int]:
        with self._lock:
            states = [job.state for job in self._jobs.values()]
        return {state: states.count(state) for state in ("queued", "running", "done", "failed")}

    def close(self) -> None:
        """Stop the watcher and every running job; the work folder is the caller's to remove."""
        self._stop.set()
        self._watcher.join(timeout=5)
        with self._lock:
            for job in self._jobs.values():
                if job.process is not None and job.process.is_alive():
                    job.process.kill()
                    job.process.join(timeout=5)

    # -- under the lock --------------------------------------------------------------------------------------------

    def _next_to_start(self) -> list[Job]:
        """Queued jobs that free slots let start, marked running (their processes start outside the lock)."""
        free = self.limits.runs - sum(job.state == "running" for job in self._jobs.values())
        chosen = [job for job in self._jobs.values() if job.state == "queued"][: max(free, 0)]
        for job in chosen:
            job.state, job.started = "running", time.monotonic()
        return chosen

    def _reap(self) -> None:
        now = time.monotonic()
        for job in self._jobs.values():
            if job.state != "running" or job.process is None:
                continue
            if job.process.is_alive() and now - job.started > self.limits.seconds:
                job.process.kill()
                job.process.join(timeout=5)
                job.state = "failed"
                job.error = (f"stopped after {self.limits.seconds:g} s, the longest this server lets a job run; "
                             "ask for fewer members")  # fmt: skip
            elif not job.process.is_alive():
                job.process.join()
                job.state, job.error = _outcome(job)
            if job.state != "running":
                job.process = None

    def _forget_oldest(self) -> None:
        finished = [job for job in self._jobs.values() if job.state in ("done", "failed")]
        for job in finished[: max(0, len(finished) - self.limits.kept)]:
            del self._jobs[job.id]
            shutil.rmtree(job.folder, ignore_errors=True)

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            with self._lock:
                self._reap()
                self._forget_oldest()
                starting = self._next_to_start()
            for job in starting:  # a fork can wait on the fork server: requests must not wait with it
                process = self._context.Process(target=_work, args=(job.kind, job.spec, job.folder),
                                                name=f"refuge-{job.kind}", daemon=True)  # fmt: skip
                process.start()
                with self._lock:
                    job.process = process


def _work(kind: str, spec: dict, folder: Path) -> None:
    """A job's process: the worker is imported there (preloaded in the fork server), never in the server."""
    from .worker import main

    main(kind, spec, folder)


def _outcome(job: Job) -> tuple[str, str | None]:
    """A finished process's state and message, from the files it left."""
    if (job.folder / "result.json").exists():
        return "done", None
    try:
        return "failed", (job.folder / "error.txt").read_text(encoding="utf-8")
    except OSError:
        return "failed", f"the run stopped unexpectedly (exit code {job.process.exitcode}); the server goes on"
