"""The page in a real browser: it renders, reacts, replays decoding, and stays safe."""

import json
import time
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page

from tests.browser.helpers import plotted, rendered, submit, wait_until, watch

pytestmark = pytest.mark.browser


@pytest.fixture
def watched(page: Page, server_url: str) -> dict:
    return watch(page, server_url)


def test_first_load_draws_the_seed_translation(
    page: Page, server_url: str, watched: dict, artifacts
) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(server_url)
    rendered(page)
    assert page.input_value("#text") == "我有一只猫。"
    assert page.text_content("#translation")
    head = plotted(page, "head-plot")
    assert head["z"] and head["xticks"] == list("我有一只猫。")  # cross-attention keys: the source
    assert plotted(page, "model-plot")["traces"] == 2 * 4  # layers × heads thumbnails
    assert page.locator("#candidates-plot .bar-item").count() == 5  # top_n candidates
    assert page.locator("#cross-plot .bar-item").count() == len("我有一只猫。")
    wait_until(page, "document.getElementById('pe-plot').data?.length === 1")
    # No Plotly mode bar: its buttons were invisible keyboard stops and covered titles on phones.
    assert page.locator(".modebar-btn").count() == 0
    page.screenshot(path=str(artifacts / "main-view.png"), full_page=True)
    assert watched["errors"] == [] and watched["foreign"] == []


def test_enter_translates_a_new_sentence(page: Page, server_url: str, watched: dict) -> None:
    page.goto(server_url)
    rendered(page)
    submit(page, "今天天气很好。")
    assert plotted(page, "head-plot")["xticks"] == list("今天天气很好。")
    assert parse_qs(urlparse(page.url).query)["text"] == ["今天天气很好。"]
    assert watched["errors"] == []


def test_view_layer_and_head_change_the_plotted_data(page: Page, server_url: str) -> None:
    page.goto(server_url)
    rendered(page)
    cross_mean = plotted(page, "head-plot")
    page.select_option("#head", "1")
    head_one = plotted(page, "head-plot")
    assert head_one["z"] != cross_mean["z"] and "head 1" in head_one["title"]
    page.select_option("#layer", "1")
    layer_one = plotted(page, "head-plot")
    assert layer_one["z"] != head_one["z"] and "decoder.1.cross" in layer_one["title"]
    page.select_option("#view", "encoder.self")
    encoder = plotted(page, "head-plot")
    assert encoder["yticks"] == encoder["xticks"] == list("我有一只猫。")
    page.click("button[data-view='decoder.self']")  # the architecture strip switches views too
    masked = plotted(page, "head-plot")
    assert "decoder.1.self" in masked["title"]
    assert all(
        masked["z"][q][k] is None
        for q in range(len(masked["z"]))
        for k in range(q + 1, len(masked["z"]))
    )  # the future is masked, not zero


def axis_title(words: dict, title: str, labelled: list) -> str:
    """A token axis's title: with one label in k (k > 1), the template's `thinned` says so."""
    every = labelled[1] - labelled[0] if len(labelled) > 1 else 1
    if every == 1:
        return title
    return words["thinned"].replace("{title}", title).replace("{every}", str(every))


