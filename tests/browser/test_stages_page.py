"""From GPT to ChatGPT in a real browser: one request through tiny base, sft and rlhf GPTs side
by side, each answer scored by a tiny reward model; examples; and a server with base alone."""

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import torch
from playwright.sync_api import Page

from app.settings import Settings
from model import GPT, ChatTemplate, RewardModel, Tokenizer, save_checkpoint
from model.tokenizer import train_mixed_tokenizer
from tests.browser.conftest import serve
from tests.browser.helpers import rendered, wait_until, watch
from tests.conftest import tiny_config

pytestmark = pytest.mark.browser

STAGES = ["gpt", "sft", "rlhf", "reward"]
IDLE = "!document.getElementById('translate-form').classList.contains('busy')"
READY = f"{IDLE} && document.getElementById('stage-columns').dataset.state === 'ready'"
META = {"direction": "prompt", "source_language": None, "target_language": "en"}
RLHF_POSITIONS = 48  # fewer than the others: a long request is too long for rlhf alone
TOO_LONG_FOR_RLHF = "重复这句话。" * 10


def chat_tokenizer() -> Tokenizer:
    """One vocabulary for every stage, spelling the template's markers, as the real ones share."""
    texts = ["指令：重复这句话。", "输入：我有一只猫。", "回答：我有一只猫。", "I have a cat."]
    return train_mixed_tokenizer([*texts, "他是学生。 => He is a student."] * 3, vocab_size=90)


def tiny_gpt(tok: Tokenizer, seed: int, max_len: int = 128) -> GPT:
    torch.manual_seed(seed)
    config = tiny_config(
        architecture="decoder-only",
        src_vocab_size=0,
        tgt_vocab_size=tok.vocab_size,
        max_len=max_len,
    )
    return GPT(config).eval()


@pytest.fixture(scope="module")
def stage_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """base (no stage recorded, as the shipped GPT), sft and rlhf (the template), and a reward
    model on sft's body: random weights, real shapes and tokenizer."""
    models = tmp_path_factory.mktemp("stages")
    tok, template = chat_tokenizer(), ChatTemplate()
    save_checkpoint(models / "gpt", tiny_gpt(tok, 0), None, tok, META)
    sft = tiny_gpt(tok, 1)
    from_base = {**META, "init_from": "model/checkpoints/gpt"}  # as training.sft records it
    save_checkpoint(models / "sft", sft, None, tok, from_base, stage="sft", template=template)
    rlhf = tiny_gpt(tok, 2, max_len=RLHF_POSITIONS)
    save_checkpoint(models / "rlhf", rlhf, None, tok, META, stage="rlhf", template=template)
    reward = RewardModel.from_gpt(sft)
    torch.nn.init.normal_(reward.head.weight, std=1.0)  # a head that says something
    save_checkpoint(
        models / "reward", reward.eval(), None, tok, META, stage="reward", template=template
    )
    return models


@pytest.fixture(scope="module")
def stages_url(stage_dir: Path) -> Iterator[str]:
    with serve(Settings(model_dir=stage_dir, models=STAGES, max_new_tokens=16)) as url:
        yield url


@pytest.fixture(scope="module")
def only_base_url(stage_dir: Path) -> Iterator[str]:
    settings = Settings(model_dir=stage_dir, models=["gpt"], max_new_tokens=16, max_prompt_chars=80)
    with serve(settings) as url:
        yield url


def sent(page: Page, path: str) -> list[dict]:
    """Collect the JSON bodies the page sends to `path`, as it sends them."""
    bodies: list[dict] = []
    page.on(
        "request",
        lambda r: bodies.append(json.loads(r.post_data or "{}")) if r.url.endswith(path) else None,
    )
    return bodies


