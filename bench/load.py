"""A bounded load test against a live server on 127.0.0.1: `make load`.

    .venv/bin/python bench/load.py [--clients 32] [--seconds 60] [--min-requests 5000]

Starts `attnscope serve` with the shipped models on a free port, warms it up, then runs
`--clients` concurrent clients (httpx, one connection each) for `--seconds`, and on until
`--min-requests` have been answered. The mix is seeded: valid translations with every strategy,
the other GET routes, and a third of invalid requests (too long, empty, unknown fields, broken
JSON, non-UTF-8, an unknown model, a body over the size limit, a wrong method, a lone surrogate).

It checks what the hardening issue asks: no 5xx but the documented 503, every refusal with the
status it should get and a `detail`, no dropped connection, and server memory (VmRSS) growing by
less than 50 MB from after the warm-up to the end. It prints a table, writes
bench/results/load.json, and exits 1 when a check fails.
"""

import argparse
import asyncio
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from results_file import write_results  # bench/ is on sys.path when run as a script
from server import free_port, start_server, stop_server
from timing import percentile

ROOT = Path(__file__).resolve().parents[1]
MEMORY_LIMIT_MB = 50
SENTENCES = {
    "zh-en": ["我有一只猫。", "今天天气很好。", "他昨天去了北京。", "这本书很有意思。", "我爱你。"],
    "en-zh": ["I have a cat.", "It's a nice day today.", "Where is the station?", "Thank you."],
}


@dataclass(frozen=True)
class Request:
    kind: str  # a label for the table
    method: str
    path: str
    expected: frozenset[int]  # statuses that are right for this request
    body: bytes | None = None


def json_body(value: dict) -> bytes:
    return json.dumps(value).encode()


def valid_translation(rng: random.Random) -> Request:
    model = rng.choice(list(SENTENCES))
    body: dict = {"text": rng.choice(SENTENCES[model]), "model": model}
    strategy = rng.choices(["greedy", "beam", "sample"], weights=[6, 2, 2])[0]
    body["strategy"] = strategy
    if strategy == "beam":
        body["beam_size"] = rng.randint(2, 6)
    if strategy == "sample":
        body.update(temperature=rng.uniform(0.5, 1.5), top_p=rng.uniform(0.5, 1.0), seed=7)
    return Request(
        f"translate {strategy}", "POST", "/api/translate", frozenset({200, 503}), json_body(body)
    )


INVALID = [
    Request(
        "text too long",
        "POST",
        "/api/translate",
        frozenset({422}),
        json_body({"text": "a" * 10_000}),
    ),
    Request("text empty", "POST", "/api/translate", frozenset({422}), json_body({"text": "  "})),
    Request(
        "unknown field",
        "POST",
        "/api/translate",
        frozenset({422}),
        json_body({"text": "猫", "colour": "red"}),
    ),
    Request("broken JSON", "POST", "/api/translate", frozenset({422}), b'{"text": "cat"'),
    Request("not UTF-8", "POST", "/api/translate", frozenset({400}), b"\xff\xfe\x00"),
    Request(
        "unknown model",
        "POST",
        "/api/translate",
        frozenset({404}),
        json_body({"text": "猫", "model": "fr-de"}),
    ),
    Request(
        "body over limit",
        "POST",
        "/api/translate",
        frozenset({413}),
        json_body({"text": "猫" * 6000}),
    ),
    Request("wrong method", "GET", "/api/translate", frozenset({405})),
    Request("lone surrogate", "POST", "/api/translate", frozenset({422}), b'{"text": "\\ud800"}'),
    Request(
        "temperature 0",
        "POST",
        "/api/translate",
        frozenset({422}),
        json_body({"text": "猫", "strategy": "sample", "temperature": 0}),
    ),
]
OTHER = [
    Request("GET /api/models", "GET", "/api/models", frozenset({200})),
    Request("GET /healthz", "GET", "/healthz", frozenset({200})),
    Request("GET /", "GET", "/", frozenset({200})),
    Request(
        "GET positional-encoding", "GET", "/api/positional-encoding?length=40", frozenset({200})
    ),
]


def next_request(rng: random.Random) -> Request:
    roll = rng.random()
    if roll < 0.45:
        return valid_translation(rng)
    if roll < 0.65:
        return rng.choice(OTHER)
    return rng.choice(INVALID)


@dataclass
class Tally:
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    wrong: list[str] = field(default_factory=list)  # a status not expected, or no `detail`
    dropped: list[str] = field(default_factory=list)  # connection errors and timeouts

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())


