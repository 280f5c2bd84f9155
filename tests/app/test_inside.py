"""POST /api/inside and /api/logit-lens: recomputed from the numbers returned, they give the
model's own, and the row of /api/translate or /api/generate for the same site, head and query."""

import math
from collections.abc import Iterator

import pytest
import torch
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import save_tiny_checkpoint, save_tiny_gpt_checkpoint

TEXT = {"text": "我有一只猫。", "max_new_tokens": 6}
PROMPT = {"prompt": "我有一只猫。 => I have a cat.\n他是学生。 =>", "max_new_tokens": 6}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    models = tmp_path_factory.mktemp("models")
    save_tiny_checkpoint(models / "zh-en", "zh-en")
    save_tiny_gpt_checkpoint(models / "gpt", max_len=80)
    with TestClient(create_app(Settings(model_dir=models, models=["zh-en", "gpt"]))) as c:
        yield c


def post(client: TestClient, path: str, body: dict) -> dict:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def softmax(values: list[float | None]) -> list[float]:
    top = max(v for v in values if v is not None)
    exps = [0.0 if v is None else math.exp(v - top) for v in values]
    return [e / sum(exps) for e in exps]


def close(a: list[float], b: list[float], atol: float = 2e-5) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= atol for x, y in zip(a, b, strict=True))


def model_of(client: TestClient, name: str) -> torch.nn.Module:
    return client.app.state.inference.registry.checkpoints[name].model


def module_at(model: torch.nn.Module, name: str) -> torch.nn.Module:
    return next(m for m in model.modules() if getattr(m, "name", None) == name)


CASES = [
    ("zh-en", "/api/translate", TEXT, "greedy"),
    ("zh-en", "/api/translate", TEXT, "beam"),
    ("zh-en", "/api/translate", TEXT, "sample"),
    ("gpt", "/api/generate", PROMPT, "greedy"),
    ("gpt", "/api/generate", PROMPT, "sample"),
]


@pytest.mark.parametrize(("name", "path", "asked", "strategy"), CASES)
def test_every_site_recomputed_equals_the_models_own(
    client: TestClient, name: str, path: str, asked: dict, strategy: str
) -> None:
    body = {**asked, "strategy": strategy, "temperature": 0.8, "seed": 3}
    answer = post(client, path, body)
    model = model_of(client, name)
    kinds = set()
    for site_map in answer["attention"]:
        site, weights = site_map["name"], site_map["weights"]
        kinds.add((site_map["stack"], site_map["kind"]))
        for head, query in [(0, 0), (len(weights) - 1, len(weights[0]) - 1)]:
            inside = post(
                client, "/api/inside", {**body, "site": site, "head": head, "query": query}
            )
            assert inside["query_tokens"] == site_map["query_tokens"]
            assert inside["query_token"] == site_map["query_tokens"][query]
            assert inside["key_tokens"] == site_map["key_tokens"]
            # the softmax of the masked row is the row the heatmap draws
            assert close(softmax(inside["masked"]), inside["probs"])
            assert close(inside["probs"], weights[head][query], atol=1.5e-4)
            d_head = inside["d_head"]
            scale = math.sqrt(d_head)
            k, v, q = inside["k"], inside["v"], inside["q"]
            dots = [sum(a * b for a, b in zip(q, key, strict=True)) for key in k]
            assert close(dots, inside["scores"], atol=1e-4)
            assert close([s / scale for s in inside["scores"]], inside["scaled"])
            z = [
                sum(p * row[i] for p, row in zip(inside["probs"], v, strict=True))
                for i in range(d_head)
            ]
            assert close(z, inside["z"], atol=5e-5)
            assert close(inside["heads_z"][head * d_head : (head + 1) * d_head], inside["z"])
            module = module_at(model, site)
            with torch.inference_mode():
                output = module.out_proj(torch.tensor(inside["heads_z"])).tolist()
            assert close(output, inside["output"], atol=5e-5)
            assert close(
                [a + b for a, b in zip(inside["x"], inside["output"], strict=True)],
                inside["residual"],
            )
    expected = (
        {("decoder", "self")}
        if name == "gpt"
        else {("encoder", "self"), ("decoder", "self"), ("decoder", "cross")}
    )
    assert kinds == expected


def test_layer_zero_input_is_the_token_and_its_position(client: TestClient) -> None:
    inside = post(client, "/api/inside", {**TEXT, "site": "encoder.0.self", "head": 1, "query": 2})
    parts = zip(inside["token_embedding"], inside["positional_encoding"], strict=True)
    assert close([a + b for a, b in parts], inside["x"])
    cross = post(client, "/api/inside", {**TEXT, "site": "decoder.0.cross", "head": 1, "query": 0})
    assert cross["token_embedding"] is None and cross["positional_encoding"] is None
    assert len(cross["feed_forward_norm"]) == cross["d_model"] == 16