def columns(page: Page) -> list[dict]:
    """Each column as the reader sees it."""
    return page.eval_on_selector_all(
        ".stage-column",
        """cs => cs.map(c => { const s = c.dataset.stage;
        const part = (n) => c.querySelector(`#stage-${n}-${s}`);
        return {stage: s, answer: part('answer').textContent, status: part('status').textContent,
                reward: part('reward').textContent, score: part('reward').dataset.reward ?? null,
                roles: [...part('prefix').querySelectorAll('.tok')].map(t => t.className),
                bars: part('candidates').querySelectorAll('.bar-item').length,
                attention: part('attention').querySelectorAll('.bar-item').length,
                heatmap: document.getElementById(`stage-plot-${s}`).data?.length ?? 0,
                top: c.getBoundingClientRect().top}; })""",
    )


def open_view(page: Page, url: str, **query: str) -> None:
    page.goto(f"{url}/?{urlencode({'mode': 'stages', **query})}")
    rendered(page)
    wait_until(page, READY)


def test_every_stage_answers_side_by_side_and_is_scored(
    page: Page, stages_url: str, artifacts
) -> None:
    watched = watch(page, stages_url)
    generated, scored = sent(page, "/api/generate"), sent(page, "/api/reward")
    page.set_viewport_size({"width": 1280, "height": 900})
    open_view(page, stages_url)
    shown = columns(page)
    assert [c["stage"] for c in shown] == ["base", "sft", "rlhf"]
    assert len({round(c["top"]) for c in shown}) == 1  # side by side on a wide screen
    headers = [page.inner_text(f"#stage-title-{stage}") for stage in ("base", "sft", "rlhf")]
    assert "trained from" not in headers[0] and "trained from" not in headers[2]
    assert "(sft, trained from gpt" in headers[1]
    for column in shown:
        assert column["answer"].strip() and not column["status"], column
        assert column["score"] is not None
        assert float(column["reward"]) == pytest.approx(float(column["score"]), abs=6e-4)
        assert column["bars"] > 0 and column["attention"] > 0 and column["heatmap"] == 1
    # The default example: an instruction with an input line, in sft's and rlhf's template.
    instruction, sentence = page.input_value("#instruction"), page.input_value("#sentence")
    assert instruction and sentence
    by_model = {body["model"]: body for body in generated}
    assert set(by_model) == {"gpt", "sft", "rlhf"}
    for model in ("sft", "rlhf"):
        body = by_model[model]
        assert body["prompt"] == instruction and body["input"] == sentence
        assert "template" not in body
    assert by_model["gpt"]["prompt"] == f"{instruction}\n{sentence}"  # base: two lines of text
    assert "input" not in by_model["gpt"]
    assert len(scored) == 3 and all(b["model"] == "reward" for b in scored)
    empty = json.loads(page.text_content("#page-text") or "{}")["views"]["stages"]["empty_answer"]
    assert {b["answer"] or empty for b in scored} == {c["answer"] for c in shown}
    assert all(b["prompt"] == instruction and b["input"] == sentence for b in scored)
    # The chat template's parts are shaded by role; base read plain lines.
    sft = next(c for c in shown if c["stage"] == "sft")
    assert "tok instruction" in sft["roles"] and "tok input" in sft["roles"]
    base = next(c for c in shown if c["stage"] == "base")
    assert "tok instruction" not in base["roles"] and "tok query" in base["roles"]
    assert page.is_visible(".stages-box .legend .tok.instruction")
    assert not page.is_visible("#stages-missing")
    page.screenshot(path=str(artifacts / "stages-view.png"), full_page=True)
    wait_until(page, "document.getElementById('lens-strip').dataset.state === 'ready'")
    assert watched["errors"] == [] and watched["foreign"] == [] and watched["dialogs"] == []
    # Open sft in the shared panels: its tokens there, and the link says so.
    page.click("#stage-open-sft")
    wait_until(page, "new URLSearchParams(location.search).get('focus') === 'sft'")
    assert page.get_attribute("#stage-open-sft", "aria-pressed") == "true"
    assert page.locator("#prefix .tok.instruction").count() > 0
    assert page.locator("#self-plot .bar-item.instruction").count() > 0
    title = page.evaluate("document.getElementById('head-plot').layout.title.text")
    assert "decoder.0.self" in title
    # The logit lens of sft's answer: its strip, or why not in words (/api/logit-lens takes no
    # chat `input` line yet), never a blank.
    wait_until(page, "document.getElementById('lens-strip').dataset.state !== 'loading'")
    assert page.locator("#lens-strip li").count() > 0 or page.text_content("#lens-status")
    # On a phone the columns are stacked.
    page.set_viewport_size({"width": 390, "height": 844})
    tops = [c["top"] for c in columns(page)]
    assert tops == sorted(tops) and len(set(tops)) == 3
    assert watched["foreign"] == [] and watched["dialogs"] == []


