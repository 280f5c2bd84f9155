"""POST /api/learn: the same demonstrations in the prompt and in a copy's weights."""

from collections.abc import Iterator

import pytest
import torch
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import save_tiny_gpt_checkpoint

PROMPT = "我有一只猫。 => I have a cat.\n他是学生。 =>"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    models = tmp_path_factory.mktemp("models")
    save_tiny_gpt_checkpoint(models / "gpt", max_len=80)
    with TestClient(create_app(Settings(model_dir=models, models=["gpt"]))) as test_client:
        yield test_client


def test_both_answers_and_the_copy_learns(client: TestClient) -> None:
    before = {k: v.clone() for k, v in model_of(client).state_dict().items()}
    response = client.post("/api/learn", json={"prompt": PROMPT, "steps": 8, "max_new_tokens": 4})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["in_prompt"]["prompt"] == PROMPT
    assert result["in_weights"]["prompt"] == "他是学生。 =>"  # the query alone
    assert "demonstration" not in result["in_weights"]["roles"]
    losses = result["losses"]
    assert len(losses) == 8 and losses[-1] < losses[0]  # the copy learned its lesson
    after = model_of(client).state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # the served model is untouched


def test_the_copy_learned_what_the_demonstration_says(client: TestClient) -> None:
    """Many steps on one demonstration: the copy writes it back for the same sentence."""
    prompt = "我有一只猫。 => I have a cat.\n我有一只猫。 =>"
    body = {"prompt": prompt, "steps": 20, "learning_rate": 0.01, "max_new_tokens": 12}
    result = client.post("/api/learn", json=body).json()
    assert result["in_weights"]["translation"] == "I have a cat."


@pytest.mark.parametrize(
    ("prompt", "detail"),
    [
        ("他是学生。 =>", "nothing to learn from"),
        ("他是学生\n我有一只猫。 =>", "line 1 is not a demonstration"),
    ],
)
def test_a_prompt_without_demonstrations_is_refused_in_words(
    client: TestClient, prompt: str, detail: str
) -> None:
    response = client.post("/api/learn", json={"prompt": prompt})
    assert response.status_code == 422 and detail in response.json()["detail"]


@pytest.mark.parametrize(("field", "value"), [("steps", 21), ("steps", 0), ("learning_rate", 1)])
def test_learning_is_bounded(client: TestClient, field: str, value: float) -> None:
    response = client.post("/api/learn", json={"prompt": PROMPT, field: value})
    assert response.status_code == 422 and field in response.json()["detail"]


def model_of(client: TestClient) -> torch.nn.Module:
    return client.app.state.inference.registry.checkpoints["gpt"].model


def test_raised_limits_are_the_learn_requests_limits_too(tmp_path) -> None:
    save_tiny_gpt_checkpoint(tmp_path / "gpt", max_len=80)
    settings = Settings(
        model_dir=tmp_path, models=["gpt"], max_new_tokens=256, max_prompt_chars=2000
    )
    with TestClient(create_app(settings)) as raised:
        body = {"prompt": PROMPT, "max_new_tokens": 200, "steps": 1}
        assert raised.post("/api/learn", json=body).status_code == 200
        long_prompt = "我有一只猫。 => I have a cat.\n" + "猫" * 650 + " =>"
        response = raised.post("/api/learn", json={"prompt": long_prompt, "steps": 1})
        assert response.status_code == 422 and "tokens" in response.json()["detail"]


def test_a_query_without_the_cue_gets_it_in_both_answers(client: TestClient) -> None:
    body = {"prompt": "我有一只猫。 => I have a cat.\n他是学生。", "steps": 1, "max_new_tokens": 2}
    result = client.post("/api/learn", json=body).json()
    assert result["in_prompt"]["prompt"] == "我有一只猫。 => I have a cat.\n他是学生。 =>"
    assert result["in_weights"]["prompt"] == "他是学生。 =>"
    assert not any("does not end with" in note for note in result["in_prompt"]["notes"])


def test_learning_stops_at_the_deadline(client: TestClient, monkeypatch) -> None:
    monkeypatch.setattr(client.app.state.inference.settings, "request_timeout_s", 1e-6)
    response = client.post("/api/learn", json={"prompt": PROMPT, "steps": 20})
    assert response.status_code == 503 and "Retry-After" in response.headers
