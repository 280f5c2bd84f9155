"""Schemathesis against the app's own OpenAPI schema: every route, valid and invalid inputs.

No 5xx, every status documented, every body matching its schema, invalid data refused with a 4xx.
Each operation's cases come from schemathesis as a hypothesis strategy, run in a plain test
(schemathesis' pytest fixture loader does not run on pytest 9).
"""

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.main import create_app
from app.settings import Settings
from tests.conftest import save_tiny_checkpoint, save_tiny_gpt_checkpoint


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    models = tmp_path_factory.mktemp("models")
    # Token limits are the model's, not the schema's: with 2,048 positions and 100 characters,
    # no text the schema allows is too long in tokens (NFKC makes at most 18 of a character);
    # a GPT's prompt may bring an input line of 100 more, so the GPT has 4,096.
    for direction in ("zh-en", "en-zh"):
        save_tiny_checkpoint(models / direction, direction, max_len=2048)
    save_tiny_gpt_checkpoint(models / "gpt", max_len=4096)
    settings = Settings(
        model_dir=models,
        models=["zh-en", "en-zh", "gpt"],
        max_new_tokens=16,
        max_text_chars=100,
        max_prompt_chars=100,
    )
    app = create_app(settings)
    with TestClient(app):  # runs the lifespan once: the models stay loaded for every case
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


# A cell of a heatmap is checked against the model and the answer, which the schema cannot
# know: its site, head and query may be out of range for a schema-valid request, and then the
# 422 names the valid range. Any other refusal of valid data still fails.
CELL_OUT_OF_RANGE = ("is out of range:", "there is no attention site")


def accepted_or_out_of_range(ctx: object, response: object, case: schemathesis.Case) -> None:
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    status = response.status_code  # type: ignore[attr-defined]
    if status == 422:
        detail = response.json()["detail"]  # type: ignore[attr-defined]
        assert any(words in detail for words in CELL_OUT_OF_RANGE), detail
    else:
        assert status < 400 or status == 404, status


def checks_for(label: str) -> dict:
    if label != "POST /api/inside":
        return {}
    return {
        "excluded_checks": [positive_data_acceptance],
        "additional_checks": [accepted_or_out_of_range],
    }


@pytest.mark.parametrize("mode", list(GenerationMode), ids=str)
def test_every_route_keeps_its_contract(
    api_schema: schemathesis.BaseSchema, mode: GenerationMode
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.label for op in operations} >= {
        "GET /api/models",
        "POST /api/translate",
        "POST /api/generate",
        "POST /api/reward",
        "GET /api/positional-encoding",
        "POST /api/inside",
        "POST /api/logit-lens",
        "GET /healthz",
        "GET /readyz",
    }
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not (len(operation.query) or len(operation.body)):
            continue  # nothing to send wrong to /healthz and the like

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
        def keeps_contract(case: schemathesis.Case) -> None:
            case.call_and_validate(**checks_for(case.operation.label))

        keeps_contract()
