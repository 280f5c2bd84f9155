"""Inside a head and the logit lens in a real browser: a click on a heatmap cell opens that cell,
and every number drawn is the API's."""

import json
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from playwright.sync_api import Page

from tests.browser.helpers import plotted, rendered, wait_until, watch

pytestmark = pytest.mark.browser

OPENED = "document.getElementById('inside-steps').hidden === false"
# The step boxes of the template, each with its figure (templates/inside.html).
STEPS = ["x", "q", "k", "scores", "scaled", "masked", "probs", "v", "z", "heads", "residual", "ffn"]


@pytest.fixture
def watched(page: Page, server_url: str) -> dict:
    return watch(page, server_url)


def click_cell(page: Page, query: int, key: int) -> dict:
    """Click cell (query, key) of the head view; return the /api/inside request body the page
    sent and the answer it drew."""
    head = plotted(page, "head-plot")
    rows, columns = len(head["z"]), len(head["z"][0])
    area = page.locator("#head-plot .nsewdrag")
    box = area.bounding_box()
    assert box
    position = {
        "x": (key + 0.5) / columns * box["width"],
        "y": (query + 0.5) / rows * box["height"],  # query 0 on top: the y axis is reversed
    }
    with page.expect_response("**/api/inside") as answer:
        area.click(position=position)
    wait_until(page, OPENED)
    wait_until(page, "document.getElementById('inside-probs').data?.length === 1")
    return {
        "body": json.loads(answer.value.request.post_data or "{}"),
        "answer": answer.value.json(),
    }


def drawn(page: Page, key: str) -> list:
    return page.evaluate(f"document.getElementById('inside-{key}').data[0].z")


def again(page: Page, server_url: str, path: str, body: dict) -> dict:
    """The same request, sent by the test itself."""
    response = page.request.post(f"{server_url}{path}", data=body)
    assert response.ok, response.text()
    return response.json()


def test_a_click_on_a_cell_draws_its_row_with_the_apis_numbers(
    page: Page, server_url: str, watched: dict, artifacts
) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(server_url)
    rendered(page)
    page.select_option("#layer", "1")
    page.select_option("#head", "2")
    head_row = plotted(page, "head-plot")["z"][1]
    opened = click_cell(page, query=1, key=0)
    body, answer = opened["body"], opened["answer"]
    assert (body["site"], body["head"], body["query"]) == ("decoder.1.cross", 2, 1)
    assert body["text"] == page.input_value("#text")
    assert parse_qs(urlparse(page.url).query)["inside"] == ["decoder.1.cross/2/1"]
    # The numbers drawn are the API's, for the same request sent again.
    api = again(page, server_url, "/api/inside", body)
    assert drawn(page, "probs") == [api["probs"]]
    assert drawn(page, "q") == [api["q"]] and drawn(page, "k") == api["k"]
    assert drawn(page, "v") == api["v"] and drawn(page, "z") == [api["z"]]
    assert drawn(page, "scores") == [api["scores"]] and drawn(page, "masked") == [api["masked"]]
    assert drawn(page, "heads") == [api["heads_z"], api["output"]]
    assert drawn(page, "residual") == [api["x"], api["output"], api["residual"], api["norm"]]
    assert drawn(page, "x") == [api["x"]]  # cross-attention reads the layer's own input
    assert api == {**answer, "timing_ms": api["timing_ms"]}
    # The softmax row is the row of the heatmap that was clicked.
    assert all(abs(a - b) <= 1.5e-4 for a, b in zip(api["probs"], head_row, strict=True))
    assert page.input_value("#inside-site") == "decoder.1.cross"
    assert (page.input_value("#inside-head"), page.input_value("#inside-query")) == ("2", "1")
    status = page.text_content("#inside-status") or ""
    assert "decoder.1.cross, head 2, query 1" in status
    # Hovering a cell names its key and gives its number.
    area = page.locator("#inside-probs .nsewdrag")
    box = area.bounding_box()
    assert box
    area.hover(position={"x": box["width"] / (2 * len(api["probs"])), "y": box["height"] / 2})
    wait_until(page, "document.querySelector('#inside-probs .hovertext')")
    hovered = page.text_content("#inside-probs .hovertext") or ""
    assert f"{api['probs'][0]:.4f}" in hovered and api["key_tokens"][0] in hovered
    assert all(page.evaluate(f"document.getElementById('inside-{k}').data.length") for k in STEPS)
    page.locator("#inside-panel").screenshot(path=str(artifacts / "inside-a-head.png"))
    assert watched["errors"] == [] and watched["foreign"] == []


