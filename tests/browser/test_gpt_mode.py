"""GPT mode in a real browser: the decoder alone, its prompt by role, the side-by-side view with
the encoder-decoder, and the layer × head score table."""

import html
import json
import time
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page

from tests.browser.helpers import plotted, rendered, wait_until, watch

pytestmark = pytest.mark.browser

FEW_SHOT_QUERY = "我有一只猫。"
IDLE = "!document.getElementById('translate-form').classList.contains('busy')"
COMPARED = "document.getElementById('compare-gpt').data?.length === 1"
GPT_LINK = "nav.views a[data-mode=gpt]"
TRANSLATE_LINK = "nav.views a[data-mode=translate]"


@pytest.fixture
def watched(page: Page, server_url: str) -> dict:
    return watch(page, server_url)


def switch_to_gpt(page: Page) -> dict:
    """Click the GPT link in the navigation bar; return the /api/generate answer the page
    received."""
    with page.expect_response("**/api/generate") as answer:
        page.click(GPT_LINK)
    wait_until(page, IDLE)
    wait_until(page, COMPARED)
    return answer.value.json()


def generate(page: Page, click: str) -> tuple[dict, dict]:
    """Click something that generates; return the request body and the answer."""
    with page.expect_response("**/api/generate") as answer:
        page.click(click)
    wait_until(page, IDLE)
    return json.loads(answer.value.request.post_data or "{}"), answer.value.json()


def test_gpt_mode_shows_the_decoder_alone(page: Page, server_url: str, watched: dict) -> None:
    page.goto(server_url)
    rendered(page)
    result = switch_to_gpt(page)
    assert page.is_visible("#prompt") and not page.is_visible("#text")
    assert page.input_value("#prompt").endswith(f"{FEW_SHOT_QUERY} =>")  # the few-shot example
    assert not page.is_visible("#encoder-stack") and not page.is_visible(".cross-part")
    assert page.text_content("#submit") == "Generate"
    disabled = page.eval_on_selector_all("#view option", "os => os.map(o => [o.value, o.disabled])")
    assert dict(disabled) == {"encoder.self": True, "decoder.self": False, "decoder.cross": True}
    assert "decoder.0.self" in plotted(page, "head-plot")["title"]
    assert plotted(page, "model-plot")["traces"] == 2 * 4  # decoder layers × heads, nothing else
    assert page.text_content("#translation") == result["translation"]
    assert "mode=gpt" in page.url and "prompt=" in page.url
    assert watched["errors"] == [] and watched["foreign"] == []


def test_the_prompt_is_shaded_by_role_and_heads_show_their_share(
    page: Page, server_url: str, artifacts
) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(server_url)
    rendered(page)
    result = switch_to_gpt(page)
    roles = result["roles"]
    prompt_length = len(result["prompt_tokens"])
    shading = page.eval_on_selector_all(".prefix .tok", "ts => ts.map(t => t.className)")
    # A line break is a visible ↵, never an empty chip.
    texts = page.eval_on_selector_all(".prefix .tok", "ts => ts.map(t => t.textContent)")
    assert "" not in texts[:-1] and texts.count("↵") == result["prompt_tokens"].count("\n") > 0
    expected = {"start": "special", "demonstration": "demonstration", "query": "query"}
    assert shading == [f"tok {expected[r]}" for r in roles[: prompt_length + 1]] + ["tok current"]
    # Step 0 is produced by the prompt's last position: it sees <s> and the whole prompt.
    assert page.locator("#self-plot .bar-item").count() == prompt_length + 1
    assert page.locator("#self-plot .bar-item.demonstration").count() == roles.count(
        "demonstration"
    )
    # Each head's share on the demonstrations at this step, from the weights the page holds.
    layer0 = next(m for m in result["attention"] if m["name"] == "decoder.0.self")
    demonstrations = [k for k, r in enumerate(roles) if r == "demonstration"]
    shares = page.eval_on_selector_all("#share-plot .bar-value", "vs => vs.map(v => v.textContent)")
    assert shares == [
        f"{sum(head[prompt_length][k] for k in demonstrations):.3f}" for head in layer0["weights"]
    ]
    labels = page.eval_on_selector_all("#share-plot .bar-label", "ls => ls.map(l => l.textContent)")
    mean = result["demonstration_share"]["decoder.0.self"]
    assert labels == [f"head {h} ({m:.2f})" for h, m in enumerate(mean)]
    if len(result["steps"]) > 1:
        page.fill("#step", "1")
        assert page.locator("#self-plot .bar-item").count() == prompt_length + 2
        assert page.locator(".prefix .tok.done").count() == 1  # the answer so far
    page.screenshot(path=str(artifacts / "gpt-view.png"), full_page=True)


