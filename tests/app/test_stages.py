"""The stages after the GPT through the API: `stage` in /api/models, /api/generate in a model's
chat template (or without it), and /api/reward's score and attention; wrong kinds and limits."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient

from app.admission import ServerBusy
from app.main import create_app
from app.rewarding import checked, reward
from app.schemas import RewardRequest
from app.settings import Settings
from model import (
    GPT,
    AttentionTrace,
    ChatTemplate,
    RewardModel,
    Tokenizer,
    encode_chat,
    load_checkpoint,
    save_checkpoint,
    score_answer,
    train_mixed_tokenizer,
)
from tests.conftest import save_tiny_checkpoint, save_tiny_gpt_checkpoint, tiny_config

TEMPLATE = ChatTemplate()
INSTRUCTION, INPUT = "重复这句话。", "我有一只猫。"
FEW_SHOT = "他是学生。 => He is a student.\n我有一只猫。 =>"


def chat_tokenizer() -> Tokenizer:
    """A vocabulary that spells the template's markers, as the base GPT's does."""
    texts = ["指令：重复这句话。", "输入：我有一只猫。", "回答：我有一只猫。", "I have a cat."]
    return train_mixed_tokenizer([*texts, "他是学生。 => He is a student."] * 3, vocab_size=90)


def save_tiny_stages(models: Path) -> Tokenizer:
    """An sft GPT (stage "sft", the template) and a reward model on its body (stage "reward")."""
    tok = chat_tokenizer()
    torch.manual_seed(0)
    config = tiny_config(
        architecture="decoder-only", src_vocab_size=0, tgt_vocab_size=tok.vocab_size
    )
    sft = GPT(config).eval()
    meta = {"direction": "prompt", "source_language": None, "target_language": "en"}
    sft_meta = {**meta, "init_from": "model/checkpoints/gpt"}  # as training.sft records it
    save_checkpoint(models / "sft", sft, None, tok, sft_meta, stage="sft", template=TEMPLATE)
    reward = RewardModel.from_gpt(sft)
    torch.nn.init.normal_(reward.head.weight, std=1.0)  # a head that says something
    save_checkpoint(
        models / "reward", reward.eval(), None, tok, meta, stage="reward", template=TEMPLATE
    )
    return tok


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("models")
    save_tiny_checkpoint(models / "zh-en", "zh-en")
    save_tiny_gpt_checkpoint(models / "gpt")
    save_tiny_stages(models)
    return models


@pytest.fixture(scope="module")
def client(models: Path) -> Iterator[TestClient]:
    settings = Settings(
        model_dir=models,
        models=["zh-en", "gpt", "sft", "reward"],
        max_prompt_chars=100,
        max_text_chars=150,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def post(client: TestClient, path: str, status: int = 200, **body) -> dict:
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


def assert_causal_rows(attention: list[dict], tokens: list[str]) -> None:
    for site in attention:
        assert site["query_tokens"] == site["key_tokens"] == tokens
        for head in site["weights"]:
            for i, row in enumerate(head):
                assert sum(row) == pytest.approx(1.0, abs=2e-3)
                assert all(w == 0 for w in row[i + 1 :])


def test_every_model_says_its_stage(client: TestClient) -> None:
    models = client.get("/api/models").json()
    stages = {m["name"]: m["stage"] for m in models}
    assert stages == {"zh-en": "base", "gpt": "base", "sft": "sft", "reward": "reward"}
    parents = {m["name"]: m["trained_from"] for m in models}
    assert parents == {"zh-en": None, "gpt": None, "sft": "gpt", "reward": None}


def test_the_template_is_applied(client: TestClient, models: Path) -> None:
    result = post(
        client,
        "/api/generate",
        model="sft",
        prompt=f" {INSTRUCTION} ",
        input=INPUT,
        max_new_tokens=4,
    )
    tok = load_checkpoint(models / "sft").tgt_tokenizer
    chat = encode_chat(tok, TEMPLATE, INSTRUCTION, INPUT)
    assert result["prompt"] == TEMPLATE.text(INSTRUCTION, INPUT)
    assert result["prompt_tokens"] == tok.tokens(chat.ids[1:])
    fed = ["<s>", *result["prompt_tokens"], *result["target_tokens"][:-1]]
    roles = result["roles"]
    assert len(roles) == len(fed) and roles == chat.roles_for(len(fed))
    prompt = len(chat.ids)
    assert roles[0] == "start" and set(roles[prompt:]) <= {"answer"}
    first_input = roles.index("input")
    assert set(roles[1:first_input]) == {"instruction"} and fed[first_input - 1] == "\n"
    assert roles[prompt - 1] == "answer"  # the answer's marker, the cue
    assert "demonstration" not in roles
    assert not [note for note in result["notes"] if "=>" in note]  # no cue is asked for
    assert_causal_rows(result["attention"], fed)


def test_without_an_input_there_is_no_input_line(client: TestClient) -> None:
    result = post(client, "/api/generate", model="sft", prompt=INSTRUCTION, max_new_tokens=2)
    assert "input" not in result["roles"] and result["prompt"] == TEMPLATE.text(INSTRUCTION)


def test_template_false_sends_the_prompt_as_it_is(client: TestClient, models: Path) -> None:
    result = post(
        client, "/api/generate", model="sft", prompt=FEW_SHOT, template=False, max_new_tokens=3
    )
    tok = load_checkpoint(models / "sft").tgt_tokenizer
    assert result["prompt"] == FEW_SHOT
    assert result["prompt_tokens"] == tok.tokens(tok.encode(FEW_SHOT))
    assert {"demonstration", "query"} <= set(result["roles"])
    assert not {"instruction", "input"} & set(result["roles"])


def test_a_base_gpt_reads_the_prompt_as_it_is_either_way(client: TestClient) -> None:
    unset = post(client, "/api/generate", model="gpt", prompt=FEW_SHOT, max_new_tokens=3)
    false = post(client, "/api/generate", prompt=FEW_SHOT, template=False, max_new_tokens=3)
    unset.pop("timing_ms"), false.pop("timing_ms")
    assert unset == false and unset["prompt"] == FEW_SHOT


def test_a_model_without_a_template_reads_the_prompt_as_it_is(client: TestClient) -> None:
    """`template: true` is not refused (the schema allows it for any model): it is noted."""
    plain = post(client, "/api/generate", model="gpt", prompt=FEW_SHOT, max_new_tokens=2)
    asked = post(
        client, "/api/generate", model="gpt", prompt=FEW_SHOT, template=True, max_new_tokens=2
    )
    assert asked["prompt_tokens"] == plain["prompt_tokens"] and asked["roles"] == plain["roles"]
    assert asked["notes"][0] == "'gpt' (base) has no chat template: the prompt was read as it is"
    assert not any("chat template" in note for note in plain["notes"])


@pytest.mark.parametrize("model", ["gpt", "sft"])
def test_an_input_without_a_template_is_the_prompts_last_line(
    client: TestClient, model: str
) -> None:
    result = post(
        client,
        "/api/generate",
        model=model,
        prompt="他是学生。 => He is a student.",
        input="我有一只猫。 =>",
        template=False,
        max_new_tokens=2,
    )
    assert result["prompt"] == FEW_SHOT
    assert (
        "without a chat template, the input was read as the prompt's last line" in (result["notes"])
    )
    assert {"demonstration", "query"} <= set(result["roles"])


def test_template_is_true_or_false(client: TestClient) -> None:
    detail = post(client, "/api/generate", 422, prompt=INSTRUCTION, template="yes")["detail"]
    assert "template must be true or false" in detail


def test_the_reward_is_the_reward_models_own(client: TestClient, models: Path) -> None:
    result = post(client, "/api/reward", prompt=INSTRUCTION, input=INPUT, answer=INPUT)
    loaded = load_checkpoint(models / "reward")
    trace = AttentionTrace()
    tok = loaded.tgt_tokenizer
    value, chat = score_answer(loaded.model, tok, TEMPLATE, INSTRUCTION, INPUT, INPUT, trace)
    assert result["model"] == "reward" and value != 0
    assert result["reward"] == pytest.approx(value, abs=1e-6)
    assert result["tokens"] == tok.tokens(chat.ids) and result["tokens"][-1] == "</s>"
    assert result["roles"] == chat.roles and result["roles"][0] == "start"
    assert {"instruction", "input", "answer"} <= set(result["roles"])
    assert [site["name"] for site in result["attention"]] == ["decoder.0.self", "decoder.1.self"]
    assert all(
        site["stack"] == "decoder" and site["kind"] == "self" for site in result["attention"]
    )
    assert_causal_rows(result["attention"], result["tokens"])
    assert set(result["timing_ms"]) == {"total"}


def test_different_answers_get_different_rewards(client: TestClient) -> None:
    same = post(client, "/api/reward", prompt=INSTRUCTION, input=INPUT, answer=INPUT)
    other = post(client, "/api/reward", prompt=INSTRUCTION, input=INPUT, answer="I have a cat.")
    assert same["reward"] != other["reward"]


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("/api/generate", {"prompt": FEW_SHOT, "model": "reward"}, "'reward' is a reward model"),
        ("/api/translate", {"text": INPUT, "model": "reward"}, "'reward' is a reward model"),
        ("/api/reward", {"prompt": INSTRUCTION, "answer": INPUT, "model": "sft"}, "a sft GPT"),
        ("/api/reward", {"prompt": INSTRUCTION, "answer": INPUT, "model": "gpt"}, "a base GPT"),
        ("/api/reward", {"prompt": INSTRUCTION, "answer": "a", "model": "zh-en"}, "translation"),
        ("/api/reward", {"prompt": INSTRUCTION, "answer": "a", "model": "nope"}, "no model 'nope'"),
    ],
)
def test_a_model_of_the_wrong_kind_is_refused(
    client: TestClient, path: str, body: dict, words: str
) -> None:
    assert words in post(client, path, 404, **body)["detail"]


def test_other_gpt_routes_refuse_a_reward_model(client: TestClient) -> None:
    response = client.get("/api/head-scores", params={"model": "reward"})
    assert response.status_code == 404 and "reward model" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"prompt": "好" * 101, "answer": "a"}, "prompt is 101 characters; the limit is 100"),
        ({"prompt": "a", "input": "好" * 101, "answer": "a"}, "input is 101 characters"),
        ({"prompt": "a", "answer": "好" * 151}, "answer is 151 characters; the limit is 150"),
        ({"prompt": "  ", "answer": "a"}, "prompt is empty"),
        ({"prompt": "a"}, "answer is required"),
        ({"prompt": "a", "answer": "a", "seed": 1}, "'seed' is not a field"),
        ({"prompt": INSTRUCTION, "answer": "我有一只猫。" * 20}, "'reward' reads at most 40"),
    ],
)
def test_reward_limits(client: TestClient, body: dict, words: str) -> None:
    assert words in post(client, "/api/reward", 422, **body)["detail"]


def test_the_schema_states_the_deployments_limits(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    fields = schemas["RewardRequest"]["properties"]
    assert fields["prompt"]["maxLength"] == 100 and fields["answer"]["maxLength"] == 150
    assert schemas["RewardRequest"]["additionalProperties"] is False
    assert "stage" in schemas["ModelInfo"]["required"]


def test_a_reward_past_its_deadline_is_busy(client: TestClient) -> None:
    """The deadline is checked before the forward pass, as before each decoding step."""
    inference = client.app.state.inference
    request = RewardRequest(prompt=INSTRUCTION, answer=INPUT)
    checkpoint = checked(inference, request)
    with pytest.raises(ServerBusy, match="waited in line past"):
        reward(inference, request, checkpoint, deadline=time.monotonic() - 1)


def test_a_full_line_refuses_a_reward(models: Path) -> None:
    settings = Settings(model_dir=models, models=["reward"], max_concurrent=1, max_queue=0)
    with TestClient(create_app(settings)) as busy:
        admission = busy.app.state.inference.admission
        admission.admitted = admission.running + admission.waiting  # every place taken
        response = busy.post("/api/reward", json={"prompt": INSTRUCTION, "answer": INPUT})
    assert response.status_code == 503 and "Retry-After" in response.headers


@pytest.mark.parametrize("template", [None, False])
def test_the_lens_and_the_inside_view_read_what_generate_read(
    client: TestClient, template: bool | None
) -> None:
    """The same body (template, input) gives the same tokens and the same chosen candidates."""
    body = {"model": "sft", "prompt": INSTRUCTION, "max_new_tokens": 4, "template": template}
    if template is None:
        body["input"] = INPUT
    generated = post(client, "/api/generate", **body)
    lens = post(client, "/api/logit-lens", **body)
    assert [step["token"] for step in lens["steps"]] == generated["target_tokens"]
    for step, chosen in zip(lens["steps"], generated["steps"], strict=True):
        last = step["layers"][-1]["top"]
        assert [c["token"] for c in last] == [c["token"] for c in chosen["candidates"]][: len(last)]
    fed = len(generated["roles"])
    inside = post(client, "/api/inside", **body, site="decoder.0.self", head=0, query=fed - 1)
    assert len(inside["key_tokens"]) == fed


@pytest.mark.parametrize("field", [{"template": False}, {"input": INPUT}])
def test_template_and_input_go_with_a_prompt_only(client: TestClient, field: dict) -> None:
    detail = post(client, "/api/logit-lens", 422, text="我有一只猫。", **field)["detail"]
    assert f"{next(iter(field))} goes with a GPT's prompt" in str(detail)


@pytest.mark.parametrize("path", ["/api/generate", "/api/logit-lens", "/api/inside"])
def test_template_is_only_true_false_or_null_everywhere(client: TestClient, path: str) -> None:
    body = {"model": "sft", "prompt": INSTRUCTION, "template": 0, "site": "decoder.0.self"}
    if path == "/api/generate":
        del body["site"]
    detail = post(client, path, 422, **body)["detail"]
    assert "template must be true or false, not 0" in str(detail)
