"""Limits from settings, overload refused at once with a 503, bodies over the limit refused with a
413, CORS off unless listed, and a `detail` in words on every refusal."""

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.admission import Admission, ServerBusy
from app.main import create_app
from app.schemas import TranslateRequest
from app.settings import Settings

TINY_MODELS = ["zh-en", "en-zh", "gpt"]  # what the directory above holds


ELSEWHERE = "https://elsewhere.example"


def client_with(models: Path, **settings) -> TestClient:
    return TestClient(create_app(Settings(model_dir=models, **{"models": TINY_MODELS, **settings})))


def post(client: TestClient, body: dict | bytes, **headers: str):
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        "/api/translate",
        content=content,
        headers={"Content-Type": "application/json", **headers},
    )


def test_text_limits_come_from_settings(models: Path) -> None:
    with client_with(models, max_text_chars=10, max_new_tokens=16, max_beam_size=3) as client:
        refused = post(client, {"text": "猫" * 11})
        assert refused.status_code == 422
        assert refused.json()["detail"] == "text is 11 characters; the limit is 10"
        assert post(client, {"text": "猫" * 10, "max_new_tokens": 4}).status_code == 200
        assert "max_new_tokens" in post(client, {"text": "猫", "max_new_tokens": 17}).text
        assert post(client, {"text": "猫", "strategy": "beam", "beam_size": 4}).status_code == 422

        # The schema, the models list and the page all state the same limits.
        schema = client.get("/openapi.json").json()["components"]["schemas"]["TranslateRequest"]
        assert schema["properties"]["text"]["maxLength"] == 10
        assert schema["properties"]["max_new_tokens"]["maximum"] == 16
        assert schema["properties"]["beam_size"]["maximum"] == 3
        info = client.get("/api/models").json()[0]
        assert (info["max_text_chars"], info["max_new_tokens"], info["max_beam_size"]) == (
            10,
            16,
            3,
        )
        page = client.get("/").text
        assert 'maxlength="10"' in page and 'max="16"' in page and 'max="3"' in page


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        # 10,000 repeats of one character: over the text limit, or over the body limit.
        ({"text": "a" * 10_000}, 422, "text is 10000 characters; the limit is 200"),
        ({"text": "猫" * 10_000}, 413, "over the 16,384-byte limit"),
        ({"text": "猫", "pad": "x" * 20_000}, 413, "over the 16,384-byte limit"),
    ],
)
def test_long_inputs_are_refused_in_words(models: Path, body: dict, status: int, detail: str):
    with client_with(models) as client:
        response = post(client, body)
        assert response.status_code == status
        assert detail in response.json()["detail"]
        assert response.headers["content-security-policy"]  # refusals carry the headers too