def test_an_example_fills_the_form_and_runs_it(page: Page, stages_url: str) -> None:
    watched = watch(page, stages_url)
    open_view(page, stages_url)
    examples = json.loads(page.text_content("#page-text") or "{}")["views"]["stages"]["examples"]
    pattern = next(e for e in examples if e["settings"]["kind"] == "pattern")
    generated = sent(page, "/api/generate")
    with page.expect_response("**/api/generate"):
        page.get_by_role("button", name=pattern["label"]).click()
    wait_until(page, READY)
    assert page.input_value("#instruction") == pattern["value"]
    assert page.input_value("#kind") == "pattern" and not page.is_visible("#sentence")
    by_model = {body["model"]: body for body in generated}
    assert set(by_model) == {"gpt", "sft", "rlhf"}
    assert all(body["prompt"] == pattern["value"] for body in by_model.values())
    assert by_model["sft"]["template"] is False and by_model["rlhf"]["template"] is False
    for column in columns(page):
        assert column["answer"].strip() and column["score"] is not None, column
        assert "tok demonstration" in column["roles"] and "tok instruction" not in column["roles"]
    query = parse_qs(urlparse(page.url).query)
    assert query["kind"] == ["pattern"] and query["instruction"] == [pattern["value"]]
    assert "sentence" not in query
    assert watched["errors"] == [] and watched["foreign"] == []


def test_a_stage_that_cannot_answer_says_why_and_tokens_stay_text(
    page: Page, stages_url: str
) -> None:
    watched = watch(page, stages_url)
    instruction = f"<b>x</b> & <img src=x> {TOO_LONG_FOR_RLHF}"
    open_view(page, stages_url, instruction=instruction, sentence="")
    shown = {c["stage"]: c for c in columns(page)}
    assert shown["base"]["answer"].strip() and shown["sft"]["answer"].strip()
    status = shown["rlhf"]["status"]  # the server's 422, in its words
    assert status.startswith("This stage could not answer: the prompt is")
    assert "'rlhf' reads at most" in status
    assert shown["rlhf"]["answer"] == "" and shown["rlhf"]["score"] is None
    assert page.locator("#stage-columns b, #stage-columns img").count() == 0
    assert page.locator("#stage-open-rlhf").is_disabled()
    assert watched["dialogs"] == [] and watched["foreign"] == []


def test_with_only_base_loaded_the_page_names_the_missing_stages(
    page: Page, only_base_url: str
) -> None:
    watched = watch(page, only_base_url)
    open_view(page, only_base_url)
    missing = page.text_content("#stages-missing") or ""
    assert page.is_visible("#stages-missing")
    for name in ("sft", "rlhf", "reward model"):
        assert name in missing
    shown = columns(page)
    assert [c["stage"] for c in shown] == ["base"]
    assert shown[0]["answer"].strip() and shown[0]["score"] is None
    assert "no reward model" in shown[0]["reward"]
    # A request the server refuses (422) is said in words, never a blank.
    page.fill("#instruction", "")
    page.evaluate("document.getElementById('instruction').value = '好'.repeat(100)")
    with page.expect_response("**/api/generate") as answer:
        page.click("#submit")
    wait_until(page, IDLE)
    assert answer.value.status == 422
    assert "the limit is 80" in (page.text_content("#error") or "")
    assert watched["foreign"] == []