async def client_loop(
    client: httpx.AsyncClient, rng: random.Random, tally: Tally, stop: "Stop"
) -> None:
    while not stop.done(tally):
        request = next_request(rng)
        headers = {"Content-Type": "application/json"} if request.body is not None else {}
        started = time.perf_counter()
        try:
            response = await client.request(
                request.method, request.path, content=request.body, headers=headers
            )
        except httpx.HTTPError as err:
            tally.dropped.append(f"{request.kind}: {type(err).__name__}: {err}")
            continue
        elapsed = (time.perf_counter() - started) * 1000
        kind = "503 busy" if response.status_code == 503 else request.kind
        tally.latencies_ms.setdefault(kind, []).append(elapsed)
        tally.statuses[response.status_code] = tally.statuses.get(response.status_code, 0) + 1
        if response.status_code not in request.expected:
            tally.wrong.append(f"{request.kind}: {response.status_code} {response.text[:120]}")
        elif response.status_code >= 400 and not response.json().get("detail"):
            tally.wrong.append(f"{request.kind}: {response.status_code} without a detail")


@dataclass
class Stop:
    deadline: float
    min_requests: int

    def done(self, tally: Tally) -> bool:
        return time.monotonic() >= self.deadline and tally.answered >= self.min_requests


async def run_load(base_url: str, clients: int, seconds: float, min_requests: int, seed: int):
    tally = Tally()
    stop = Stop(time.monotonic() + seconds, min_requests)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    timeout = httpx.Timeout(60.0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as client:
        started = time.perf_counter()
        await asyncio.gather(
            *(client_loop(client, random.Random(seed + i), tally, stop) for i in range(clients))
        )
        wall = time.perf_counter() - started
    return tally, wall


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def group_of(kind: str) -> str:
    if kind.startswith("translate"):
        return "translations answered (200)"
    if kind == "503 busy":
        return "translations refused (503)"
    if kind.startswith("GET"):
        return "other GETs (200)"
    return "invalid requests (4xx)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--min-requests", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    port = free_port()
    server, _ = start_server(port)
    base_url = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(run_load(base_url, args.clients, 0, 300, args.seed + 1000))  # warm-up
        rss_before = rss_mb(server.pid)
        tally, wall = asyncio.run(
            run_load(base_url, args.clients, args.seconds, args.min_requests, args.seed)
        )
        rss_after = rss_mb(server.pid)
        still_ready = httpx.get(f"{base_url}/readyz", timeout=5).status_code == 200
    finally:
        stop_server(server)

    rows = []
    for kind, values in sorted(tally.latencies_ms.items()):
        rows.append(
            {
                "kind": kind,
                "count": len(values),
                "p50_ms": round(percentile(values, 50), 1),
                "p99_ms": round(percentile(values, 99), 1),
            }
        )
    groups: dict[str, list[float]] = {}
    for kind, values in tally.latencies_ms.items():
        groups.setdefault(group_of(kind), []).extend(values)
    every = [v for values in tally.latencies_ms.values() for v in values]
    groups["all"] = every
    group_rows = [
        {
            "group": name,
            "count": len(values),
            "p50_ms": round(percentile(values, 50), 1),
            "p99_ms": round(percentile(values, 99), 1),
        }
        for name, values in sorted(groups.items())
    ]
    server_errors = {s: n for s, n in tally.statuses.items() if s >= 500 and s != 503}
    checks = {
        "no 5xx but 503": not server_errors,
        "every status as expected, with a detail": not tally.wrong,
        "no dropped connection": not tally.dropped,
        f"memory growth < {MEMORY_LIMIT_MB} MB": rss_after - rss_before < MEMORY_LIMIT_MB,
        "ready afterwards": still_ready,
    }
    print(
        f"{args.clients} clients, {wall:.1f} s, {tally.answered} answers "
        f"({tally.answered / wall:.0f}/s), statuses {dict(sorted(tally.statuses.items()))}"
    )
    print(f"{'request':<26}{'count':>7}{'p50 ms':>9}{'p99 ms':>9}")
    for row in rows:
        print(f"{row['kind']:<26}{row['count']:>7}{row['p50_ms']:>9}{row['p99_ms']:>9}")
    print()
    for row in group_rows:
        print(f"{row['group']:<30}{row['count']:>7}{row['p50_ms']:>9}{row['p99_ms']:>9}")
    print(
        f"server RSS {rss_before:.0f} MB after warm-up, {rss_after:.0f} MB at the end "
        f"({rss_after - rss_before:+.1f} MB)"
    )
    for name, passed in checks.items():
        print(f"{'PASS' if passed else 'FAIL'}  {name}")
    for line in (tally.wrong + tally.dropped)[:10]:
        print("  ", line)
    write_results(
        "load",
        {
            "clients": args.clients,
            "seconds": round(wall, 1),
            "answers": tally.answered,
            "per_second": round(tally.answered / wall, 1),
            "statuses": dict(sorted(tally.statuses.items())),
            "groups": group_rows,
            "rows": rows,
            "rss_mb_before": round(rss_before, 1),
            "rss_mb_after": round(rss_after, 1),
            "dropped": len(tally.dropped),
            "wrong": tally.wrong[:20],
            "checks": checks,
            "cores": os.cpu_count(),
        },
    )
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
