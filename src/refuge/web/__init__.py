"""``refuge serve``: the model in a browser, for people who do not use a terminal.

Built on Starlette (the ASGI toolkit under FastAPI) served by uvicorn; charts are
drawn by plotly.js, served from the plotly package, so the page loads nothing
from the network. Install with ``pip install 'refuge[web]'``; see ``docs/web.md``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..errors import RunError
from .jobs import Limits

__all__ = ["Limits", "serve"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: connections served at once; past this, uvicorn answers 503 at once rather than queue without bound
CONNECTIONS = 256


def serve(host: str = "127.0.0.1", port: int = 8000, limits: Limits | None = None, results: Path | None = None) -> None:
    """Serve the app until interrupted; jobs live in a temporary folder removed on the way out."""
    try:
        import uvicorn

        from .app import create_app
    except ImportError as err:
        raise RunError(f"refuge serve needs the web extra ({err.name} is missing): pip install 'refuge[web]'") from None
    if results is not None and not Path(results).is_dir():
        raise RunError(f"--results {results}: not a folder")
    work = Path(tempfile.mkdtemp(prefix="refuge-serve-"))
    # on loopback, a Host header naming anything else is a DNS-rebinding page; opened wider, the operator chose so
    hosts = ["127.0.0.1", "localhost", "[::1]"] if host in LOOPBACK else ["*"]
    try:
        app = create_app(limits or Limits(), work, results=results, hosts=hosts)
        uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5,
                    limit_concurrency=CONNECTIONS)  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
