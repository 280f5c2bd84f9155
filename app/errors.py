"""Every error, domain or HTTP, mapped to its status in one place, with a body a person can act
on: always `{"detail": "<sentence>"}`, never a bare 500 page.

UnknownModelError (no such model, or one of another kind: a reward model asked to write, a
GPT asked to score) -> 404; TooLongError, NoPoolError, NoDemonstrationsError, OutOfRange (a
site, head or query the model or the answer does not have) and invalid requests -> 422;
ServerBusy -> 503 with Retry-After; Stopped (the client left) -> 499; anything else -> 500,
logged.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from app.admission import ServerBusy
from app.inference import TooLongError
from app.learning import NoDemonstrationsError
from app.middleware.security import HEADERS as SECURITY_HEADERS
from app.prompting import NoPoolError
from app.registry import UnknownModelError
from model import OutOfRange, Stopped

log = logging.getLogger("attnscope.errors")


def describe(error: dict[str, Any]) -> str:
    """One validation error as a sentence."""
    field = ".".join(str(part) for part in error["loc"] if part != "body") or "the body"
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "string_too_long" and isinstance(value, str):
        return f"{field} is {len(value)} characters; the limit is {ctx['max_length']}"
    if kind == "json_invalid":
        return f"the request body is not valid JSON ({ctx.get('error', 'parse error')})"
    if kind == "extra_forbidden":
        return f"'{field}' is not a field this endpoint accepts"
    if kind == "string_unicode":
        return f"{field} is not valid Unicode (a lone surrogate escape such as \\ud800?)"
    if kind == "missing":
        return f"{field} is required"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return f"{field}: {error['msg'][0].lower()}{error['msg'][1:]}"


async def validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    return JSONResponse(
        status_code=422,
        content={
            "detail": "; ".join(describe(e) for e in errors),
            # No `input` echo: it may be 10,000 characters or not JSON-serializable at all.
            "errors": [{"loc": list(e["loc"]), "type": e["type"], "msg": e["msg"]} for e in errors],
        },
    )


async def unknown_model(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=404, content={"detail": str(exc)})


async def unservable(_: Request, exc: Exception) -> JSONResponse:
    """A request the model cannot serve as sent: too long, demonstrations it has none of, or a
    head it does not have."""
    return JSONResponse(status_code=422, content={"detail": str(exc)})


async def server_busy(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServerBusy)
    return JSONResponse(
        status_code=503,
        content={"detail": exc.detail},
        headers={"Retry-After": str(exc.retry_after)},
    )


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's and Starlette's own words ("Not Found") become what was asked for and why."""
    assert isinstance(exc, HTTPException)
    detail = exc.detail
    if exc.status_code == 400 and detail == "There was an error parsing the body":
        detail = (
            "the request body could not be read as JSON: send UTF-8 text, without nesting "
            "thousands deep or numbers thousands of digits long"
        )
    elif exc.status_code == 404 and detail == "Not Found":
        detail = f"there is nothing at {request.url.path}; the API is listed at /docs"
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        detail = f"{request.method} is not allowed at {request.url.path}; use {allowed}".rstrip()
    return JSONResponse(
        status_code=exc.status_code, content={"detail": detail}, headers=exc.headers
    )


async def client_gone(_: Request, exc: Exception) -> JSONResponse:
    """The client left, so decoding stopped: nobody reads this, but the log shows 499 (nginx's
    code for it), not a failure."""
    return JSONResponse(status_code=499, content={"detail": "the client closed the connection"})


async def unexpected_error(_: Request, exc: Exception) -> JSONResponse:
    """Starlette answers this from outside every middleware, so the security headers are added
    here too."""
    log.exception("unexpected error", exc_info=exc)
    return JSONResponse(
        status_code=500,
        content={"detail": "the server failed on this request; it has been logged"},
        headers=SECURITY_HEADERS,
    )


def register(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(UnknownModelError, unknown_model)
    app.add_exception_handler(TooLongError, unservable)
    app.add_exception_handler(NoPoolError, unservable)
    app.add_exception_handler(NoDemonstrationsError, unservable)
    app.add_exception_handler(OutOfRange, unservable)
    app.add_exception_handler(ServerBusy, server_busy)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Stopped, client_gone)
    app.add_exception_handler(Exception, unexpected_error)
