"""``refuge serve``: the model in a browser, for people who do not use a terminal.

Built on Starlette (the ASGI toolkit under FastAPI) served by uvicorn; charts are
drawn by plotly.js, served from the plotly package, so the page loads nothing
from the network. Install with ``pip install 'refuge[web]'``; see ``docs/web.md``.
"""

from __future__ import annotations

import shutil
import signal
import socket
import tempfile
from pathlib import Path

from ..errors import RunError
from .jobs import Limits

__all__ = ["Limits", "serve"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: connections served at once; past this, uvicorn answers 503 at once rather than queue without bound
CONNECTIONS = 256


def serve(host: str = "127.0.0.1", port: int = 8000, limits: Limits | None = None, results: Path | None = None,
          announce=print, system: str | None = None) -> None:  # fmt: skip
    """Serve the app until interrupted; jobs live in a temporary folder removed on the way out.

    ``announce`` is told the address once the settings are checked, just before the server starts.
    ``system`` (the North Korean one by default) must have a calibration.
    """
    from ..systems import analyses_of

    analyses_of(system, "serve")
    if results is not None and not Path(results).is_dir():
        raise RunError(f"--results {results}: not a folder")
    _check_address(host, port)
    try:
        import uvicorn

        from .app import create_app
    except ImportError as err:
        raise RunError(f"refuge serve needs the web extra ({err.name} is missing): pip install 'refuge[web]'") from None
    work = Path(tempfile.mkdtemp(prefix="refuge-serve-"))
    # uvicorn stops on SIGTERM too, then raises the signal again once its own handler is gone: the default
    # action would end the process before the folder below is removed, so the signal ends it as an exit does
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    # on loopback, a Host header naming anything else is a DNS-rebinding page; opened wider, the operator chose so
    hosts = ["127.0.0.1", "localhost", "[::1]"] if host in LOOPBACK else ["*"]
    try:
        app = create_app(limits or Limits(), work, results=results, hosts=hosts, system=system)
        shown = f"[{host}]" if ":" in host else host
        announce(f"refuge serve: http://{shown}:{port}/ (Ctrl-C stops it)")
        uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5,
                    limit_concurrency=CONNECTIONS)  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _exit_on_terminate(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _check_address(host: str, port: int) -> None:
    """Refuse, with refuge's kind of message, an address that cannot be listened on (in use, not this machine's)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as err:
        raise RunError(f"--host {host} --port {port}: cannot listen there ({err.strerror or err}); "
                       "choose another --port") from None