def test_the_plots_words_are_the_page_texts(page: Page, server_url: str) -> None:
    """The figures' titles, hover lines and notes are the template's words (common.plot)."""
    page.goto(server_url)
    rendered(page)
    words = json.loads(page.text_content("#page-text"))["common"]["plot"]
    page.select_option("#view", "decoder.self")
    page.select_option("#head", "2")
    head = plotted(page, "head-plot")
    assert head["title"] == "decoder.0.self · " + words["head"].replace("{head}", "2")
    assert head["xtitle"] == axis_title(words, words["keys"], head["xvals"])
    assert head["ytitle"] == axis_title(words, words["queries"], head["yvals"])
    trace = page.evaluate("""() => { const el = document.getElementById('head-plot');
        return {colorbar: el.data[0].colorbar.title.text, hover: el.data[0].hovertemplate,
                notes: el.layout.annotations.map((a) => a.text)}; }""")
    assert trace["colorbar"] == words["weight"] and trace["notes"] == [words["masked"]]
    assert trace["hover"] == (
        f"{words['query']} %{{customdata[0]}}<br>{words['key']} %{{customdata[1]}}"
        f"<br>{words['weight']} %{{z:.4f}}<extra></extra>"
    )  # the page's words beside Plotly's own placeholders, which Plotly still fills in
    plot_area = page.locator("#head-plot .nsewdrag")
    box = plot_area.bounding_box()
    assert box
    plot_area.hover(position={"x": 5, "y": box["height"] - 5})  # the first key: never masked
    wait_until(page, "document.querySelector('#head-plot .hovertext')")
    hovered = page.text_content("#head-plot .hovertext")
    assert words["weight"] in hovered and "%{" not in hovered
    # Drawn on screen, not only handed to Plotly.
    assert page.text_content("#head-plot .xtitle") == head["xtitle"]
    notes = page.evaluate("""() => { const el = document.getElementById('model-plot');
        return el.layout.annotations.map((a) => a.text); }""")
    assert words["layer"].replace("{layer}", "1") in notes
    assert words["head"].replace("{head}", "3") in notes
    wait_until(page, "document.getElementById('pe-plot').data?.length === 1")
    pe = plotted(page, "pe-plot")
    assert (pe["xtitle"], pe["ytitle"]) == (words["dimension"], words["position"])
    assert page.text_content("#enc-n") == "× 2"


def test_model_view_click_focuses_a_head(page: Page, server_url: str) -> None:
    page.goto(server_url)
    rendered(page)
    page.evaluate("""() => { const el = document.getElementById('model-plot');
        el.emit('plotly_click', {points: [{data: el.data[6]}]}); }""")  # layer 1, head 2
    assert page.input_value("#layer") == "1" and page.input_value("#head") == "2"


def test_step_slider_and_keys_move_the_highlight(page: Page, server_url: str) -> None:
    page.goto(server_url)
    rendered(page)
    first = (page.text_content(".tok.current"), page.text_content("#candidates-plot"))
    page.click("h1")  # focus the page, not an input
    page.keyboard.press("ArrowRight")
    assert page.input_value("#step") == "1"
    second = (page.text_content(".tok.current"), page.text_content("#candidates-plot"))
    assert page.locator("#self-plot .bar-item").count() == 2  # keys 0..t at step 1
    assert page.locator(".prefix .tok").count() == 3  # <s>, the first token, the current one
    assert second[1] != first[1]
    page.keyboard.press("ArrowLeft")
    assert page.input_value("#step") == "0"
    page.fill("#step", "2")
    assert page.text_content("#step-label").startswith("step 2")
    page.click("h1")
    page.keyboard.press("Shift+ArrowLeft")  # a browser's or a reader's shortcut, not a step
    assert page.input_value("#step") == "2"


def test_play_steps_through_the_answer_and_pause_stops_it(page: Page, server_url: str) -> None:
    page.goto(server_url)
    rendered(page)
    last = int(page.get_attribute("#step", "max") or 0)
    assert last >= 2 and page.text_content("#play") == "Play"
    page.click("#play")
    assert page.get_attribute("#play", "aria-pressed") == "true"
    assert page.text_content("#play") == "Pause"
    wait_until(page, "document.getElementById('step').value === '2'", timeout_s=5)
    page.click("#play")
    assert page.get_attribute("#play", "aria-pressed") == "false"
    assert page.text_content("#play") == "Play"
    stopped = page.input_value("#step")
    time.sleep(1.0)  # longer than one tick of the player
    assert page.input_value("#step") == stopped
    assert page.text_content("#step-label") == f"step {stopped} of {last}"


@pytest.mark.parametrize("text", ["<b>x</b>", "<img src=x onerror=alert(1)>"])
def test_markup_shows_literally_and_runs_nothing(
    page: Page, server_url: str, watched: dict, text: str
) -> None:
    page.goto(server_url)
    rendered(page)
    submit(page, text)
    assert page.input_value("#text") == text
    assert watched["dialogs"] == []
    assert page.locator("#head-plot img, #model-plot img, .prefix img, .prefix b").count() == 0
    ticks = plotted(page, "head-plot")["xticks"]
    assert any("&lt;" in t for t in ticks) and not any("<" in t for t in ticks)


