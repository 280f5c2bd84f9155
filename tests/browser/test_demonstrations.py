"""The GPT view's demonstrations: the choice reaches /api/generate and the URL, the prompt the
model read is shown, the 北京 example, and the step view naming the heads that copy a token
from the demonstrations (computed here again from the response the page received)."""

import json
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from playwright.sync_api import Page

from tests.browser.helpers import rendered, wait_until, watch

pytestmark = pytest.mark.browser

IDLE = "!document.getElementById('translate-form').classList.contains('busy')"
QUERY = "我有一只狗。"
POOL_PAIR = "我有一只猫。 => I have a cat."  # the pool's pair most like the query


def open_gpt(page: Page, url: str) -> dict:
    """Open a page that generates at once; return the request body and the answer."""
    with page.expect_response("**/api/generate") as answer:
        page.goto(url)
    rendered(page)
    wait_until(page, IDLE)
    return {"body": json.loads(answer.value.request.post_data or "{}"), **answer.value.json()}


def generate(page: Page) -> tuple[dict, dict]:
    with page.expect_response("**/api/generate") as answer:
        page.click("#submit")
    wait_until(page, IDLE)
    return json.loads(answer.value.request.post_data or "{}"), answer.value.json()


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_similar_demonstrations_are_sent_shown_and_shared(
    page: Page, server_url: str, artifacts
) -> None:
    watched = watch(page, server_url)
    open_gpt(page, f"{server_url}/?mode=gpt")
    assert page.input_value("#demos") == "none" and page.input_value("#shots") == "3"
    assert page.is_disabled("#shots")  # a count of nothing
    assert not page.is_visible("#read-prompt")  # the prompt as typed: nothing was added
    page.fill("#prompt", QUERY)
    page.select_option("#demos", "similar")
    assert page.is_enabled("#shots")
    page.fill("#shots", "2")
    page.dispatch_event("#shots", "change")
    body, result = generate(page)
    assert body["demonstrations"] == {"kind": "similar", "count": 2}
    assert body["prompt"] == QUERY  # the server adds them, not the page
    assert result["prompt"].startswith(POOL_PAIR) and result["prompt"].endswith(f"{QUERY} =>")
    assert page.is_visible("#read-prompt")
    assert page.text_content("#read-prompt") == result["prompt"]  # line breaks kept, as text
    assert page.evaluate("getComputedStyle(document.getElementById('read-prompt')).whiteSpace") in (
        "pre",
        "pre-wrap",
    )
    # The step view shades what the server added as demonstrations.
    demonstrations = result["roles"].count("demonstration")
    assert demonstrations > 0
    assert page.locator(".prefix .tok.demonstration").count() == demonstrations
    page.locator("section[aria-labelledby=input-title]").screenshot(
        path=str(artifacts / "gpt-demonstrations.png")
    )
    shared = query(page)
    assert shared["demos"] == ["similar"] and shared["shots"] == ["2"]
    # The link opens the same choice and asks for the same demonstrations.
    again = open_gpt(page, page.url)
    assert again["body"]["demonstrations"] == {"kind": "similar", "count": 2}
    assert (page.input_value("#demos"), page.input_value("#shots")) == ("similar", "2")
    assert page.text_content("#read-prompt") == result["prompt"]
    # Back to none: no demonstrations sent, none shown, and the URL drops the keys.
    page.select_option("#demos", "none")
    page.fill("#prompt", f"{POOL_PAIR}\n{QUERY} =>")
    body, result = generate(page)
    assert "demonstrations" not in body
    assert result["prompt"] == body["prompt"]
    assert not page.is_visible("#read-prompt")
    wait_until(page, "!new URLSearchParams(location.search).has('demos')")
    assert "shots" not in query(page)  # a count of nothing says nothing
    assert watched["errors"] == [] and watched["foreign"] == []


def test_a_link_with_unknown_demonstrations_asks_for_none(page: Page, server_url: str) -> None:
    link = urlencode({"mode": "gpt", "prompt": f"{QUERY} =>", "demos": "all", "shots": "9"})
    sent = open_gpt(page, f"{server_url}/?{link}")
    assert "demonstrations" not in sent["body"]
    assert (page.input_value("#demos"), page.input_value("#shots")) == ("none", "3")
    assert "demos" not in query(page) and "shots" not in query(page)