def test_a_zero_shot_prompt_has_no_demonstrations(page: Page, server_url: str) -> None:
    page.goto(f"{server_url}/?mode=gpt")
    rendered(page)
    wait_until(page, IDLE)
    body, result = generate(page, "#examples button >> nth=0")
    assert body["prompt"] == f"{FEW_SHOT_QUERY} =>"
    assert "demonstration" not in result["roles"]
    assert page.locator(".prefix .tok.demonstration").count() == 0
    assert "no demonstrations" in page.text_content("#share-plot")


def test_side_by_side_cross_attention_and_gpt_attention(page: Page, server_url: str) -> None:
    page.goto(server_url)
    rendered(page)
    with page.expect_response("**/api/translate") as translated:
        result = switch_to_gpt(page)
    cross = plotted(page, "compare-cross")
    gpt = plotted(page, "compare-gpt")
    assert cross["xticks"] == list(FEW_SHOT_QUERY)  # the encoder-decoder's source
    assert cross["yticks"][0] == "&lt;s&gt;"
    assert translated.value.json()["source_tokens"] == list(FEW_SHOT_QUERY)
    prompt = result["prompt_tokens"]
    keys = ["<s>", *prompt]
    assert len(gpt["z"][0]) == len(keys)  # every key is drawn, labelled or not
    # More keys than labels fit: every k-th is labelled, as the page shows it (↵, escaped).
    every = gpt["xvals"][1] - gpt["xvals"][0]
    assert every > 1 and gpt["xvals"] == list(range(0, len(keys), every))
    shown = [html.escape(key.replace("\n", "↵"), quote=False) for key in keys]
    assert gpt["xticks"] == [shown[i] for i in gpt["xvals"]]
    assert len(gpt["z"]) == len(result["target_tokens"])  # the rows that wrote the answer
    assert prompt[-1] == "=>" and gpt["yticks"][0] == "=&gt;"  # the answer starts at the arrow
    layer0 = next(m for m in result["attention"] if m["name"] == "decoder.0.self")
    mean_first_row = [
        sum(head[len(prompt)][k] for head in layer0["weights"]) / 4 for k in range(len(prompt) + 1)
    ]
    assert gpt["z"][0] == pytest.approx(mean_first_row, abs=1e-9)
    page.select_option("#layer", "1")
    assert "decoder.1.self" in plotted(page, "compare-gpt")["title"]
    assert "decoder.1.cross" in plotted(page, "compare-cross")["title"]


def test_head_score_table_matches_the_api_and_opens_a_head(page: Page, server_url: str) -> None:
    page.goto(server_url)
    rendered(page)
    switch_to_gpt(page)
    wait_until(page, "document.querySelectorAll('.score-table').length === 4")
    scores = page.evaluate("fetch('/api/head-scores?model=gpt').then(r => r.json())")
    # The tiny server's pool has text in both languages: induction on it is two more tables.
    assert set(scores["induction_on_text"]) == {"zh", "en"}
    by_kind = {
        "induction": scores["induction"],
        "previous_token": scores["previous_token"],
        "induction_zh": scores["induction_on_text"]["zh"],
        "induction_en": scores["induction_on_text"]["en"],
    }
    for kind, values in by_kind.items():
        cells = page.eval_on_selector_all(
            f".score-table[data-kind={kind}] tbody tr",
            "rows => rows.map(r => [...r.querySelectorAll('button')].map(b => b.textContent))",
        )
        assert cells == [[f"{v:.2f}" for v in values[f"decoder.{layer}.self"]] for layer in (0, 1)]
    captions = page.eval_on_selector_all(".score-table caption", "cs => cs.map(c => c.textContent)")
    assert "Induction on repeated Chinese text" in captions
    assert "Induction on repeated English text" in captions
    page.click(".score-table[data-kind=induction_zh] tbody tr:nth-child(1) td:nth-child(3) button")
    assert (page.input_value("#layer"), page.input_value("#head")) == ("0", "1")
    page.click(".score-table[data-kind=induction] tbody tr:nth-child(2) td:nth-child(5) button")
    assert (page.input_value("#layer"), page.input_value("#head")) == ("1", "3")
    assert "decoder.1.self · head 3" in plotted(page, "head-plot")["title"]