def test_the_selects_open_another_site_and_the_link_reopens_it(
    page: Page, server_url: str, watched: dict
) -> None:
    page.goto(server_url)
    rendered(page)
    click_cell(page, query=0, key=0)
    with page.expect_response("**/api/inside") as answer:
        page.select_option("#inside-site", "encoder.0.self")
    wait_until(page, "document.getElementById('inside-status').textContent.includes('encoder')")
    body = json.loads(answer.value.request.post_data or "{}")
    assert body["site"] == "encoder.0.self"
    api = again(page, server_url, "/api/inside", body)
    assert api["token_embedding"] and api["positional_encoding"]  # layer 0: its two parts
    wait_until(page, "document.getElementById('inside-x').data[0].z.length === 3")
    assert drawn(page, "x") == [api["token_embedding"], api["positional_encoding"], api["x"]]
    with page.expect_response("**/api/inside"):
        page.select_option("#inside-query", "3")
    wait_until(page, "document.getElementById('inside-status').textContent.includes('query 3')")
    shared = page.url
    assert parse_qs(urlparse(shared).query)["inside"] == ["encoder.0.self/0/3"]
    fresh = page.context.new_page()
    fresh.set_viewport_size({"width": 390, "height": 844})  # and on a phone
    with fresh.expect_response("**/api/inside"):
        fresh.goto(shared)
    wait_until(fresh, OPENED)
    wait_until(fresh, "document.getElementById('inside-probs').data?.length === 1")
    assert fresh.input_value("#inside-query") == "3"
    assert fresh.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    assert watched["errors"] == []


def test_the_gpt_masks_the_future_and_the_lens_strip_is_the_apis(
    page: Page, server_url: str, watched: dict
) -> None:
    prompt = "我有一只猫。 => I have a cat.\n他是学生。 =>"
    with page.expect_response("**/api/logit-lens") as lens_answer:
        page.goto(f"{server_url}/?{urlencode({'mode': 'gpt', 'prompt': prompt})}")
    rendered(page)
    lens = lens_answer.value.json()
    lens_body = json.loads(lens_answer.value.request.post_data or "{}")
    assert lens_body["prompt"] == prompt and "site" not in lens_body
    assert lens == {
        **again(page, server_url, "/api/logit-lens", lens_body),
        "timing_ms": lens["timing_ms"],
    }
    wait_until(
        page, f"document.querySelectorAll('#lens-strip li').length === {len(lens['layers'])}"
    )
    for step in range(min(2, len(lens["steps"]))):
        page.fill("#step", str(step))
        wait_until(page, f"document.getElementById('step').value === '{step}'")
        tokens = page.eval_on_selector_all(
            "#lens-strip .lens-token", "s => s.map(e => e.textContent)"
        )
        expected = [
            layer["top"][0]["token"].replace("\n", "↵") for layer in lens["steps"][step]["layers"]
        ]
        assert tokens == expected
        last = page.locator("#lens-strip li").last
        assert "chosen" in (last.get_attribute("class") or "")  # greedy: the last layer's top
    opened = click_cell(page, query=3, key=0)
    masked = drawn(page, "masked")[0]
    assert masked == opened["answer"]["masked"]
    assert [m is None for m in masked] == [k > 3 for k in range(len(masked))]
    assert watched["errors"] == [] and watched["foreign"] == []
