"""The page and the API docs, with plotly.js and Swagger UI served from installed packages
(`plotly`, `swagger-ui-py`): no CDN, no copy in git, and they work offline."""

import os
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from app.deps import InferenceDep
from app.inference import SEED_TEXT
from app.notes import SCRIPT_PATTERNS
from app.schemas import LEARNING

ROOT = Path(__file__).resolve().parents[2]
templates = Jinja2Templates(directory=ROOT / "templates")
PLOTLY_JS = Path(str(files("plotly") / "package_data" / "plotly.min.js"))
SWAGGER_UI = Path(str(files("swagger_ui") / "static"))  # Swagger UI 5 (OpenAPI 3.1)
SWAGGER_FILES = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript"}

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request, inference: InferenceDep) -> HTMLResponse:
    """The page, with the seed sentence already translated (at start-up) so the first paint has
    data; if the warm-up could not translate it, the page asks the API as for any sentence."""
    seed = inference.cached_seed
    initial = {
        "models": [m.model_dump() for m in inference.registry.models()],
        "seed_text": SEED_TEXT,
        "response": seed.model_dump(mode="json") if seed is not None else None,
        "limits": inference.settings.decoding_limits(),
        "decoding_defaults": inference.decoding_defaults,
        "scripts": SCRIPT_PATTERNS,
        "learning": LEARNING,
    }
    context = {"initial": initial, "limits": initial["limits"], "learning": LEARNING}
    return templates.TemplateResponse(request, "index.html", context)


def vendor_file(request: Request, path: Path, media_type: str) -> Response:
    """A file from an installed package, cached for a day; a browser that already holds this
    version (its ETag) gets a 304 instead of the megabytes again."""
    response = FileResponse(
        path,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400"},
        stat_result=os.stat(path),  # sets the ETag now, so it can be compared
    )
    if request.headers.get("if-none-match") == response.headers["etag"]:
        kept = {k: response.headers[k] for k in ("etag", "cache-control", "last-modified")}
        return Response(status_code=304, headers=kept)
    return response


@router.get("/vendor/plotly.min.js", include_in_schema=False)
def plotly_js(request: Request) -> Response:
    return vendor_file(request, PLOTLY_JS, "text/javascript")


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def docs(request: Request) -> HTMLResponse:
    """Swagger UI over /openapi.json, from local files so it works offline."""
    return templates.TemplateResponse(request, "docs.html", {})


@router.get("/vendor/swagger-ui/{name}", include_in_schema=False)
def swagger_ui_file(request: Request, name: str) -> Response:
    # Only the two named files: the name never becomes a path of its own.
    if name not in SWAGGER_FILES:
        raise HTTPException(status_code=404, detail=f"no such file: {name}")
    return vendor_file(request, SWAGGER_UI / name, SWAGGER_FILES[name])