def test_the_mask_hides_the_future_of_decoder_self_attention(client: TestClient) -> None:
    inside = post(client, "/api/inside", {**PROMPT, "site": "decoder.1.self", "query": 3})
    assert [m is None for m in inside["masked"]] == [
        k > 3 for k in range(len(inside["key_tokens"]))
    ]
    assert all(p == 0 for p in inside["probs"][4:])


@pytest.mark.parametrize(
    ("asked", "site", "head", "query", "says"),
    [
        (TEXT, "decoder.1.cross", 4, 0, "head 4 is out of range: decoder.1.cross has heads 0 to 3"),
        (
            TEXT,
            "encoder.0.self",
            0,
            99,
            "query 99 is out of range: encoder.0.self has queries 0 to",
        ),
        (
            TEXT,
            "decoder.0.self",
            0,
            99,
            "query 99 is out of range: decoder.0.self has queries 0 to",
        ),
        (PROMPT, "decoder.0.cross", 0, 0, "there is no attention site 'decoder.0.cross'"),
        (TEXT, "encoder.7.self", 0, 0, "this model has encoder.0.self, encoder.1.self"),
    ],
)
def test_out_of_range_is_a_422_naming_the_valid_range(
    client: TestClient, asked: dict, site: str, head: int, query: int, says: str
) -> None:
    response = client.post(
        "/api/inside", json={**asked, "site": site, "head": head, "query": query}
    )
    assert response.status_code == 422 and says in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"site": "decoder.0.self"}, "send either text"),
        ({**TEXT, **PROMPT, "site": "decoder.0.self"}, "send either text"),
        (
            {**TEXT, "site": "decoder.0.self", "demonstrations": {"kind": "random"}},
            "demonstrations",
        ),
        ({**TEXT, "site": "decoder.0.cross.q"}, "site"),
        ({**TEXT, "site": "decoder.0.self", "head": 64}, "head"),
        ({**TEXT, "site": "decoder.0.self", "head": "1"}, "head"),
        ({**TEXT, "site": "decoder.0.self", "layer": 1}, "'layer' is not a field"),
        ({"text": "   ", "site": "decoder.0.self"}, "text is empty"),
    ],
)
def test_bad_requests_are_refused_in_words(client: TestClient, body: dict, says: str) -> None:
    response = client.post("/api/inside", json=body)
    assert response.status_code == 422 and says in response.json()["detail"]


@pytest.mark.parametrize(("path", "asked", "strategy"), [(p, a, s) for _, p, a, s in CASES])
def test_the_lens_last_layer_is_each_steps_candidates(
    client: TestClient, path: str, asked: dict, strategy: str
) -> None:
    body = {**asked, "strategy": strategy, "temperature": 0.8, "top_k": 6, "seed": 3, "top_n": 4}
    answer = post(client, path, body)
    lens = post(client, "/api/logit-lens", body)
    assert lens["layers"] == ["decoder.embed", "decoder.0", "decoder.1"]
    assert [s["token"] for s in lens["steps"]] == [s["token"] for s in answer["steps"]]
    for step, seen in zip(answer["steps"], lens["steps"], strict=True):
        assert [layer["layer"] for layer in seen["layers"]] == lens["layers"]
        last = seen["layers"][-1]["top"]
        assert [c["token"] for c in last] == [c["token"] for c in step["candidates"]]
        assert close([c["prob"] for c in last], [c["prob"] for c in step["candidates"]], 1.5e-4)
        for layer in seen["layers"]:
            probs = [c["prob"] for c in layer["top"]]
            assert len(probs) == 4 and probs == sorted(probs, reverse=True)


def test_both_are_in_the_openapi_schema_with_their_shapes(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/api/inside", "/api/logit-lens"} <= set(schema["paths"])
    fields = schema["components"]["schemas"]["InsideResponse"]["properties"]
    assert fields["k"]["description"].startswith("(Tk, Dh)")
    assert fields["heads_z"]["description"].startswith("(D)")
    request = schema["components"]["schemas"]["InsideRequest"]
    assert request["additionalProperties"] is False and "site" in request["required"]


def test_past_the_deadline_is_a_503(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client.app.state.inference.settings, "request_timeout_s", 1e-6)
    for path, body in [
        ("/api/inside", {**TEXT, "site": "decoder.0.self"}),
        ("/api/logit-lens", TEXT),
    ]:
        response = client.post(path, json=body)
        assert response.status_code == 503 and "Retry-After" in response.headers
