"""The web app's routes: a page, its static files, and a small JSON API over scenarios, jobs and evidence.

Nothing a request holds becomes a path: static files and downloads are looked
up by name in fixed tables, jobs by their random id, result folders of a
sensitivity analysis or a backtest by their number in a list made at start-up.
Bodies are read up to a size limit; refuge's errors become ``{"error": message}``
with the same words as on the command line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from functools import cache
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from ..errors import RefugeError, RunError
from ..report import convergence
from ..scenarios import builtin_names, builtin_scenarios
from ..systems import analyses_of, get_system
from . import forms
from .analyses import find_analyses
from .jobs import DOWNLOADS, Busy, Jobs, Limits

log = logging.getLogger("refuge.web")

#: the largest request body read, in bytes (a scenario is at most 64 KiB; four in a comparison, as JSON)
MAX_BODY = 320 * 1024
BACKENDS = ("mean", "counts")
#: files of the page, by the name a request uses: (package, file, media type)
STATIC = {
    "app.js": ("refuge.web", "static/app.js", "text/javascript"),
    "style.css": ("refuge.web", "static/style.css", "text/css"),
    "plotly.min.js": ("plotly", "package_data/plotly.min.js", "text/javascript"),
}
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}  # fmt: skip


class TooLarge(RunError):
    """A request body over :data:`MAX_BODY`."""


def create_app(limits: Limits, work: Path, *, results: Path | None = None, hosts: list[str] | None = None,
               system: str | None = None) -> Starlette:  # fmt: skip
    """The app, its jobs kept under ``work`` (a folder the server made for itself).

    ``results`` is a folder the operator points at; sensitivity analyses and backtests found
    under it are shown read-only. ``hosts`` are the Host headers accepted (against DNS rebinding).
    ``system`` is the system served (the North Korean one by default); it must have a calibration.
    """
    served = get_system(system)
    system = served.name
    analyses_of(system, "serve")
    jobs = Jobs(limits, work)
    analyses = find_analyses(results) if results else []
    timeline, shown = served.timeline, served.window
    total_steps = timeline.steps
    builtins = [{"name": s.name, "description": " ".join(s.description.split())} for s in builtin_scenarios(system)]

    async def page(request: Request) -> Response:
        return Response(_static_bytes("refuge.web", "static/index.html"), media_type="text/html", headers=HEADERS)

    async def static(request: Request) -> Response:
        entry = STATIC.get(request.path_params["name"])
        if entry is None:
            raise HTTPException(404)
        package, name, media = entry
        return Response(_static_bytes(package, name), media_type=media,
                        headers={**HEADERS, "Cache-Control": "max-age=3600"})  # fmt: skip

    async def info(request: Request) -> Response:
        return _json({
            "limits": {"members": limits.members, "runs": limits.runs, "queue": limits.queue,
                       "seconds": limits.seconds, "scenarios": limits.scenarios},
            "backends": BACKENDS,
            "timeline": {"start": timeline.start, "end": timeline.end, "steps_per_year": timeline.steps_per_year},
            "window": list(shown),
            "scenarios": builtins,
            "analyses": [{"id": i, "kind": a["kind"], "title": a["title"]} for i, a in enumerate(analyses)],
            "jobs": jobs.counts(),
        })  # fmt: skip

    async def builtin(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in builtin_names(system):
            raise HTTPException(404, f"no built-in scenario of that name; built-in: {', '.join(builtin_names(system))}")
        return _json(forms.builtin_view(name, system))

    async def upload(request: Request) -> Response:
        body = await _body(request, forms_limit())
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as err:
            raise RunError(f"uploaded scenario: not UTF-8 text (byte {err.start})") from None
        return _json(forms.from_text(text, system))

    async def form(request: Request) -> Response:
        return _json(forms.from_form(await _json_body(request), system))

    async def submit_run(request: Request) -> Response:
        asked = await _json_body(request)
        forms.check_fields(asked, ("yaml", "members", "seed", "backend", "label"), "run", RunError)  # label: the page's
        members, seed, backend = _settings(asked, limits)
        if "yaml" not in asked:
            raise RunError("run: yaml: missing; allowed: the scenario's YAML as text")
        text = _text(asked["yaml"], "yaml")
        forms.from_text(text, system, "scenario")  # refused now, with the loader's message, not later in the job
        job = jobs.submit("run", {"yaml": text, "members": members, "seed": seed, "backend": backend,
                                  "system": system}, members * total_steps)  # fmt: skip
        return _json(job.public(), status=202)

    async def submit_compare(request: Request) -> Response:
        asked = await _json_body(request)
        forms.check_fields(asked, ("scenarios", "members", "seed", "backend", "start", "end", "label"), "compare",
                           RunError)  # fmt: skip
        members, seed, backend = _settings(asked, limits)
        texts = asked.get("scenarios")
        if not isinstance(texts, list) or not 2 <= len(texts) <= limits.scenarios:
            raise RunError(f"compare: give 2 to {limits.scenarios} scenarios, the first being the reference")
        texts = [_text(text, f"scenarios[{i}]") for i, text in enumerate(texts)]
        for i, text in enumerate(texts):  # each refused now, with the loader's message
            forms.from_text(text, system, f"scenario {i + 1}")
        first, last = timeline.start, timeline.end
        start, end = _integer(asked, "start", shown[0], first, last), _integer(asked, "end", shown[1], first, last)
        if start > end:
            raise RunError(f"compare: start {start} is after end {end}")
        spec = {"scenarios": texts, "members": members, "seed": seed, "backend": backend,
                "start": start, "end": end, "system": system}  # fmt: skip
        job = jobs.submit("compare", spec, len(texts) * members * total_steps)
        return _json(job.public(), status=202)

    async def job_status(request: Request) -> Response:
        job = _job(request)
        shown = job.public()
        if job.state == "done":
            try:
                shown["result"] = json.loads((job.folder / "result.json").read_text(encoding="utf-8"))
            except FileNotFoundError:  # removed this moment to make room for newer jobs
                raise HTTPException(404, "this job's results were removed to make room for newer ones") from None
            shown["downloads"] = list(DOWNLOADS[job.kind])
        return _json(shown)

    async def download(request: Request) -> Response:
        job = _job(request)
        relative = DOWNLOADS[job.kind].get(request.path_params["name"])
        if relative is None:
            raise HTTPException(404, f"a {job.kind} has no such file; its files: {', '.join(DOWNLOADS[job.kind])}")
        if job.state == "failed":
            raise HTTPException(404, f"the {job.kind} failed: it has no files")
        if job.state != "done":
            raise HTTPException(409, f"the {job.kind} is {job.state}: its files come when it is done")
        name = request.path_params["name"]
        media = "text/csv" if name.endswith(".csv") else "text/html"
        return FileResponse(job.folder / relative, media_type=media, filename=f"{job.kind}-{name}",
                            headers={"Content-Security-Policy": "sandbox"})  # fmt: skip

    async def parameters(request: Request) -> Response:
        return _json({"targets": list(forms.targets(system).values()), "posterior": _posterior(system)})

    async def routes(request: Request) -> Response:
        return _json(get_system(system).analyses().route_map())

    async def analysis(request: Request) -> Response:
        index = request.path_params["index"]
        if not 0 <= index < len(analyses):
            raise HTTPException(404)
        return _json(analyses[index])

    def _job(request: Request):
        job = jobs.get(request.path_params["job"])
        if job is None:
            raise HTTPException(404, "no such job on this server (finished jobs are kept for a while, then removed)")
        return job

    async def refused(request: Request, err: Exception) -> Response:
        status = 429 if isinstance(err, Busy) else 413 if isinstance(err, TooLarge) else 400
        return _json({"error": str(err)}, status=status)

    async def not_found(request: Request, err: HTTPException) -> Response:
        said = err.status_code in (404, 409)  # what is missing or not ready yet; other refusals say no more
        return _json({"error": err.detail if said else "not allowed"}, status=err.status_code)

    async def crashed(request: Request, err: Exception) -> Response:
        log.exception("request %s failed", request.url.path)
        return _json({"error": "internal error in the server; its log has the details"}, status=500)

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/favicon.ico", lambda request: Response(status_code=204)),
            Route("/static/{name}", static),
            Route("/api/info", info),
            Route("/api/scenarios/{name}", builtin),
            Route("/api/scenario/upload", upload, methods=["POST"]),
            Route("/api/scenario/form", form, methods=["POST"]),
            Route("/api/runs", submit_run, methods=["POST"]),
            Route("/api/compares", submit_compare, methods=["POST"]),
            Route("/api/jobs/{job}", job_status),
            Route("/api/jobs/{job}/{name}", download),
            Route("/api/parameters", parameters),
            Route("/api/routes", routes),
            Route("/api/analyses/{index:int}", analysis),
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts or ["127.0.0.1", "localhost"])],
        exception_handlers={RefugeError: refused, HTTPException: not_found, Exception: crashed},
        lifespan=_lifespan(jobs, system),
    )
    app.state.jobs = jobs
    return app


def _lifespan(jobs: Jobs, system: str):
    @contextlib.asynccontextmanager
    async def lifespan(app):
        forms.targets(system), _posterior(system)  # the model and posterior read once, before anyone waits on them
        threading.Thread(target=jobs.warm, name="refuge-warm", daemon=True).start()  # the fork server, meanwhile
        yield
        jobs.close()

    return lifespan


def forms_limit() -> int:
    from ..safe_yaml import MAX_BYTES

    return MAX_BYTES


async def _body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The request body, refused past ``limit`` bytes without reading the rest, or when another site sent it.

    A page on another site can make a person's browser post here; its ``Origin`` gives it away.
    """
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.headers.get('host')}":
        raise RunError("a request from another site's page is refused")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the request is {int(declared):,} bytes; at most {limit:,} are read (a scenario is a few "
                       "lines)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the request is more than {limit:,} bytes; at most that is read (a scenario is a "
                           "few lines)")
        chunks.append(chunk)
    return b"".join(chunks)