def test_a_copied_url_restores_the_view(page: Page, server_url: str) -> None:
    page.goto(server_url)
    rendered(page)
    submit(page, "我爱你。")
    page.select_option("#view", "decoder.self")
    page.select_option("#layer", "1")
    page.select_option("#head", "2")
    page.fill("#step", "1")
    shared = page.url
    before = plotted(page, "head-plot")
    fresh = page.context.new_page()
    fresh.goto(shared)
    wait_until(
        fresh,
        "document.body.dataset.rendered >= 2 && "
        "!document.getElementById('translate-form').classList.contains('busy')",
    )
    assert fresh.input_value("#text") == "我爱你。"
    assert (
        fresh.input_value("#view"),
        fresh.input_value("#layer"),
        fresh.input_value("#head"),
    ) == ("decoder.self", "1", "2")
    assert fresh.input_value("#step") == "1"
    assert plotted(fresh, "head-plot")["z"] == before["z"]


def test_errors_show_inline_and_the_page_stays(page: Page, server_url: str) -> None:
    page.goto(server_url)
    rendered(page)
    page.evaluate("document.getElementById('text').removeAttribute('maxlength')")
    shared = page.url
    submit(page, "猫" * 300)
    error = page.text_content("#error")
    assert "300 characters; the limit is 200" in error
    assert plotted(page, "head-plot")["z"]  # the last good view is still drawn
    # ... marked as an answer to the previous request, and the link still shares that one.
    assert "still answers the previous request" in error
    assert "stale" in (page.get_attribute("body", "class") or "")
    assert page.url == shared
    submit(page, "我爱你。")
    assert page.text_content("#error") == ""
    assert "stale" not in (page.get_attribute("body", "class") or "")
    assert parse_qs(urlparse(page.url).query)["text"] == ["我爱你。"]


def test_overload_shows_in_words_and_the_next_try_works(page: Page, server_url: str) -> None:
    page.goto(server_url)
    rendered(page)
    busy = {"detail": "the server is busy: 2 requests are running and 8 are waiting"}
    page.route(
        "**/api/translate",
        lambda route: route.fulfill(
            status=503,
            headers={"Retry-After": "1"},
            content_type="application/json",
            body=json.dumps(busy),
        ),
    )
    submit(page, "我爱你。")
    error = page.text_content("#error")
    assert "the server is busy" in error and "try again in 1 s" in error
    assert plotted(page, "head-plot")["z"]  # the last good view is still drawn
    page.unroute("**/api/translate")
    submit(page, "我爱你。")
    assert page.text_content("#error") == ""
    assert page.input_value("#text") == "我爱你。"


def test_a_503_is_retried_once_by_itself_saying_so(page: Page, server_url: str) -> None:
    page.goto(server_url)
    rendered(page)
    refusals = []

    def refuse_once(route) -> None:
        if refusals:
            route.continue_()
            return
        refusals.append(route.request.post_data)
        route.fulfill(
            status=503,
            headers={"Retry-After": "2"},
            content_type="application/json",
            body=json.dumps({"detail": "the server is busy"}),
        )

    page.route("**/api/translate", refuse_once)
    page.fill("#text", "我爱你。")
    page.click("#submit")
    page.wait_for_function(
        "() => document.getElementById('error').textContent.includes('by itself in 2 s')"
    )
    page.wait_for_function(
        "() => !document.body.classList.contains('waiting')", polling=100, timeout=10_000
    )
    assert page.text_content("#error") == ""
    assert len(refusals) == 1
    assert parse_qs(urlparse(page.url).query)["text"] == ["我爱你。"]
    assert page.text_content("#translation").strip()


