"""The navigation between views, links that open a view, and settings bounded by the server's
limits."""

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from playwright.sync_api import Page

from app.settings import Settings
from tests.browser.conftest import MODELS, serve
from tests.browser.helpers import rendered, wait_until, watch

pytestmark = pytest.mark.browser

IDLE = "!document.getElementById('translate-form').classList.contains('busy')"
TRANSLATE_LINK = "nav.views a[data-mode=translate]"
GPT_LINK = "nav.views a[data-mode=gpt]"
# Limits unlike the defaults, so that a number written into the page would show.
NARROW = {
    "max_new_tokens": 32,
    "max_beam_size": 3,
    "min_temperature": 0.1,
    "max_temperature": 2.5,
    "max_top_k": 50,
    "min_top_p": 0.05,
    "max_text_chars": 120,
    "max_prompt_chars": 400,
}
# Each bounded input: (its minimum, its maximum) as the request schema names them.
BOUNDED = ("beam_size", "temperature", "top_k", "top_p", "max_new_tokens")


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def current_views(page: Page) -> list[str]:
    """The data-mode of every nav link that says it is the current page."""
    return page.eval_on_selector_all(
        "nav.views a[aria-current=page]", "links => links.map(a => a.dataset.mode)"
    )


def test_the_nav_switches_views_and_the_url_follows(page: Page, server_url: str) -> None:
    watched = watch(page, server_url)
    page.goto(server_url)
    rendered(page)
    hrefs = page.eval_on_selector_all(
        "nav.views a", "links => links.map(a => a.getAttribute('href'))"
    )
    # Real links: they open in a new tab too.
    assert hrefs == ["?mode=translate", "?mode=gpt", "?mode=stages"]
    assert page.get_attribute("nav.views", "aria-label") == "Views"
    assert current_views(page) == ["translate"]
    assert page.locator("input[name=mode]").count() == 0  # the nav replaced the radios
    page.focus(GPT_LINK)  # a link: reachable with Tab, followed with Enter
    with page.expect_response("**/api/generate"):
        page.keyboard.press("Enter")
    wait_until(page, IDLE)
    wait_until(page, "new URLSearchParams(location.search).get('mode') === 'gpt'")
    assert current_views(page) == ["gpt"]
    assert page.is_visible("#prompt") and not page.is_visible("#text")
    gpt_query = query(page)
    assert gpt_query["mode"] == ["gpt"] and gpt_query["prompt"]
    assert "text" not in gpt_query and "model" not in gpt_query  # translate's own keys
    assert urlparse(page.url).path == "/"  # switched in the page, not loaded again
    with page.expect_response("**/api/translate"):
        page.click(TRANSLATE_LINK)
    wait_until(page, IDLE)
    wait_until(page, "new URLSearchParams(location.search).get('mode') === 'translate'")
    assert current_views(page) == ["translate"]
    translate_query = query(page)
    assert translate_query["text"] == ["我有一只猫。"]
    assert "prompt" not in translate_query and "stop_at_line_end" not in translate_query
    assert page.text_content("#submit") == "Translate"
    # Each switch is a history entry: Back returns to the GPT view and its prompt.
    with page.expect_response("**/api/generate"):
        page.go_back()
    wait_until(page, IDLE)
    assert current_views(page) == ["gpt"] and query(page)["prompt"] == gpt_query["prompt"]
    assert page.is_visible("#prompt") and page.text_content("#submit") == "Generate"
    assert watched["errors"] == [] and watched["foreign"] == []


def test_a_shared_gpt_link_opens_the_gpt_view(page: Page, server_url: str) -> None:
    prompt = "他是学生。 => He is a student.\n我爱你。 =>"
    # The form of link the page made before each view owned its keys: text= is ignored.
    link = urlencode({"text": "我有一只猫。", "mode": "gpt", "prompt": prompt, "top_k": "5"})
    with page.expect_request("**/api/generate") as sent:
        page.goto(f"{server_url}/?{link}")
    wait_until(page, f"document.body.dataset.rendered >= 1 && {IDLE}")
    body = json.loads(sent.value.post_data or "{}")
    assert body["prompt"] == prompt and body["top_k"] == 5 and "text" not in body
    assert current_views(page) == ["gpt"]
    assert page.input_value("#prompt") == prompt and page.is_visible("#compare-panel")
    shared = query(page)
    assert shared["prompt"] == [prompt] and shared["top_k"] == ["5"] and "text" not in shared


def test_an_unknown_view_in_a_link_opens_translate(page: Page, server_url: str) -> None:
    page.goto(f"{server_url}/?mode=bert&text=%E6%88%91%E7%88%B1%E4%BD%A0%E3%80%82")
    wait_until(page, f"document.body.dataset.rendered >= 1 && {IDLE}")
    assert current_views(page) == ["translate"]
    assert page.input_value("#text") == "我爱你。"
    assert query(page)["mode"] == ["translate"]


@pytest.fixture(scope="module")
def narrow_url(model_dir: Path) -> Iterator[str]:
    with serve(Settings(model_dir=model_dir, models=MODELS, **NARROW)) as url:
        yield url


def test_settings_are_bounded_by_the_servers_limits_and_start_at_its_defaults(
    page: Page, narrow_url: str
) -> None:
    page.goto(narrow_url)
    rendered(page)
    schema = page.evaluate("fetch('/openapi.json').then(r => r.json())")["components"]["schemas"]
    for request in ("TranslateRequest", "GenerateRequest"):
        fields = schema[request]["properties"]
        for name in BOUNDED:
            bounds = page.eval_on_selector(f"#{name}", "el => [Number(el.min), Number(el.max)]")
            assert bounds == [fields[name]["minimum"], fields[name]["maximum"]], (request, name)
    limits = page.evaluate("JSON.parse(document.getElementById('initial-data').textContent)")[
        "limits"
    ]
    assert limits == NARROW  # what the page got is what the server was told
    assert page.get_attribute("#beam_size", "max") == "3"
    assert float(page.get_attribute("#temperature", "min")) == 0.1
    assert page.get_attribute("#text", "maxlength") == "120"
    assert page.get_attribute("#prompt", "maxlength") == "400"
    # The fields start at the request schema's defaults (max_new_tokens shrinks to the limit).
    fields = schema["TranslateRequest"]["properties"]
    for name in (*BOUNDED, "seed"):
        assert float(page.input_value(f"#{name}")) == fields[name]["default"], name
    assert page.input_value("#max_new_tokens") == "32"
