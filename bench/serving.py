"""Start-up time to /readyz, translation throughput at 1, 4 and 16 concurrent clients, and a
burst of --burst translations sent at the same moment.

    .venv/bin/python bench/serving.py [--starts 5] [--rounds 3] [--seconds 10]

Throughput is measured in --rounds interleaved rounds (1, 4, 16 clients, then again): rates on
these 2 shared cores move by a fifth between minutes, so each round's 16-to-1 ratio is taken
within the round, and the table gives the medians.

`attnscope serve` with the shipped models on loopback; each client sends greedy zh-en
translations of the three benchmark sentences in turn, one request at a time, for `--seconds`.
Answers are counted by status: beyond the server's running and waiting places, requests get a
503 at once (README, "Settings and limits"); those are counted apart, and the client waits the
Retry-After it was given before it tries again. The burst counts the statuses of its requests and
times the slowest. Writes bench/results/serving.json.
"""

import argparse
import asyncio
import itertools
import os
import statistics
import time

import httpx
from results_file import write_results  # bench/ is on sys.path when run as a script
from server import free_port, start_server, stop_server
from timing import SENTENCES, percentile, print_table


async def client(base_url: str, seconds: float, latencies: list[float], statuses: dict) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        deadline = time.monotonic() + seconds
        for text in itertools.cycle(SENTENCES.values()):
            if time.monotonic() >= deadline:
                return
            started = time.perf_counter()
            response = await http.post("/api/translate", json={"text": text, "model": "zh-en"})
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 200:
                latencies.append((time.perf_counter() - started) * 1000)
            elif response.status_code == 503:  # as a polite client does: wait, then retry
                await asyncio.sleep(float(response.headers.get("Retry-After", "1")))


async def throughput(base_url: str, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    await asyncio.gather(*(client(base_url, seconds, latencies, statuses) for _ in range(clients)))
    wall = time.perf_counter() - started
    return {
        "clients": clients,
        "translations_per_s": round(statuses.get(200, 0) / wall, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "answered_200": statuses.get(200, 0),
        "refused_503": statuses.get(503, 0),
    }


def medians(rows: list[dict]) -> dict:
    """One number of clients over the rounds: the median of each figure."""
    return {key: round(statistics.median(row[key] for row in rows), 1) for key in rows[0]}


async def burst(base_url: str, count: int) -> dict:
    """`count` translations on `count` connections at once: their statuses and the slowest."""
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    texts = list(SENTENCES.values())
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as http:
        await http.get("/healthz")  # one connection open before the clock starts, like the rest

        async def one(i: int) -> tuple[int, float]:
            started = time.perf_counter()
            body = {"text": texts[i % len(texts)], "model": "zh-en"}
            response = await http.post("/api/translate", json=body)
            return response.status_code, time.perf_counter() - started

        answers = await asyncio.gather(*(one(i) for i in range(count)))
    statuses: dict[int, int] = {}
    for status, _ in answers:
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "sent_at_once": count,
        "statuses": statuses,
        "slowest_s": round(max(seconds for _, seconds in answers), 2),
        "median_s": round(statistics.median(seconds for _, seconds in answers), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--burst", type=int, default=64)
    args = parser.parse_args()
    ready_s = []
    for _ in range(args.starts):
        port = free_port()
        server, seconds = start_server(port)
        stop_server(server)
        ready_s.append(seconds)
    port = free_port()
    server, _ = start_server(port)
    try:
        rounds = [
            [
                asyncio.run(throughput(f"http://127.0.0.1:{port}", clients, args.seconds))
                for clients in (1, 4, 16)
            ]
            for _ in range(args.rounds)
        ]
        at_once = asyncio.run(burst(f"http://127.0.0.1:{port}", args.burst))
    finally:
        stop_server(server)
    startup = round(statistics.median(ready_s), 2)
    print(
        f"start-up to /readyz: median {startup} s of {args.starts} "
        f"(min {min(ready_s):.2f}, max {max(ready_s):.2f}); {os.cpu_count()} cores"
    )
    rows = [medians([row[i] for row in rounds]) for i in range(len(rounds[0]))]
    print_table(rows, list(rows[0]))
    ratios = [
        round(row[-1]["translations_per_s"] / row[0]["translations_per_s"], 2) for row in rounds
    ]
    ratio = round(statistics.median(ratios), 2)
    print(f"16 clients / 1 client: {ratio}x (rounds: {ratios}); burst: {at_once}")
    write_results(
        "serving",
        {
            "startup_s_median": startup,
            "startup_s": [round(s, 2) for s in ready_s],
            "seconds": args.seconds,
            "rows": rows,
            "rounds": rounds,
            "ratio_16_to_1_client": ratio,
            "ratio_each_round": ratios,
            "burst": at_once,
        },
    )


if __name__ == "__main__":
    main()