def test_the_beijing_example_generates(page: Page, server_url: str) -> None:
    open_gpt(page, f"{server_url}/?mode=gpt&demos=random")
    button = page.locator("#examples button", has_text="北京 → Beijing")
    assert button.count() == 1
    with page.expect_response("**/api/generate") as answer:
        button.click()
    wait_until(page, IDLE)
    body = json.loads(answer.value.request.post_data or "{}")
    assert body["prompt"] == (
        "我是在北京学的中文。 => It was in Beijing that I studied Chinese.\n他昨天去了北京。 =>"
    )
    result = answer.value.json()
    assert "demonstration" in result["roles"] and "query" in result["roles"]
    assert page.input_value("#prompt") == body["prompt"]
    # The example is its prompt as typed: the random choice is undone, none are added.
    assert "demonstrations" not in body and page.input_value("#demos") == "none"


def test_the_similar_example_asks_the_server_for_demonstrations(
    page: Page, server_url: str
) -> None:
    open_gpt(page, f"{server_url}/?mode=gpt")
    button = page.locator("#examples button", has_text="similar training pairs")
    with page.expect_response("**/api/generate") as answer:
        button.click()
    wait_until(page, IDLE)
    body = json.loads(answer.value.request.post_data or "{}")
    assert body["prompt"] == "他昨天去了北京。 =>"
    assert body["demonstrations"] == {"kind": "similar", "count": 3}
    assert page.input_value("#demos") == "similar" and page.is_enabled("#shots")
    assert page.is_visible("#read-prompt")
    assert query(page)["demos"] == ["similar"]


def expected_copy(result: dict, step: int) -> tuple[int, int, float] | None:
    """The copying head of a step, from the weights: the largest summed weight of any decoder
    self-attention head's row on the demonstration positions that hold the step's token."""
    token = result["target_tokens"][step]
    maps = [m for m in result["attention"] if m["stack"] == "decoder" and m["kind"] == "self"]
    keys = maps[0]["key_tokens"]
    positions = [
        p for p, key in enumerate(keys) if key == token and result["roles"][p] == "demonstration"
    ]
    if not positions:
        return None
    row = len(result["prompt_tokens"]) + step
    scored = [
        (sum(weights[row][p] for p in positions), m["layer"], head)
        for m in maps
        for head, weights in enumerate(m["weights"])
    ]
    weight, layer, head = max(scored, key=lambda s: s[0])
    return layer, head, weight


# Prompts whose answers, from the tiny seeded GPT, have steps of both kinds between them.
COPY_LINKS = [
    {"mode": "gpt"},  # the few-shot example
    {"mode": "gpt", "prompt": QUERY, "demos": "similar"},
    {"mode": "gpt", "prompt": "他昨天去了北京。", "demos": "random", "shots": "2"},
]


def test_the_step_view_says_whether_the_token_is_copied(
    page: Page, server_url: str, artifacts
) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    seen = set()
    for link in COPY_LINKS:
        result = open_gpt(page, f"{server_url}/?{urlencode(link)}")
        steps = len(result["steps"])
        for step in sorted({0, 1, steps - 1} & set(range(steps))):
            seen.add(check_copy_note(page, result, step))
    # With random weights the tokens are arbitrary; the tiny GPT is seeded, and these prompts
    # give both a token in the demonstrations and one that is not: both sentences are checked.
    assert seen == {True, False}
    page.goto(f"{server_url}/?{urlencode(COPY_LINKS[0])}")  # the few-shot example, step 0
    rendered(page)
    wait_until(page, IDLE)
    steps_panel = page.locator("section[aria-labelledby=steps-title]")
    steps_panel.screenshot(path=str(artifacts / "gpt-copy-note.png"))


def check_copy_note(page: Page, result: dict, step: int) -> bool:
    """The copy sentence at `step` says what the response's weights say; True if copied."""
    page.fill("#step", str(step))
    wait_until(page, f"document.getElementById('step').value === '{step}'")
    note = page.text_content("#copy-note") or ""
    copied = page.get_attribute("#copy-note", "data-copied")
    expected = expected_copy(result, step)
    token = result["target_tokens"][step].replace("\n", "↵")
    if expected is None:
        assert copied == "false", step
        assert note.startswith("Not copied") and f"“{token}”" in note
        assert page.locator("#copy-note button").count() == 0
        return False
    layer, head, weight = expected
    assert copied == "true", step
    assert note.startswith(f"Copied from the demonstration: layer {layer} head {head} ")
    assert f"“{token}” there ({weight:.2f})" in note
    assert "从示例中复制" in note
    buttons = page.locator("#copy-note button")
    assert buttons.first.text_content() == f"open layer {layer} head {head}"
    assert buttons.count() == (2 if layer > 0 else 1)
    assert ("a previous-token head" in note) == (layer > 0)
    buttons.first.click()
    assert (page.input_value("#layer"), page.input_value("#head")) == (str(layer), str(head))
    return True