def test_a_chunked_body_over_the_limit_is_refused(models: Path) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(40):
            yield b"a" * 1024  # no Content-Length: counted as it arrives
        yield b'"}'

    with client_with(models, max_body_bytes=8 * 1024) as client:
        response = client.post(
            "/api/translate", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 413
        assert "8,192-byte limit" in response.json()["detail"]
        # Under the limit, a chunked body is read as usual.
        small = client.post(
            "/api/translate",
            content=iter([b'{"text": ', b'"\xe7\x8c\xab"}']),
            headers={"Content-Type": "application/json"},
        )
        assert small.status_code == 200, small.text


def test_admission_refuses_at_once_beyond_the_queue() -> None:
    async def scenario() -> None:
        admission = Admission(running=1, waiting=1)
        release = threading.Event()
        first = asyncio.ensure_future(admission.run(lambda: release.wait(10)))
        second = asyncio.ensure_future(admission.run(lambda: "second ran"))
        while admission.admitted < 2:  # one running, one in line
            await asyncio.sleep(0.01)
        # Refused while the first still holds its place: it did not wait for one.
        with pytest.raises(ServerBusy, match="2 requests are running or waiting, its limit"):
            await asyncio.wait_for(admission.run(lambda: "third ran"), timeout=5)
        assert not release.is_set() and not first.done()
        release.set()
        assert await first is True and await second == "second ran"
        assert admission.admitted == 0
        admission.close()

    run_on_own_loop(scenario())


def run_on_own_loop(coroutine):
    """asyncio.run on a thread of its own: after a browser test, Playwright's sync API keeps an
    event loop running on this one, and asyncio.run() refuses to start a second."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


async def post_and_leave(
    app, body: dict, leave_after_s: float, after: threading.Event | None = None
) -> list[dict]:
    """POST to /api/translate straight through ASGI as a client that hangs up after a while
    (counted from when `after` is set, if given); return what the app sent."""
    messages = [{"type": "http.request", "body": json.dumps(body).encode(), "more_body": False}]
    leaves_at = None if after is not None else time.monotonic() + leave_after_s

    async def receive() -> dict:
        nonlocal leaves_at
        if messages:
            return messages.pop(0)
        while leaves_at is None:
            if after is not None and after.is_set():
                leaves_at = time.monotonic() + leave_after_s
            else:
                await asyncio.sleep(0.01)  # Starlette's polls cancel this
        if time.monotonic() >= leaves_at:
            return {"type": "http.disconnect"}
        await asyncio.sleep(leaves_at - time.monotonic())  # Starlette's polls cancel this
        return {"type": "http.disconnect"}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/translate",
        "raw_path": b"/api/translate",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"host", b"test")],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }
    await app(scope, receive, send)
    return sent


def test_decoding_stops_when_the_client_goes_away(models: Path, monkeypatch) -> None:
    """A request whose client has gone stops decoding at its next step, and its place in line
    frees up."""
    with client_with(models) as client:
        model = client.app.state.inference.registry.checkpoints["zh-en"].model
        real_decode, calls = model.decode, []

        def slow_decode(*args, **kwargs):
            calls.append(time.monotonic())
            time.sleep(0.02)
            return real_decode(*args, **kwargs)

        monkeypatch.setattr(model, "decode", slow_decode)
        body = {"text": "我有一只猫。", "max_new_tokens": 40}
        assert post(client, body).status_code == 200
        whole = len(calls)
        assert whole >= 20  # long enough to hang up in the middle (checked, not assumed)
        calls.clear()
        sent = run_on_own_loop(post_and_leave(client.app, body, leave_after_s=0.1))
        assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 499
        assert len(calls) < whole / 2
        assert client.app.state.inference.admission.admitted == 0


def test_a_request_that_waited_past_its_deadline_does_not_run(models: Path) -> None:
    with client_with(models) as client:
        service = client.app.state.inference
        with pytest.raises(ServerBusy, match="waited in line past its 10 s limit"):
            service.translate(TranslateRequest(text="我有一只猫。"), deadline=time.monotonic() - 1)


def test_overload_is_a_503_with_retry_after(models: Path, monkeypatch) -> None:
    with client_with(models, max_concurrent=1, max_queue=0) as client:
        model = client.app.state.inference.registry.checkpoints["zh-en"].model
        real_decode = model.decode
        entered, release = threading.Event(), threading.Event()

        def held_decode(*args, **kwargs):
            entered.set()
            release.wait(10)
            return real_decode(*args, **kwargs)

        monkeypatch.setattr(model, "decode", held_decode)
        first: list[int] = []
        holder = threading.Thread(
            target=lambda: first.append(post(client, {"text": "我有一只猫。"}).status_code)
        )
        holder.start()
        assert entered.wait(10)  # the one place is taken
        started = time.monotonic()
        response = post(client, {"text": "我爱你。"})
        assert time.monotonic() - started < 1.0
        release.set()
        holder.join(10)
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.json()["detail"].startswith("the server is busy")
        assert first == [200]  # the admitted request was served
        assert post(client, {"text": "我有一只猫。"}).status_code == 200


def test_a_request_that_can_never_run_is_refused_before_it_waits(models: Path) -> None:
    """A wrong model or an over-long input is a 4xx even while the server is full: the checks
    come before admission, so such requests neither wait nor take a place in line."""
    with client_with(models, max_concurrent=1, max_queue=0) as client:
        service = client.app.state.inference
        service.admission.run = None  # any request that reached admission would fail with a 500
        assert post(client, {"text": "猫", "model": "gpt"}).status_code == 404
        assert post(client, {"text": "猫" * 41}).status_code == 422
        generate = client.post("/api/generate", json={"prompt": "猫。" * 30})
        assert generate.status_code == 422 and "tokens" in generate.json()["detail"]
        wrong_model = client.post("/api/generate", json={"prompt": "猫", "model": "zh-en"})
        assert wrong_model.status_code == 404


def test_a_request_past_its_deadline_is_a_503(models: Path, monkeypatch) -> None:
    with client_with(models, request_timeout_s=0.2) as client:
        model = client.app.state.inference.registry.checkpoints["zh-en"].model
        real_decode = model.decode

        def slow_decode(*args, **kwargs):
            time.sleep(0.3)  # the deadline passes before the first step
            return real_decode(*args, **kwargs)

        monkeypatch.setattr(model, "decode", slow_decode)
        response = post(client, {"text": "我有一只猫。"})
        assert response.status_code == 503
        assert "longer than the 0.2 s limit" in response.json()["detail"]
        assert response.headers["retry-after"]


def test_cors_is_off_by_default(models: Path) -> None:
    with client_with(models) as client:
        preflight = client.options(
            "/api/translate",
            headers={
                "Origin": ELSEWHERE,
                "Access-Control-Request-Method": "POST",
            },
        )
        assert "access-control-allow-origin" not in preflight.headers
        simple = client.get("/api/models", headers={"Origin": ELSEWHERE})
        assert "access-control-allow-origin" not in simple.headers


def test_cors_allows_only_the_listed_origins(models: Path) -> None:
    allowed = "https://teacher.example"
    with client_with(models, cors_origins=[allowed]) as client:
        preflight = client.options(
            "/api/translate",
            headers={"Origin": allowed, "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == allowed
        assert preflight.headers["content-security-policy"]
        other = client.get("/api/models", headers={"Origin": ELSEWHERE})
        assert "access-control-allow-origin" not in other.headers
        listed = client.get("/api/models", headers={"Origin": allowed})
        assert listed.headers["access-control-allow-origin"] == allowed


@pytest.mark.parametrize(
    ("method", "path", "status", "detail"),
    [
        ("GET", "/api/nothing", 404, "there is nothing at /api/nothing"),
        ("GET", "/api/translate", 405, "GET is not allowed at /api/translate; use POST"),
        ("DELETE", "/api/models", 405, "DELETE is not allowed"),
        ("GET", "/api/positional-encoding?length=100000", 422, "length"),
        ("GET", "/api/positional-encoding?model=fr-de", 404, "there is no model 'fr-de'"),
        ("GET", "/vendor/swagger-ui/..%2F..%2Fsettings.py", 404, "there is nothing at"),
        ("GET", "/vendor/swagger-ui/settings.py", 404, "no such file: settings.py"),
    ],
)
def test_every_refusal_says_why(models: Path, method: str, path: str, status: int, detail: str):
    with client_with(models) as client:
        response = client.request(method, path)
        assert response.status_code == status
        assert detail in response.json()["detail"]
        assert response.headers["x-content-type-options"] == "nosniff"


def test_the_page_opens_when_the_warm_up_could_not_translate(models: Path) -> None:
    with client_with(models, request_timeout_s=0.2) as client:
        client.app.state.inference.cached_seed = None  # as when the warm-up hit its deadline
        page = client.get("/")
        assert page.status_code == 200
        assert '"response": null' in page.text  # the page will ask /api/translate itself