def test_sampling_controls_reach_generate(page: Page, server_url: str) -> None:
    page.goto(server_url)
    rendered(page)
    switch_to_gpt(page)
    page.click("details.controls summary")
    page.select_option("#strategy", "sample")
    for field, value in (("temperature", "0.7"), ("top_k", "5"), ("top_p", "0.9"), ("seed", "7")):
        page.fill(f"#{field}", value)
        page.dispatch_event(f"#{field}", "change")
    first_body, first = generate(page, "#submit")
    sent = ("strategy", "temperature", "top_k", "top_p", "seed", "stop_at_line_end")
    assert {k: first_body[k] for k in sent} == {
        "strategy": "sample",
        "temperature": 0.7,
        "top_k": 5,
        "top_p": 0.9,
        "seed": 7,
        "stop_at_line_end": True,
    }
    assert all(len(step["candidates"]) <= 5 for step in first["steps"])
    _, again = generate(page, "#submit")
    assert again["target_tokens"] == first["target_tokens"]  # the same seed, the same sample
    page.uncheck("#stop_at_line_end")
    body, _ = generate(page, "#submit")
    assert body["stop_at_line_end"] is False and "stop_at_line_end=false" in page.url


def test_back_to_translate_restores_the_encoder_decoder(
    page: Page, server_url: str, watched: dict
) -> None:
    page.goto(server_url)
    rendered(page)
    directions = page.eval_on_selector_all("#model option", "os => os.map(o => o.value)")
    assert directions == ["auto", "zh-en", "en-zh"]  # the GPT does not translate
    switch_to_gpt(page)
    with page.expect_response("**/api/translate"):
        page.click(TRANSLATE_LINK)
    wait_until(page, IDLE)
    assert page.is_visible("#text") and page.is_visible("#encoder-stack")
    assert not page.is_visible("#compare-panel") and not page.is_visible("#scores-panel")
    page.select_option("#view", "decoder.cross")
    assert plotted(page, "head-plot")["xticks"] == list(FEW_SHOT_QUERY)
    assert watched["errors"] == []


def test_a_shared_gpt_url_opens_in_gpt_mode_and_shows_markup_literally(
    page: Page, server_url: str, watched: dict
) -> None:
    prompt = "<img src=x onerror=alert(1)> => <b>x</b>\n猫 =>"
    page.goto(f"{server_url}/?{urlencode({'mode': 'gpt', 'prompt': prompt})}")
    wait_until(page, f"document.body.dataset.rendered >= 1 && {IDLE}")
    assert page.input_value("#prompt") == prompt
    assert page.get_attribute(GPT_LINK, "aria-current") == "page"
    assert watched["dialogs"] == []
    assert page.locator(".prefix img, .prefix b, #self-plot img, #compare-panel img").count() == 0
    assert watched["errors"] == []


def test_gpt_mode_is_usable_on_a_phone(page: Page, server_url: str, watched: dict) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server_url)
    rendered(page)
    switch_to_gpt(page)
    wait_until(page, "document.querySelectorAll('.score-table').length === 4")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    assert watched["errors"] == []


def test_a_new_generation_replaces_the_comparison_without_errors(
    page: Page, server_url: str, watched: dict
) -> None:
    page.goto(server_url)
    rendered(page)
    switch_to_gpt(page)
    page.fill("#prompt", "今天天气很好。 =>")
    with page.expect_response("**/api/translate") as translated:
        with page.expect_response("**/api/generate"):
            page.press("#prompt", "Control+Enter")
    assert translated.value.json()["source_tokens"] == list("今天天气很好。")
    wait_until(page, IDLE)
    wait_until(page, COMPARED)
    assert plotted(page, "compare-cross")["xticks"] == list("今天天气很好。")  # the new sentence's
    # Clearing the side-by-side plots while Plotly redrew them threw on every new generation.
    assert watched["errors"] == []


def test_a_failed_generation_keeps_the_old_answer_and_its_comparison(
    page: Page, server_url: str, watched: dict
) -> None:
    page.goto(server_url)
    rendered(page)
    switch_to_gpt(page)
    before = plotted(page, "compare-cross")
    translations: list[str] = []
    page.on("request", lambda r: translations.append(r.url) if "/api/translate" in r.url else None)
    page.fill("#prompt", "猫。" * 100 + " =>")  # more tokens than the GPT's positions: a 422
    with page.expect_response("**/api/generate") as answer:
        page.press("#prompt", "Control+Enter")
    assert answer.value.status == 422
    wait_until(page, IDLE)
    time.sleep(0.3)
    assert translations == []  # no comparison for a prompt that got no answer
    assert plotted(page, "compare-cross") == before
    assert "still answers the previous request" in page.text_content("#error")
    assert [e for e in watched["errors"] if "422" not in e] == []
