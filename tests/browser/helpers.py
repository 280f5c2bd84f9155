"""What the browser tests share: polling under the page's CSP, and a watch on the page."""

import time
from urllib.parse import urlparse

from playwright.sync_api import Page


def wait_until(page: Page, condition: str, timeout_s: float = 15) -> None:
    """Poll a JS condition through page.evaluate (wait_for_function uses eval, which the page's
    Content-Security-Policy rightly forbids)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(f"() => Boolean({condition})"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout_s} s: {condition}")
        time.sleep(0.05)


def rendered(page: Page, at_least: int = 1) -> None:
    wait_until(page, f"Number(document.body.dataset.rendered || 0) >= {at_least}")


def render_count(page: Page) -> int:
    return int(page.evaluate("Number(document.body.dataset.rendered || 0)"))


def plotted(page: Page, plot_id: str) -> dict:
    """The data, titles and axis labels Plotly is drawing in a plot."""
    return page.evaluate(
        """(id) => { const el = document.getElementById(id);
        return {z: el.data[0]?.z ?? null, y: el.data[0]?.y ?? null, title: el.layout.title?.text,
                xtitle: el.layout.xaxis?.title?.text, ytitle: el.layout.yaxis?.title?.text,
                xticks: el.layout.xaxis?.ticktext ?? [], yticks: el.layout.yaxis?.ticktext ?? [],
                xvals: el.layout.xaxis?.tickvals ?? [], yvals: el.layout.yaxis?.tickvals ?? [],
                traces: el.data.length}; }""",
        plot_id,
    )


def submit(page: Page, text: str) -> None:
    before = render_count(page)
    page.fill("#text", text)
    page.press("#text", "Enter")
    wait_until(
        page,
        f"Number(document.body.dataset.rendered) > {before} && "
        "!document.getElementById('translate-form').classList.contains('busy') && "
        "document.getElementById('lens-strip').dataset.state !== 'loading'",
    )


def watch(page: Page, server_url: str) -> dict:
    """Console errors, failed requests and requests to any other origin, collected as they come."""
    seen: dict = {"errors": [], "foreign": [], "dialogs": []}
    origin = urlparse(server_url).netloc
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on(
        "request",
        lambda r: (
            seen["foreign"].append(r.url)
            if urlparse(r.url).netloc not in (origin, "")
            and not r.url.startswith(("data:", "blob:"))
            else None
        ),
    )
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    return seen
