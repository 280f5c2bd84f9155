"""Latency of a translation with its full attention trace, and the size of what it sends.

    .venv/bin/python bench/latency.py [--repeats 30]

For sentences of about 5, 15 and 40 characters (zh-en, greedy), in one process and one run:
- bare: the model's own greedy decode (KV cache, no records, no trace, no JSON);
- in-process: what the API does for a request, from the request model to JSON bytes;
- HTTP: POST /api/translate on loopback to `attnscope serve`, gzip as a browser asks for it;
- payload: JSON bytes raw and gzipped (at the server's level), against 2 bytes (float16) per
  attention weight.
Prints tables and writes bench/results/latency.json.
"""

import argparse
import gzip

import httpx
import torch
from results_file import write_results  # bench/ is on sys.path when run as a script
from server import free_port, start_server, stop_server
from timing import SENTENCES, print_table, summary, times_ms

from app.compression import LEVEL
from app.inference import Inference
from app.registry import Registry
from app.schemas import TranslateRequest
from app.settings import Settings
from model.batched import greedy_batch


def in_process(service: Inference, repeats: int) -> list[dict]:
    checkpoint = service.registry.get("zh-en")
    rows = []
    for name, text in SENTENCES.items():
        request = TranslateRequest(text=text, model="zh-en")
        src_ids = checkpoint.src_tokenizer.encode(text)
        response = service.translate(request)
        bare = times_ms(lambda: greedy_batch(checkpoint.model, [src_ids]), repeats)  # noqa: B023
        full = times_ms(
            lambda: service.translate(request).model_dump_json(),  # noqa: B023
            repeats,
        )
        raw = response.model_dump_json().encode()
        weights = sum(
            len(a.weights) * len(a.query_tokens) * len(a.key_tokens) for a in response.attention
        )
        rows.append(
            {
                "sentence": name,
                "chars": len(text),
                "tokens_out": len(response.target_tokens),
                "bare": summary(bare),
                "in_process": summary(full),
                "overhead_p50": round(summary(full)["p50_ms"] / summary(bare)["p50_ms"], 2),
                "raw_bytes": len(raw),
                "gzip_bytes": len(gzip.compress(raw, LEVEL)),  # as the server sends it
                "float16_bytes": 2 * weights,
            }
        )
    return rows


def over_http(repeats: int) -> dict[str, dict]:
    port = free_port()
    server, _ = start_server(port)
    results = {}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for name, text in SENTENCES.items():
                body = {"text": text, "model": "zh-en"}

                def post() -> httpx.Response:
                    response = client.post("/api/translate", json=body)  # noqa: B023
                    response.raise_for_status()
                    return response

                wire = post().num_bytes_downloaded  # gzip, as httpx asks for it
                results[name] = {**summary(times_ms(post, repeats)), "wire_bytes": wire}
    finally:
        stop_server(server)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    settings = Settings(models=["zh-en"], torch_threads=1)
    registry = Registry(settings)
    registry.load()
    service = Inference(registry, settings)
    rows = in_process(service, args.repeats)
    http = over_http(args.repeats)
    table = []
    for row in rows:
        h = http[row["sentence"]]
        row["http"] = h
        row["payload_ratio"] = round(row["gzip_bytes"] / row["float16_bytes"], 2)
        table.append(
            {
                "sentence": f"{row['sentence']} ({row['chars']} chars)",
                "tokens": row["tokens_out"],
                "bare p50": row["bare"]["p50_ms"],
                "in-process p50": row["in_process"]["p50_ms"],
                "p95": row["in_process"]["p95_ms"],
                "HTTP p50": h["p50_ms"],
                "HTTP p95": h["p95_ms"],
                "overhead": row["overhead_p50"],
                "raw B": row["raw_bytes"],
                "gzip B": row["gzip_bytes"],
                "fp16 B": row["float16_bytes"],
                "gzip/fp16": row["payload_ratio"],
            }
        )
    print(f"latency in ms, {args.repeats} repeats, torch threads 1 ({torch.__version__})")
    print_table(table, list(table[0]))
    write_results("latency", {"repeats": args.repeats, "threads": 1, "rows": rows})


if __name__ == "__main__":
    main()
