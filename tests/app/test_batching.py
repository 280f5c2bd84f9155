"""Requests that wait together are decoded as one batch, and each answer equals the same request
sent alone; a request that leaves or cannot fit its time limit does so without disturbing the
others."""

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app import inference as inference_module
from app.admission import Admission
from app.main import create_app
from app.settings import Settings
from tests.app.test_limits import post_and_leave, run_on_own_loop

TEXTS = ["我有一只猫。", "你好。", "今天天气很好。", "猫。", "我有一只猫。今天天气很好。你好。"]
ENGLISH = ["I have a cat.", "Hello.", "It's a nice day."]
PROMPTS = ["猫。 =>", "他是学生。 => He is a student.\n我有一只猫。 =>", "你好。 =>"]
# The response rounds every number to 4 decimals: values within 1e-5 before rounding may land
# either side of a rounding boundary, one unit of 1e-4 apart.
ROUNDING = 1e-4 + 1e-9


def requests_of_a_class() -> list[tuple[str, dict]]:
    """20 requests, as a class sends them: both directions, a GPT, greedy and sampling, and
    different lengths and limits."""
    bodies: list[tuple[str, dict]] = []
    for i in range(20):
        decoding = {"max_new_tokens": 4 + 3 * (i % 5), "top_n": 1 + i % 4}
        if i % 3 == 1:
            decoding |= {"strategy": "sample", "temperature": 1.5, "seed": i, "top_k": 5 * (i % 2)}
        if i % 4 == 3:
            bodies.append(("/api/generate", {"prompt": PROMPTS[i % 3], **decoding}))
        elif i % 4 == 2:
            english = {"text": ENGLISH[i % 3], "model": "en-zh"}
            bodies.append(("/api/translate", {**english, **decoding}))
        else:
            bodies.append(("/api/translate", {"text": TEXTS[i % 5], **decoding}))
    return bodies


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run (models loaded), and a client that calls it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def assert_same_answer(batched: dict, alone: dict) -> None:
    """Tokens identical; probabilities and attention within the response's rounding."""
    assert batched["source_tokens"] == alone["source_tokens"]
    assert batched["target_tokens"] == alone["target_tokens"]
    assert batched["translation"] == alone["translation"]
    assert batched["notes"] == alone["notes"]
    for ours, theirs in zip(batched["steps"], alone["steps"], strict=True):
        assert ours["token_id"] == theirs["token_id"]
        assert ours["prob"] == pytest.approx(theirs["prob"], abs=ROUNDING)
        for c, d in zip(ours["candidates"], theirs["candidates"], strict=True):
            assert c["token"] == d["token"]
            assert c["prob"] == pytest.approx(d["prob"], abs=ROUNDING)
    assert [m["name"] for m in batched["attention"]] == [m["name"] for m in alone["attention"]]
    for ours, theirs in zip(batched["attention"], alone["attention"], strict=True):
        assert ours["query_tokens"] == theirs["query_tokens"]
        assert ours["key_tokens"] == theirs["key_tokens"]
        for head, other in zip(ours["weights"], theirs["weights"], strict=True):
            for row, expected in zip(head, other, strict=True):
                assert row == pytest.approx(expected, abs=ROUNDING)


