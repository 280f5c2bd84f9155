"""The GPT view's "learning in the prompt, or in the weights" panel in a real browser: Compare
posts the prompt on screen to /api/learn and shows both answers and the losses; a prompt with
no demonstration line shows the server's sentence."""

import json

import pytest
from playwright.sync_api import Page

from tests.browser.helpers import rendered, wait_until

pytestmark = pytest.mark.browser

PROMPT = "他是学生。 => He is a student.\n我爱你。 => I love you.\n我有一只猫。 =>"
IDLE = "!document.getElementById('translate-form').classList.contains('busy')"
LEARNED = "!document.getElementById('learn-panel').classList.contains('busy')"


def open_gpt(page: Page, server_url: str) -> None:
    with page.expect_response("**/api/generate"):
        page.goto(f"{server_url}/?mode=gpt")
    rendered(page)
    wait_until(page, IDLE)


def compare(page: Page) -> dict:
    """Press Compare; return the request body /api/learn received."""
    with page.expect_response("**/api/learn") as answer:
        page.click("#learn-button")
    wait_until(page, LEARNED)
    return json.loads(answer.value.request.post_data or "{}")


def test_compare_shows_both_answers_as_the_api_gives_them(page: Page, server_url: str) -> None:
    open_gpt(page, server_url)
    assert page.is_visible("#learn-panel")
    page.fill("#prompt", PROMPT)
    page.fill("#learn-steps", "3")
    body = compare(page)
    assert body["prompt"] == PROMPT and body["steps"] == 3 and body["model"] == "gpt"
    assert "stop_at_line_end" not in body and "demonstrations" not in body
    assert page.is_visible("#learn-results") and not page.is_visible("#learn-error")
    expected = page.evaluate(
        """body => fetch('/api/learn', {method: 'POST', body: JSON.stringify(body),
             headers: {'Content-Type': 'application/json'}}).then(r => r.json())""",
        body,
    )
    empty = "(nothing: the first token it chose ended the answer)"
    for side, key in (("in-prompt", "in_prompt"), ("in-weights", "in_weights")):
        assert page.text_content(f"#learn-{side}") == (expected[key]["translation"] or empty)
    losses = page.eval_on_selector_all("#learn-losses li", "ls => ls.map(l => l.textContent)")
    assert losses == [f"step {i + 1}: {loss:.2f}" for i, loss in enumerate(expected["losses"])]
    assert len(losses) == 3


def test_a_prompt_without_demonstrations_shows_the_servers_sentence(
    page: Page, server_url: str
) -> None:
    open_gpt(page, server_url)
    page.fill("#prompt", "我有一只猫。 =>")
    compare(page)
    assert page.is_visible("#learn-error") and not page.is_visible("#learn-results")
    detail = page.evaluate(
        """prompt => fetch('/api/learn', {method: 'POST', body: JSON.stringify({prompt}),
             headers: {'Content-Type': 'application/json'}}).then(r => r.json())""",
        "我有一只猫。 =>",
    )["detail"]
    assert "nothing to learn from" in detail
    assert page.text_content("#learn-error") == detail
    assert page.is_enabled("#learn-button")


def test_the_learning_panel_belongs_to_the_gpt_view(page: Page, server_url: str) -> None:
    page.goto(server_url)
    rendered(page)
    assert not page.is_visible("#learn-panel")


def test_the_learning_rate_is_sent_and_checked(page: Page, server_url: str) -> None:
    open_gpt(page, server_url)
    page.fill("#prompt", PROMPT)
    page.fill("#learn-rate", "0.002")
    body = compare(page)
    assert body["learning_rate"] == 0.002
    learning = page.evaluate("JSON.parse(document.getElementById('initial-data').textContent)")
    limit = learning["learning"]["max_learning_rate"]
    assert page.get_attribute("#learn-rate", "max") == str(limit)
    page.fill("#learn-rate", "0.5")  # past the server's range: refused here, nothing sent
    sent = []
    page.on("request", lambda request: sent.append(request.url))
    page.click("#learn-button")
    assert page.is_visible("#learn-error")
    assert "learning rate" in (page.text_content("#learn-error") or "")
    assert not any("/api/learn" in url for url in sent)


def test_the_answers_go_when_a_new_prompt_is_generated(page: Page, server_url: str) -> None:
    open_gpt(page, server_url)
    page.fill("#prompt", PROMPT)
    compare(page)
    assert page.is_visible("#learn-results")
    with page.expect_response("**/api/generate"):
        page.click("#submit")  # the same prompt: its answers stay
    wait_until(page, IDLE)
    assert page.is_visible("#learn-results")
    page.fill("#prompt", "我爱你。 => I love you.\n他是学生。 =>")
    with page.expect_response("**/api/generate"):
        page.click("#submit")
    wait_until(page, IDLE)
    assert not page.is_visible("#learn-results")
    assert page.text_content("#learn-status") == ""
