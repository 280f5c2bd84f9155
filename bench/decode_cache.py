"""Does the key/value cache pay? Greedy decoding of N tokens with and without it.

    .venv/bin/python bench/decode_cache.py [--checkpoint model/checkpoints/zh-en]

Both loops run the same model on the same source for exactly N steps (</s> is not allowed to
stop them), so they do the same work but for the cache. Prints a table of medians and writes JSON
to bench/results/decode_cache.json.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from results_file import write_results  # noqa: E402  (bench/ is on sys.path when run as a script)

from model.cache import KVCache  # noqa: E402
from model.checkpoint import load_checkpoint, shipped_checkpoint  # noqa: E402


@torch.inference_mode()
def run(model, src: torch.Tensor, steps: int, cached: bool) -> float:
    start = time.perf_counter()
    memory, mask = model.encode(src)
    tokens = torch.tensor([[model.config.bos_id]])
    cache = KVCache() if cached else None
    for _ in range(steps):
        fed = tokens[:, -1:] if cached else tokens
        logits = model.decode(fed, memory, mask, cache=cache)[:, -1]
        tokens = torch.cat([tokens, logits.argmax(-1, keepdim=True)], dim=1)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", type=Path, default=shipped_checkpoint("zh-en"))
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    checkpoint = load_checkpoint(args.checkpoint)
    src = torch.tensor([checkpoint.src_tokenizer.encode("他昨天去了北京，今天天气很好。")])
    rows = []
    for steps in (8, 32, 64, 128):
        times = {}
        for cached in (False, True):
            run(checkpoint.model, src, steps, cached)  # warm-up
            times[cached] = statistics.median(
                run(checkpoint.model, src, steps, cached) for _ in range(args.repeats)
            )
        rows.append(
            {
                "tokens": steps,
                "no_cache_ms": round(times[False] * 1000, 2),
                "cache_ms": round(times[True] * 1000, 2),
                "cache_ms_per_token": round(times[True] * 1000 / steps, 3),
                "speedup": round(times[False] / times[True], 2),
            }
        )
    print(f"{'tokens':>6} {'no cache ms':>12} {'cache ms':>9} {'ms/token':>9} {'speed-up':>9}")
    for r in rows:
        print(
            f"{r['tokens']:>6} {r['no_cache_ms']:>12} {r['cache_ms']:>9} "
            f"{r['cache_ms_per_token']:>9} {r['speedup']:>8}x"
        )
    write_results(
        "decode_cache",
        {"threads": args.threads, "checkpoint": args.checkpoint.name, "rows": rows},
    )


if __name__ == "__main__":
    main()
