"""The page, and plotly.js served from the installed `plotly` package (no CDN, no copy in git)."""

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from app.routes.api import service_of
from app.schemas import TranslateRequest

ROOT = Path(__file__).resolve().parents[2]
templates = Jinja2Templates(directory=ROOT / "templates")
PLOTLY_JS = Path(str(files("plotly") / "package_data" / "plotly.min.js"))
SEED_TEXT = "我有一只猫。"

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request) -> HTMLResponse:
    """The page, with the seed sentence already translated so the first paint has data."""
    service = service_of(request)
    seed = service.cached_seed or service.translate(TranslateRequest(text=SEED_TEXT))
    service.cached_seed = seed
    initial = {
        "models": [m.model_dump() for m in service.models()],
        "seed_text": SEED_TEXT,
        "response": seed.model_dump(),
    }
    return templates.TemplateResponse(request, "index.html", {"initial": initial})


@router.get("/vendor/plotly.min.js", include_in_schema=False)
def plotly_js() -> FileResponse:
    return FileResponse(
        PLOTLY_JS, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"}
    )
