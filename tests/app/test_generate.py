"""POST /api/generate: the GPT's contract, its masks, its roles and limits."""

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from model import head_scores_on, text_spans
from tests.conftest import save_tiny_checkpoint, save_tiny_gpt_checkpoint

FEW_SHOT = "他是学生。 => He is a student.\n我有一只猫。 =>"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    models = tmp_path_factory.mktemp("models")
    save_tiny_checkpoint(models / "zh-en", "zh-en")
    save_tiny_gpt_checkpoint(models / "gpt")
    app = create_app(Settings(model_dir=models, models=["zh-en", "gpt"], max_prompt_chars=100))
    with TestClient(app) as test_client:
        yield test_client


def generate(client: TestClient, **body) -> dict:
    response = client.post("/api/generate", json={"prompt": FEW_SHOT, **body})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("strategy", ["greedy", "beam", "sample"])
def test_generate_contract(client: TestClient, strategy: str) -> None:
    result = generate(client, strategy=strategy, max_new_tokens=6, seed=3)
    assert result["model"] == "gpt" and result["source_tokens"] == []
    sites = [site["name"] for site in result["attention"]]
    assert sites == ["decoder.0.self", "decoder.1.self"]  # no encoder, no cross-attention
    fed = ["<s>", *result["prompt_tokens"], *result["target_tokens"][:-1]]
    for site in result["attention"]:
        assert site["query_tokens"] == site["key_tokens"] == fed
        for head in site["weights"]:
            for i, row in enumerate(head):
                assert sum(row) == pytest.approx(1.0, abs=2e-3)
                assert all(w == 0 for w in row[i + 1 :])  # the causal mask holds
    assert len(result["steps"]) == len(result["target_tokens"]) <= 6


def test_roles_and_demonstration_share(client: TestClient) -> None:
    result = generate(client, max_new_tokens=4)
    roles, tokens = result["roles"], ["<s>", *result["prompt_tokens"]]
    assert roles[0] == "start"
    first_query = roles.index("query")
    assert tokens[first_query - 1] == "\n"  # the demonstrations end at the line break
    assert set(roles[1:first_query]) == {"demonstration"}
    assert set(roles[first_query : len(tokens)]) == {"query"}
    assert set(roles[len(tokens) :]) <= {"answer"}
    for site in result["attention"]:
        shares = result["demonstration_share"][site["name"]]
        assert len(shares) == len(site["weights"]) and all(0 <= s <= 1 for s in shares)
        # Recomputed from the weights: answer-producing rows, demonstration keys.
        rows = range(len(tokens) - 1, len(roles))
        keys = [i for i, role in enumerate(roles) if role == "demonstration"]
        for head, share in zip(site["weights"], shares, strict=True):
            expected = sum(sum(head[r][k] for k in keys) for r in rows) / len(rows)
            assert share == pytest.approx(expected, abs=1e-3)


def test_zero_shot_has_no_demonstrations(client: TestClient) -> None:
    result = generate(client, prompt="我有一只猫。 =>", max_new_tokens=3)
    assert "demonstration" not in result["roles"]
    assert all(s == 0 for shares in result["demonstration_share"].values() for s in shares)


def test_an_answer_cut_by_the_token_limit_says_so(client: TestClient) -> None:
    cut = generate(client, prompt="我有一只猫。 =>", max_new_tokens=2, stop_at_line_end=False)
    assert cut["target_tokens"][-1] not in ("</s>", "\n")  # the tiny GPT runs on
    assert cut["notes"] == [
        "the answer was cut at 2 tokens, before it ended: ask for more tokens "
        "(max_new_tokens, up to 128), or it may be repeating itself"
    ]


def test_an_answer_cut_by_the_models_positions_says_to_shorten_the_prompt(
    client: TestClient,
) -> None:
    # The tiny GPT has 40 positions: <s> and 30 prompt tokens leave room for 10 answer tokens.
    cut = generate(client, prompt="猫。" * 14 + "猫 =>", max_new_tokens=40, stop_at_line_end=False)
    assert len(cut["target_tokens"]) == 10
    assert cut["target_tokens"][-1] not in ("</s>", "\n")  # the tiny GPT runs on
    assert cut["notes"] == [
        "the answer was cut at 10 tokens, before it ended: 'gpt' has 40 positions, and the "
        "prompt took the rest; shorten the prompt"
    ]


def test_a_prompt_that_asks_for_no_translation_gets_a_note(client: TestClient) -> None:
    asked = generate(client, prompt="我有一只猫。 =>", max_new_tokens=2)
    assert not any("does not end with =>" in note for note in asked["notes"])
    unasked = generate(client, prompt="我有一只猫。", max_new_tokens=2)
    assert unasked["notes"][0].startswith("the prompt's last line does not end with =>")