async def _json_body(request: Request) -> dict:
    try:
        data = json.loads(await _body(request))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RunError("the request is not JSON") from None
    if not isinstance(data, dict):
        raise RunError("the request is not a JSON object")
    return data


def _settings(asked: dict, limits: Limits) -> tuple[int, int, str]:
    members = _integer(asked, "members", 100, 1, limits.members, flag="--max-members")
    seed = _integer(asked, "seed", 0, 0, 2**63 - 1)
    backend = asked.get("backend", "mean")
    if backend not in BACKENDS:
        raise RunError(f"backend: {str(backend)[:20]!r} is not allowed here; allowed: {', '.join(BACKENDS)}")
    return members, seed, backend


def _text(value: object, key: str) -> str:
    if not isinstance(value, str):
        raise RunError(f"{key}: expected a scenario's YAML as text, not {type(value).__name__}")
    return value


def _integer(asked: dict, key: str, default: int, low: int, high: int, flag: str | None = None) -> int:
    value = asked.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        shown = json.dumps(value)[:20]  # as it was sent: "4", a string, is told apart from 4, and null is null
        limit = f" (the limit this server's operator set with {flag})" if flag else ""
        raise RunError(f"{key}: {shown} is not allowed; allowed: a whole number from {_shown(low)} to "
                       f"{_shown(high)}{limit}")  # fmt: skip
    return value


def _shown(number: int) -> str:
    """A bound as people read it: 1000 members and the year 2040 without a separator, 10,000 with one."""
    return f"{number:,}" if abs(number) >= 10_000 else str(number)


@cache
def _posterior(system: str) -> dict:
    """The 5%, 50% and 95% of each calibrated parameter in the system's shipped posterior, and how it was made."""
    posterior = get_system(system).analyses().shipped_posterior()
    if posterior is None:
        return {}
    q = posterior.samples.quantile([0.05, 0.5, 0.95])
    meta = posterior.provenance
    return {
        "quantiles": {name: [float(v) for v in q[name]] for name in q.columns},
        "about": {**{k: meta.get(k) for k in ("samples", "sampler", "data_version", "created")},
                  "convergence": convergence(meta)},
        "until": meta.get("settings", {}).get("until"),
    }


def _json(data, status: int = 200) -> Response:
    return JSONResponse(data, status_code=status, headers=HEADERS)


def _static_bytes(package: str, name: str) -> bytes:
    return resources.files(package).joinpath(*name.split("/")).read_bytes()
