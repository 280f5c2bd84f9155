"""The JSON API contract: status first, then fields; every limit gives its 4xx, never a 500."""

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.schemas import MAX_TEXT_CHARS
from app.settings import Settings
from tests.conftest import save_tiny_checkpoint
from tests.model.test_transformer import ENCODER_DECODER_SITES


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    models = tmp_path_factory.mktemp("models")
    for direction in ("zh-en", "en-zh"):
        save_tiny_checkpoint(models / direction, direction, max_len=256)  # as the shipped ones
    app = create_app(Settings(model_dir=models, models=["zh-en", "en-zh"]))
    with TestClient(app) as test_client:  # runs the lifespan: models load once
        yield test_client


def translate(client: TestClient, **body) -> dict:
    # json.dumps escapes as ASCII, so lone surrogates travel as JSON escapes ("\\ud800").
    payload = json.dumps({"text": "我有一只猫。", **body})
    response = client.post(
        "/api/translate", content=payload, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["models"] == ["zh-en", "en-zh"]


def test_models(client: TestClient) -> None:
    models = client.get("/api/models").json()
    assert [m["name"] for m in models] == ["zh-en", "en-zh"]
    first = models[0]
    assert first["architecture"] == "encoder-decoder"
    assert (first["source_language"], first["target_language"]) == ("zh", "en")
    assert (first["n_layers"], first["n_heads"], first["d_model"]) == (2, 4, 16)
    assert first["parameters"] > 0 and first["max_text_chars"] == MAX_TEXT_CHARS


def check_response(data: dict, n_heads: int = 4) -> None:
    """Shapes match tokens, rows sum to 1 within rounding, the masked future is exactly 0."""
    source, target = data["source_tokens"], data["target_tokens"]
    decoder_inputs = ["<s>", *target[:-1]]
    assert len(data["steps"]) == len(target) >= 1
    for i, step in enumerate(data["steps"]):
        assert step["index"] == i and step["token"] == target[i]
        assert step["candidates"] and 0 <= step["prob"] <= 1
    names = [m["name"] for m in data["attention"]]
    assert names == ENCODER_DECODER_SITES
    for m in data["attention"]:
        expected_queries = source if m["stack"] == "encoder" else decoder_inputs
        causal = (m["stack"], m["kind"]) == ("decoder", "self")
        expected_keys = decoder_inputs if causal else source
        assert m["query_tokens"] == expected_queries and m["key_tokens"] == expected_keys
        assert len(m["weights"]) == n_heads
        for head in m["weights"]:
            assert len(head) == len(expected_queries)
            for q, row in enumerate(head):
                assert len(row) == len(expected_keys)
                assert abs(sum(row) - 1) <= 5e-5 * len(row) + 1e-6
                assert all(round(w, 4) == w for w in row)  # rounded to 4 decimals
                if causal:
                    assert all(w == 0 for w in row[q + 1 :])


@pytest.mark.parametrize("strategy", ["greedy", "beam", "sample"])
def test_translate_contract(client: TestClient, strategy: str) -> None:
    data = translate(client, strategy=strategy, max_new_tokens=12, top_n=3)
    check_response(data)
    assert data["model"] == "zh-en"
    assert data["source_tokens"] == list("我有一只猫。")
    assert all(len(step["candidates"]) == 3 for step in data["steps"])
    assert data["timing_ms"]["total"] > 0


def test_other_direction(client: TestClient) -> None:
    data = translate(client, text="I have a cat.", model="en-zh", max_new_tokens=8)
    check_response(data)
    assert data["source_tokens"][0].startswith("▁")  # English subwords mark word starts


def test_seeded_sampling_repeats(client: TestClient) -> None:
    body = {"strategy": "sample", "temperature": 2.0, "seed": 11, "max_new_tokens": 10}
    assert translate(client, **body)["target_tokens"] == translate(client, **body)["target_tokens"]


def test_gzip(client: TestClient) -> None:
    """The answer is gzipped (on a worker thread, app/compression.py) only for a client that
    takes gzip, and reads back as the same JSON; the pages are gzipped too."""
    body = {"text": "我有一只猫。"}
    zipped = client.post("/api/translate", json=body, headers={"Accept-Encoding": "gzip"})
    plain = client.post("/api/translate", json=body, headers={"Accept-Encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert zipped.headers["vary"] == plain.headers["vary"] == "Accept-Encoding"
    assert int(zipped.headers["content-length"]) < len(plain.content) / 2
    untimed = [{**r.json(), "timing_ms": None} for r in (zipped, plain)]
    assert untimed[0] == untimed[1]
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"


@pytest.mark.parametrize(
    "text",
    [
        "😀🐈",
        "\x00",
        "\ud83d\ude00",
        "<b>x</b>",
        "{{ 7*7 }}",
        " 我有一只猫。 ",
        "שלום",
        "12345",
        "e\u0301",
        "\u200b",
        "\u0301",  # a combining mark with nothing to combine with
        "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # one emoji joined by zero-width joiners
        "\ufeff猫\u200d",
        "\x07\x1b[31m红\x1b[0m",  # a bell and terminal colour codes
        "مرحبا بالعالم",
        "\u202egnp.exe",  # a right-to-left override
        "<script>alert(1)</script>",
        "{% for x in y %}{{ x }}{% endfor %} ${7*7} #{7*7}",
        "hello world",  # Latin only, into the zh-en model
        "猫" * 200,  # exactly at the limit
    ],
)
def test_odd_text_is_translated_not_crashed(client: TestClient, text: str) -> None:
    check_response(translate(client, text=text, model="zh-en", max_new_tokens=6))


@pytest.mark.parametrize(
    ("body", "note"),
    [
        ({"text": "我有一只猫。"}, None),
        (
            {"text": "hello world"},
            "the text looks like English, and 'zh-en' translates from Chinese: try 'en-zh'",
        ),
        (
            {"text": "你好", "model": "en-zh"},
            "looks like Chinese, and 'en-zh' translates from English: try 'zh-en'",
        ),
        ({"text": "😀\u200b"}, "2 of the text's 2 tokens are unknown to 'zh-en' (shown as <unk>)"),
        ({"text": "我有一只猫。", "max_new_tokens": 2}, "the answer was cut at 2 tokens"),
        ({"text": "我有一只猫。", "max_new_tokens": 128}, "the most 'zh-en' writes here"),
    ],
)
def test_notes_say_when_a_translation_cannot_be_trusted(
    client: TestClient, body: dict, note: str | None
) -> None:
    notes = translate(client, **body)["notes"]
    if note is None:  # random weights run on to the limit: only that may be noted
        assert all(n.startswith("the answer was cut") for n in notes), notes
    else:
        assert any(note in n for n in notes), notes


def test_the_shipped_models_golden_answers_carry_no_notes() -> None:
    with TestClient(create_app(Settings())) as shipped:
        for path, body in (
            ("/api/translate", {"text": "我有一只猫。"}),
            ("/api/translate", {"text": "I have a cat.", "model": "en-zh"}),
            ("/api/generate", {"prompt": "我有一只猫。 =>"}),
        ):
            answer = shipped.post(path, json=body).json()
            assert answer["notes"] == [], (body, answer["translation"])
        cut = shipped.post("/api/translate", json={"text": "我有一只猫。", "max_new_tokens": 2})
        assert cut.json()["notes"] == [
            "the answer was cut at 2 tokens, before it ended: ask for more tokens "
            "(max_new_tokens, up to 128), or it may be repeating itself"
        ]


def test_unknown_characters_show_as_unk(client: TestClient) -> None:
    result = translate(client, text="猫😀", max_new_tokens=4)
    assert "<unk>" in result["source_tokens"]


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        (
            {"text": "猫" * (MAX_TEXT_CHARS + 1)},
            422,
            f"text is {MAX_TEXT_CHARS + 1} characters; the limit is {MAX_TEXT_CHARS}",
        ),
        ({"text": ""}, 422, "text is empty"),
        ({"text": "  \n\t "}, 422, "text is empty"),
        ({}, 422, "text is required"),
        ({"text": 5}, 422, "text:"),
        ({"text": "猫", "colour": "red"}, 422, "'colour' is not a field"),
        ({"text": "猫", "strategy": "best"}, 422, "strategy"),
        ({"text": "猫", "max_new_tokens": 0}, 422, "max_new_tokens"),
        ({"text": "猫", "max_new_tokens": 10_000}, 422, "max_new_tokens"),
        ({"text": "猫", "beam_size": 9}, 422, "beam_size"),
        ({"text": "猫", "temperature": 0}, 422, "temperature"),
        ({"text": "猫", "top_p": 1.5}, 422, "top_p"),
        ({"text": "猫", "top_k": -1}, 422, "top_k"),
        ({"text": "猫", "top_n": 0}, 422, "top_n"),
        ({"text": "猫", "seed": -1}, 422, "seed"),
        # Found by schemathesis: JSON's false and "4" were quietly taken as 0 and 4.
        ({"text": "猫", "seed": False}, 422, "seed must be a number, not false"),
        ({"text": "猫", "beam_size": "4"}, 422, 'beam_size must be a number, not "4"'),
        ({"text": "猫", "model": "fr-de"}, 404, "there is no model 'fr-de'"),
        # Within the character limit, over the positions (each ﷺ is 18 characters under NFKC):
        # it was cut to 256 tokens, silently.
        ({"text": "\ufdfa" * 20, "model": "en-zh"}, 422, "tokens; 'en-zh' reads at most 256"),
    ],
)
def test_bad_requests_say_why(client: TestClient, body: dict, status: int, detail: str) -> None:
    response = client.post("/api/translate", json=body)
    assert response.status_code == status, response.text
    assert detail in response.json()["detail"]


def test_lone_surrogate_is_refused_in_words(client: TestClient) -> None:
    response = client.post(
        "/api/translate",
        content=b'{"text": "\\ud800"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "not valid Unicode" in response.json()["detail"]


@pytest.mark.parametrize(
    ("raw", "status", "detail"),
    [
        (b'{"text": "cat"', 422, "not valid JSON"),
        (b"not json", 422, "not valid JSON"),
        (b"", 422, "the body is required"),
        (b"\xff\xfe\x00", 400, "send UTF-8 text"),
        (b'{"text": "cat", "temperature": NaN}', 422, "temperature must be a finite number"),
        (b'{"text": "cat", "top_p": Infinity}', 422, "top_p must be a finite number"),
        (b'{"text": "cat", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, "nesting"),
    ],
)
def test_malformed_bodies(client: TestClient, raw: bytes, status: int, detail: str) -> None:
    response = client.post(
        "/api/translate", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status
    assert detail in response.json()["detail"]


@pytest.mark.parametrize(
    "content_type", [None, "application/x-www-form-urlencoded", "text/plain; charset=utf-8"]
)
def test_a_json_body_is_read_whatever_its_label(client: TestClient, content_type: str | None):
    """`curl -X POST /api/translate -d '{"text": ...}'` (the design's call) labels its body as a
    form; the API reads it as the JSON it is."""
    body = json.dumps({"text": "我有一只猫。"}).encode()
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = client.post("/api/translate", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["translation"] == translate(client)["translation"]
    form = client.post("/api/translate", content=b"text=cat", headers=headers)
    assert form.status_code == 422 and "not valid JSON" in form.json()["detail"]


def test_a_head_where_only_post_is_allowed_is_a_405(client: TestClient) -> None:
    response = client.head("/api/translate")
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.content == b""


def test_a_server_failure_is_a_500_in_words_with_the_security_headers(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = tmp_path_factory.mktemp("models")
    save_tiny_checkpoint(models / "zh-en", "zh-en")
    app = create_app(Settings(model_dir=models, models=["zh-en"]))
    with TestClient(app, raise_server_exceptions=False) as failing:

        async def broken(*args, **kwargs):
            raise KeyError("a bug")

        monkeypatch.setattr(app.state.inference, "translate_json", broken)
        response = failing.post("/api/translate", json={"text": "我有一只猫。"})
    assert response.status_code == 500
    assert response.json() == {"detail": "the server failed on this request; it has been logged"}
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/", "/api/models", "/docs"])
def test_head_is_answered_like_get_without_a_body(client: TestClient, path: str) -> None:
    got, head = client.get(path), client.head(path)
    assert got.status_code == head.status_code == 200
    assert head.content == b"" and got.content
    for name in ("content-type", "content-length", "content-security-policy"):
        assert head.headers.get(name) == got.headers.get(name)
    assert client.head("/nothing-here").status_code == 404


def test_openapi_lists_routes_with_examples(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/api/models", "/api/translate", "/healthz", "/readyz"} <= set(schema["paths"])
    request_schema = schema["components"]["schemas"]["TranslateRequest"]
    assert request_schema["properties"]["text"]["maxLength"] == MAX_TEXT_CHARS
    assert request_schema["examples"]


def test_security_headers_on_page_and_api(client: TestClient) -> None:
    for path in ("/", "/api/models", "/healthz", "/static/js/main.js", "/vendor/plotly.min.js"):
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy, path
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


def test_page_embeds_first_paint_data_without_inline_script(client: TestClient) -> None:
    html = client.get("/").text
    assert '<script type="application/json" id="initial-data">' in html
    assert "<script>" not in html  # every executable script has a src
    assert '<script src="/vendor/plotly.min.js">' in html


def test_plotly_is_served_from_the_installed_package(client: TestClient) -> None:
    response = client.get("/vendor/plotly.min.js")
    assert response.status_code == 200 and len(response.content) > 1_000_000
    assert response.headers["content-type"].startswith("text/javascript")
    # A browser holding this version gets a 304, not 4.8 MB again; another version gets it all.
    etag = response.headers["etag"]
    again = client.get("/vendor/plotly.min.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    other = client.get("/vendor/plotly.min.js", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200 and len(other.content) == len(response.content)


def test_positional_encoding(client: TestClient) -> None:
    table = client.get("/api/positional-encoding", params={"length": 10}).json()
    assert table["d_model"] == 16 and len(table["values"]) == 10
    assert table["values"][0][0::2] == [0.0] * 8 and table["values"][0][1::2] == [1.0] * 8
    assert client.get("/api/positional-encoding", params={"length": 0}).status_code == 422
    assert client.get("/api/positional-encoding", params={"model": "xx"}).status_code == 404


def test_docs_are_served_from_local_files(client: TestClient) -> None:
    html = client.get("/docs").text
    assert '<script src="/vendor/swagger-ui/swagger-ui-bundle.js">' in html
    assert "cdn" not in html
    assert client.get("/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/vendor/swagger-ui/index.html").status_code == 404  # only named files
    assert client.get("/vendor/swagger-ui/..%2f..%2fetc%2fpasswd").status_code == 404