def test_downloads_json_and_png(page: Page, server_url: str, tmp_path) -> None:
    page.goto(server_url)
    rendered(page)
    with page.expect_download() as json_download:
        page.click("#download-json")
    saved = tmp_path / "attnscope.json"
    json_download.value.save_as(saved)
    data = json.loads(saved.read_text())
    assert data["source_tokens"] == list("我有一只猫。") and data["attention"]
    with page.expect_download() as png_download:
        page.click("#download-png")
    png = tmp_path / "head.png"
    png_download.value.save_as(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_usable_on_a_phone(page: Page, server_url: str, watched: dict, artifacts) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server_url)
    rendered(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1  # nothing forces sideways scrolling
    submit(page, "我爱你。")
    assert page.text_content("#translation")
    page.screenshot(path=str(artifacts / "phone-view.png"), full_page=True)
    assert watched["errors"] == []


def test_api_docs_render_offline(page: Page, server_url: str, watched: dict) -> None:
    page.goto(f"{server_url}/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert {"/api/translate", "/api/models", "/healthz"} <= {p.strip() for p in paths}
    assert watched["errors"] == [] and watched["foreign"] == []


def test_the_link_shares_what_is_shown_and_invalid_settings_are_never_sent(
    page: Page, server_url: str
) -> None:
    page.goto(server_url)
    rendered(page)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/api/translate" in r.url else None)
    page.click("summary")
    assert page.is_disabled("#temperature") and page.is_disabled("#beam_size")  # greedy uses none
    page.select_option("#strategy", "sample")
    assert page.is_enabled("#temperature") and page.is_disabled("#beam_size")
    assert "strategy" not in page.url  # changed, not sent: what is shown is still greedy
    page.fill("#temperature", "0")  # below the minimum of 0.05
    page.dispatch_event("#temperature", "change")
    page.click("#examples button >> nth=1")  # an example button skips the form's own check
    assert page.evaluate("document.getElementById('temperature').validity.valid") is False
    time.sleep(0.3)
    assert sent == [] and "temperature" not in page.url
    page.fill("#temperature", "1.5")
    submit(page, "我爱你。")
    query = parse_qs(urlparse(page.url).query)
    assert query["strategy"] == ["sample"] and query["temperature"] == ["1.5"]
    assert len(sent) == 1


def test_a_link_naming_an_unknown_model_falls_back_to_auto(page: Page, server_url: str) -> None:
    page.goto(f"{server_url}/?text=%E4%BB%8A%E5%A4%A9&model=nope")
    wait_until(
        page,
        "document.body.dataset.rendered >= 1 && "
        "!document.getElementById('translate-form').classList.contains('busy')",
    )
    assert page.input_value("#model") == "auto"
    assert page.text_content("#error") == ""
    assert plotted(page, "head-plot")["xticks"] == list("今天")


def test_notes_on_the_input_show_under_the_translation(page: Page, server_url: str) -> None:
    page.goto(f"{server_url}/?text=hello&model=zh-en")
    wait_until(
        page,
        "document.body.dataset.rendered >= 1 && "
        "!document.getElementById('translate-form').classList.contains('busy')",
    )
    assert "looks like English" in page.text_content("#notes")
    submit(page, "我有一只猫。")  # Chinese into zh-en: nothing about the language
    assert "looks like" not in page.text_content("#notes")


def test_heatmap_labels_thin_out_when_the_window_narrows(page: Page, server_url: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(server_url)
    rendered(page)
    sentence = "今天天气很好。我有一只猫。你好。今天天气很好。"
    submit(page, sentence)
    wide = plotted(page, "head-plot")
    assert wide["xvals"] == list(range(len(sentence)))  # room for every source token
    before = int(page.evaluate("Number(document.body.dataset.rendered)"))
    page.set_viewport_size({"width": 390, "height": 844})
    wait_until(page, f"Number(document.body.dataset.rendered) > {before}")
    narrow = plotted(page, "head-plot")
    every = narrow["xvals"][1]
    assert every > 1 and narrow["xvals"] == list(range(0, len(sentence), every))
    assert narrow["z"] == wide["z"]  # the same weights, fewer labels
