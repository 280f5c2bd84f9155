"""What the benchmarks share: the sentences they time, and medians and percentiles of repeats."""

import statistics
import time
from collections.abc import Callable

# About 5, 15 and 40 characters, for the zh-en model (the page's usual direction).
SENTENCES = {
    "short": "我有一只猫",
    "medium": "他昨天去了北京，今天天气很好。",
    "long": "我们明天早上八点在火车站见面，然后一起坐火车去北京看望我的一位老朋友和他的家人。",
}


def times_ms(work: Callable[[], object], repeats: int, warmup: int = 2) -> list[float]:
    """Wall times of `repeats` calls, after `warmup` calls that are not counted."""
    for _ in range(warmup):
        work()
    result = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        result.append((time.perf_counter() - started) * 1000)
    return result


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(values, 50), 2), "p95_ms": round(percentile(values, 95), 2)}


def print_table(rows: list[dict], columns: list[str]) -> None:
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) + 2 for c in columns]
    print("".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("".join(str(row.get(c, "")).rjust(w) for c, w in zip(columns, widths, strict=True)))
