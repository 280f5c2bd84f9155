"""Liveness and readiness, for container health checks and start-up scripts."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Report that the process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Report whether the models are loaded (503 until they are)."""
    inference = getattr(request.app.state, "inference", None)
    if inference is None or not inference.registry.ready:
        return JSONResponse({"status": "loading"}, status_code=503, headers={"Retry-After": "1"})
    return JSONResponse({"status": "ready", "models": list(inference.registry.checkpoints)})