def test_seeded_sampling_repeats(client: TestClient) -> None:
    body = {"strategy": "sample", "temperature": 1.5, "top_k": 20, "top_p": 0.9, "seed": 7}
    assert generate(client, **body)["target_tokens"] == generate(client, **body)["target_tokens"]


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"prompt": "猫" * 101}, 422, "prompt is 101 characters; the limit is 100"),
        ({"prompt": "  \n "}, 422, "prompt is empty"),
        ({"prompt": "猫。" * 30}, 422, "the prompt is 60 tokens; 'gpt' reads at most 38"),
        ({"prompt": "猫", "text": "猫"}, 422, "'text' is not a field"),
        ({"prompt": "猫", "model": "zh-en"}, 404, "'zh-en' translates; use /api/translate"),
        ({"prompt": "猫", "model": "gpt-9"}, 404, "there is no model 'gpt-9'"),
        ({"prompt": "猫", "stop_at_line_end": "no"}, 422, 'must be true or false, not "no"'),
        ({"prompt": "猫", "stop_at_line_end": 0}, 422, "must be true or false, not 0"),
    ],
)
def test_bad_requests_say_why(client: TestClient, body: dict, status: int, detail: str) -> None:
    response = client.post(
        "/api/generate",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == status
    assert detail in response.json()["detail"]


def test_translate_refuses_the_gpt(client: TestClient) -> None:
    response = client.post("/api/translate", json={"text": "猫", "model": "gpt"})
    assert response.status_code == 404
    assert "'gpt' is a GPT; use /api/generate" in response.json()["detail"]
    assert client.post("/api/translate", json={"text": "我有一只猫。"}).status_code == 200


def test_head_scores_table(client: TestClient) -> None:
    scores = client.get("/api/head-scores").json()
    assert scores["model"] == "gpt"
    for kind in ("induction", "previous_token"):
        assert list(scores[kind]) == ["decoder.0.self", "decoder.1.self"]
        assert all(
            len(heads) == 4 and all(0 <= v <= 1 for v in heads) for heads in scores[kind].values()
        )
    checkpoint = client.app.state.inference.registry.checkpoints["gpt"]
    assert set(scores["induction_on_text"]) == {"zh", "en"}
    for language, side in (("zh", 0), ("en", 1)):
        text = [checkpoint.tgt_tokenizer.encode(pair[side]) for pair in checkpoint.pool]
        spans = text_spans(text, scores["span_length"], scores["samples"])
        expected = head_scores_on(checkpoint.model, spans)
        for site, heads in scores["induction_on_text"][language].items():
            assert heads == pytest.approx(expected[site]["induction"], abs=1e-4)
    assert client.get("/api/head-scores").json() == scores  # computed once, then kept
    refused = client.get("/api/head-scores", params={"model": "zh-en"})
    assert refused.status_code == 404 and "head scores are for a GPT" in refused.json()["detail"]


def test_similar_demonstrations_come_from_the_pool_nearest_last(client: TestClient) -> None:
    result = generate(
        client,
        prompt="我有一只狗。",
        demonstrations={"kind": "similar", "count": 2},
        max_new_tokens=3,
    )
    lines = result["prompt"].split("\n")
    assert lines == ["我有一只猫。 => I have a cat.", "我有一只狗。 =>"]  # the one that shares
    roles = result["roles"]
    assert roles[:7] == ["start"] + ["demonstration"] * 6  # <s>, then 我有一只猫。 shown
    assert "query" in roles and roles.index("query") > roles.index("demonstration")
    assert "".join(result["prompt_tokens"][:6]) == "我有一只猫。"


def test_random_demonstrations_follow_the_seed(client: TestClient) -> None:
    body = {
        "prompt": "猫。 =>",
        "max_new_tokens": 2,
        "demonstrations": {"kind": "random", "count": 1},
    }
    first = generate(client, **body, seed=1)
    assert first["prompt"] == generate(client, **body, seed=1)["prompt"]
    lines = first["prompt"].split("\n")
    assert len(lines) == 2 and lines[-1] == "猫。 =>"
    assert len({generate(client, **body, seed=s)["prompt"] for s in range(6)}) > 1


@pytest.mark.parametrize(
    ("demonstrations", "detail"),
    [
        ({"kind": "similar", "count": 6}, "demonstrations.count"),
        ({"kind": "nearest", "count": 2}, "demonstrations.kind"),
        ({"kind": "random", "count": 2, "from": "dev"}, "'demonstrations.from' is not a field"),
    ],
)
def test_bad_demonstrations_are_refused_in_words(
    client: TestClient, demonstrations: dict, detail: str
) -> None:
    response = client.post(
        "/api/generate", json={"prompt": "猫。", "demonstrations": demonstrations}
    )
    assert response.status_code == 422 and detail in response.json()["detail"]


def test_a_gpt_without_a_pool_says_so(tmp_path) -> None:
    save_tiny_gpt_checkpoint(tmp_path / "gpt")
    (tmp_path / "gpt" / "pool.tsv").unlink()
    (tmp_path / "gpt" / "pool.attribution.txt").unlink()
    checksums = json.loads((tmp_path / "gpt" / "sha256.json").read_text())
    for name in ("pool.tsv", "pool.attribution.txt"):
        del checksums[name]
    (tmp_path / "gpt" / "sha256.json").write_text(json.dumps(checksums))
    with TestClient(create_app(Settings(model_dir=tmp_path, models=["gpt"]))) as bare:
        body = {"prompt": "猫。", "demonstrations": {"kind": "similar", "count": 2}}
        response = bare.post("/api/generate", json=body)
        assert response.status_code == 422
        assert "'gpt' ships no demonstration pool" in response.json()["detail"]
        assert bare.post("/api/generate", json={"prompt": "猫。 =>"}).status_code == 200