def test_a_class_at_once_is_batched_and_each_answer_equals_it_alone(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(Settings(model_dir=models, models=["zh-en", "en-zh", "gpt"], max_concurrent=1))
    groups: list[int] = []
    real_group = inference_module.decode_group

    def counted(pendings):
        groups.append(len(pendings))
        return real_group(pendings)

    monkeypatch.setattr(inference_module, "decode_group", counted)
    bodies = requests_of_a_class()

    async def scenario() -> tuple[list[httpx.Response], list[httpx.Response]]:
        async with served(app) as client:
            together = await asyncio.gather(*(client.post(path, json=b) for path, b in bodies))
            alone = [await client.post(path, json=body) for path, body in bodies]
            assert app.state.inference.admission.admitted == 0
            return together, alone

    together, alone = run_on_own_loop(scenario())
    assert [r.status_code for r in together] == [200] * len(bodies), together[0].text
    for batched, single in zip(together, alone, strict=True):
        assert_same_answer(batched.json(), single.json())
    assert max(groups[: len(groups) - len(bodies)]) > 1  # some were decoded together


def test_a_client_that_leaves_stops_without_disturbing_its_batch(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first group holds the only worker while a leaver and two others line up; they run
    as one group, the leaver's client goes once it runs, and only the leaver stops."""
    app = create_app(Settings(model_dir=models, models=["zh-en"], max_concurrent=1))
    held, running, groups = threading.Event(), threading.Event(), []
    real_group = inference_module.decode_group

    def gated(pendings):
        groups.append(len(pendings))
        if len(groups) == 1:
            held.wait(10)
        else:
            running.set()
        return real_group(pendings)

    monkeypatch.setattr(inference_module, "decode_group", gated)
    leaver = {"text": TEXTS[4], "max_new_tokens": 40}
    others = [{"text": TEXTS[0], "max_new_tokens": 12}, {"text": TEXTS[2], "max_new_tokens": 9}]

    async def scenario() -> tuple[list, list[httpx.Response], list[httpx.Response]]:
        async with served(app) as client:
            model = app.state.inference.registry.checkpoints["zh-en"].model
            real_decode = model.decode

            def slow_decode(*args, **kwargs):  # long enough to leave in the middle
                if running.is_set():
                    threading.Event().wait(0.02)
                return real_decode(*args, **kwargs)

            monkeypatch.setattr(model, "decode", slow_decode)
            first = asyncio.ensure_future(client.post("/api/translate", json={"text": "猫。"}))
            while app.state.inference.admission.admitted < 1:
                await asyncio.sleep(0.01)
            left = asyncio.ensure_future(post_and_leave(app, leaver, 0.15, after=running))
            waiting = [asyncio.ensure_future(client.post("/api/translate", json=b)) for b in others]
            while app.state.inference.admission.admitted < 4:
                await asyncio.sleep(0.01)
            held.set()
            answered = [await first, *[await w for w in waiting]]
            sent = await left
            monkeypatch.undo()
            alone = [await client.post("/api/translate", json=body) for body in others]
            return sent, answered, alone

    sent, answered, alone = run_on_own_loop(scenario())
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 499
    assert groups[:2] == [1, 3]  # the leaver was decoded with the two others
    assert [r.status_code for r in answered] == [200, 200, 200]
    for batched, single in zip(answered[1:], alone, strict=True):
        assert_same_answer(batched.json(), single.json())


def test_a_request_that_cannot_fit_its_deadline_is_a_503_with_retry_after(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Translations measured at 4 s each, one running, one waiting: a third would wait about
    8 s and need 4 more, past the 10 s limit, so it is refused at once, told when to retry."""
    app = create_app(Settings(model_dir=models, models=["zh-en"], max_concurrent=1))
    held = threading.Event()
    real_group = inference_module.decode_group

    def gated(pendings):
        held.wait(10)
        return real_group(pendings)

    monkeypatch.setattr(inference_module, "decode_group", gated)

    async def scenario() -> tuple[httpx.Response, list[httpx.Response], dict]:
        async with served(app) as client:
            admission = app.state.inference.admission
            admission.seconds["zh-en"] = 4.0
            admitted = [
                asyncio.ensure_future(client.post("/api/translate", json={"text": text}))
                for text in TEXTS[:2]
            ]
            while admission.admitted < 2:
                await asyncio.sleep(0.01)
            refused = await client.post("/api/translate", json={"text": TEXTS[2]})
            held.set()
            answered = [await a for a in admitted]
            return refused, answered, dict(admission.seconds)

    refused, answered, seconds = run_on_own_loop(scenario())
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "2"  # 8 s ahead + 4 s of its own - 10 s
    assert "need about 8.0 s" in refused.json()["detail"]
    assert [r.status_code for r in answered] == [200, 200]
    assert seconds["zh-en"] < 4.0  # what the two really took is folded into the estimate


def test_the_line_groups_by_key_up_to_the_batch_size() -> None:
    """A worker takes the head of the line and the entries of its key behind it, in order, up
    to the batch size; an exception for one entry is that entry's alone."""

    async def scenario() -> tuple[list[list[int]], list]:
        admission = Admission(running=1, waiting=20, limit_s=10, batch_size=3)
        release = threading.Event()
        blocker = asyncio.ensure_future(admission.run(lambda: release.wait(10)))
        runs: list[list[int]] = []

        def run_group(payloads: list[int]) -> list:
            runs.append(payloads)
            return [ValueError(p) if p == 3 else p * 10 for p in payloads]

        keys = ["a", "b", "a", "a", "a", "b"]
        joined = [admission.join(key, i, run_group, key) for i, key in enumerate(keys)]
        futures = [asyncio.ensure_future(j) for j in joined]
        while admission.admitted < 7:
            await asyncio.sleep(0.01)
        release.set()
        results = await asyncio.gather(*futures, return_exceptions=True)
        assert await blocker is True and admission.admitted == 0
        admission.close()
        return runs, results

    runs, results = run_on_own_loop(scenario())
    assert runs == [[0, 2, 3], [1, 5], [4]]
    assert results[:3] == [0, 10, 20] and isinstance(results[3], ValueError)
    assert results[4:] == [40, 50]


def test_while_a_key_runs_its_next_requests_wait_for_half_a_batch() -> None:
    """While a batch of one model runs, a request for it waits for company (half a batch)
    rather than take the free worker alone; another model's request takes that worker at once;
    the running batch's end starts the held ones, however few."""

    async def scenario() -> list[list[int]]:
        admission = Admission(running=2, waiting=20, limit_s=10, batch_size=4)
        release = threading.Event()
        runs: list[list[int]] = []

        def run_group(payloads: list[int]) -> list[int]:
            runs.append(payloads)
            if payloads == [0]:
                release.wait(10)
            return payloads

        first = asyncio.ensure_future(admission.join("a", 0, run_group, "a"))
        while not runs:
            await asyncio.sleep(0.01)
        second = asyncio.ensure_future(admission.join("a", 1, run_group, "a"))
        other = asyncio.ensure_future(admission.join("b", 2, run_group, "b"))
        assert await other == 2
        assert not second.done() and runs == [[0], [2]]
        third = asyncio.ensure_future(admission.join("a", 3, run_group, "a"))
        assert await second == 1 and await third == 3  # two of a batch of four: they run
        fourth = asyncio.ensure_future(admission.join("a", 4, run_group, "a"))
        await asyncio.sleep(0.05)
        assert not fourth.done()
        release.set()
        assert await first == 0 and await fourth == 4
        admission.close()
        return runs

    assert run_on_own_loop(scenario()) == [[0], [2], [1, 3], [4]]
