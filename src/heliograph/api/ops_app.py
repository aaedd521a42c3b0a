"""The small HTTP app a `heliograph worker` serves when given a metrics port: /metrics, /readyz, /healthz only.

A host that runs only workers has no API port to scrape, yet its processes count most of the messages'
progress (sent, delivered, webhook attempts); this exposes them with the same access rules as the API's.
"""

from __future__ import annotations

from fastapi import FastAPI

from heliograph import __version__
from heliograph.api import errors
from heliograph.api.routes import ops
from heliograph.bootstrap import Heliograph


def create_ops_app(heliograph: Heliograph) -> FastAPI:
    app = FastAPI(title="Heliograph worker", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.heliograph = heliograph
    errors.install(app)
    app.include_router(ops.router)
    return app
