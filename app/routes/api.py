"""The JSON API: the loaded models, and translation with every attention map and step."""

from fastapi import APIRouter, HTTPException, Query, Request

from app.schemas import ModelInfo, PositionalEncoding, Problem, TranslateRequest, TranslateResponse
from app.service import ModelService, UnknownModelError

router = APIRouter(prefix="/api", tags=["api"])
ERRORS = {404: {"model": Problem}, 422: {"model": Problem}}


def service_of(request: Request) -> ModelService:
    return request.app.state.service


@router.get("/models")
def list_models(request: Request) -> list[ModelInfo]:
    """List the loaded models with their sizes, quality figures and input limits."""
    return service_of(request).models()


@router.post("/translate", responses=ERRORS)
def translate(body: TranslateRequest, request: Request) -> TranslateResponse:
    """Translate a sentence; return its tokens, every decoding step and every attention map."""
    try:
        return service_of(request).translate(body)
    except UnknownModelError as err:
        raise HTTPException(status_code=404, detail=str(err)) from err


@router.get("/positional-encoding", responses=ERRORS)
def get_positional_encoding(
    request: Request, length: int = Query(32, ge=1, le=256), model: str | None = None
) -> PositionalEncoding:
    """Return the sinusoidal table the model adds to its embeddings: [position][dimension]."""
    try:
        return service_of(request).positional_encoding(model, length)
    except UnknownModelError as err:
        raise HTTPException(status_code=404, detail=str(err)) from err
