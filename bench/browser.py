"""Time in Chromium from submit to every heatmap drawn, and per step change.

    .venv/bin/python bench/browser.py [--repeats 7]

Drives Debian's Chromium (Playwright) against `attnscope serve` on loopback. The page records
performance measures itself (static/js/main.js): `attnscope:translate` from the submit to the
first frame after everything is drawn, `attnscope:step` from a step change to its next frame.
For the seed sentence and a 60-character one: `--repeats` submits, then a walk through every
step and back with the arrow keys. Writes bench/results/browser.json.
"""

import argparse
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright
from results_file import write_results  # bench/ is on sys.path when run as a script
from server import free_port, start_server, stop_server
from timing import print_table, summary

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

SENTENCES = {
    "seed (6 chars)": "我有一只猫。",
    "60 chars": "我们明天早上八点在火车站见面，然后一起坐火车去北京看望我的一位老朋友和他的家人，"
    "晚上再一起吃饭聊天，后天回来。我很期待。",
}


def measures(page, name: str) -> list[float]:
    return page.evaluate(
        "(name) => performance.getEntriesByName(name).map((e) => e.duration)", name
    )


def wait_for_count(page, name: str, count: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while len(measures(page, name)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name}: fewer than {count} measures")
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    port = free_port()
    server, _ = start_server(port)
    rows = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/")
            for label, text in SENTENCES.items():
                page.evaluate("() => performance.clearMeasures()")
                for i in range(args.repeats):
                    page.fill("#text", text)
                    page.press("#text", "Enter")
                    wait_for_count(page, "attnscope:translate", i + 1)
                steps = int(page.get_attribute("#step", "max") or 0)
                page.focus("#step")
                for key in ["ArrowRight"] * steps + ["ArrowLeft"] * steps:
                    before = len(measures(page, "attnscope:step"))
                    page.keyboard.press(key)
                    wait_for_count(page, "attnscope:step", before + 1)
                translate = summary(measures(page, "attnscope:translate"))
                step = summary(measures(page, "attnscope:step"))
                rows.append(
                    {
                        "sentence": label,
                        "steps": steps + 1,
                        "submit to drawn p50 ms": translate["p50_ms"],
                        "p95": translate["p95_ms"],
                        "step change p50 ms": step["p50_ms"],
                        "step p95": step["p95_ms"],
                    }
                )
            browser.close()
    finally:
        stop_server(server)
    print(f"Chromium, {args.repeats} submits per sentence, every step forward and back")
    print_table(rows, list(rows[0]))
    write_results("browser", {"repeats": args.repeats, "rows": rows})


if __name__ == "__main__":
    main()
