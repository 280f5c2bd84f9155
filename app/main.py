"""Build the FastAPI app. `create_app(settings)` lets tests build their own with tiny models;
`app` is the one `uvicorn app.main:app` serves, with settings from the environment."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from app import errors
from app.compression import LEVEL, MINIMUM_SIZE
from app.inference import Inference
from app.middleware.body_limit import BodyLimit
from app.middleware.http_compat import HeadAsGet, JsonBodies
from app.middleware.security import SecurityHeaders
from app.registry import Registry
from app.routes import api, health, pages
from app.settings import Settings

log = logging.getLogger("attnscope")
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry = Registry(settings)
        registry.load()  # once, before the first request is accepted
        inference = Inference(registry, settings)
        inference.warm_up()
        app.state.inference = inference
        yield
        inference.admission.close()

    app = FastAPI(
        title="attnscope",
        summary="A Transformer translating Chinese and English, with every attention head.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # our own /docs serves Swagger UI from local files (pages.py)
        redoc_url=None,
    )
    # The last added runs first: security headers go on every response, 413s and CORS included
    # (a 500 comes from outside all middleware; its handler adds them itself).
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_body_bytes, drain_bytes=settings.max_drain_bytes
    )
    app.add_middleware(JsonBodies)
    # The pages and small answers; the large JSON answers come gzipped already (app/compression.py).
    app.add_middleware(GZipMiddleware, minimum_size=MINIMUM_SIZE, compresslevel=LEVEL)
    if settings.cors_origins:  # off unless origins are listed
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
        )
    app.add_middleware(HeadAsGet)  # outside gzip: a HEAD gets the GET's headers, gzip included
    app.add_middleware(SecurityHeaders)
    errors.register(app)
    app.include_router(api.build_router(settings))
    app.include_router(health.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


app = create_app()  # settings from the environment; the models load when uvicorn starts it
