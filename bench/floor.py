"""How close is a decoding step to the limit of this machine?

    .venv/bin/python bench/floor.py [--checkpoint model/checkpoints/zh-en]

One cached decoder step must multiply the newest token's vector by every decoder weight matrix
and by the output layer (the cross-attention keys and values are computed once per sentence).
Those matrix-vector products alone, called back to back from Python with nothing else, are the
floor. The table puts three costs per generated token beside it, one thread each:

- floor: the step's matrix-vector products only (the weights stay in cache between repeats);
- bare step: `model.decode` on one token with the key/value cache, no trace, argmax;
- ours: `decode()` as the API runs it (greedy, every attention map and candidate recorded),
  per generated token, the encoder included.

The peer's per-token time, when bench/results/peer.json exists, is shown with a third of it: the
issue's target. Writes bench/results/floor.json.
"""

import argparse
import json
import statistics
import sys
from functools import partial
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from results_file import RESULTS, write_results  # noqa: E402  (bench/ is on sys.path)
from timing import SENTENCES, print_table, times_ms  # noqa: E402

from model.checkpoint import load_checkpoint, shipped_checkpoint  # noqa: E402
from model.decoding import DecodingOptions, decode  # noqa: E402
from model.trace import KVCache  # noqa: E402

ONCE_PER_SENTENCE = (".cross_attn.k_proj", ".cross_attn.v_proj")


def step_linears(model: nn.Module) -> list[nn.Linear]:
    """The decoder's Linear layers that run at every step, in order, the output layer last."""
    return [
        module
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear)
        and name.startswith("decoder")
        and not name.endswith(ONCE_PER_SENTENCE)
    ]


@torch.inference_mode()
def floor_step(linears: list[nn.Linear], inputs: dict[int, torch.Tensor]) -> None:
    for layer in linears:
        F.linear(inputs[layer.in_features], layer.weight, layer.bias)


@torch.inference_mode()
def bare_steps(model, src: torch.Tensor, steps: int) -> None:
    memory, mask = model.encode(src)
    cache = KVCache()
    token = torch.tensor([[model.config.bos_id]])
    for _ in range(steps):
        token = model.decode(token, memory, mask, cache=cache)[:, -1].argmax(-1, keepdim=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", type=Path, default=shipped_checkpoint("zh-en"))
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    checkpoint = load_checkpoint(args.checkpoint)
    model = checkpoint.model
    linears = step_linears(model)
    inputs = {n: torch.randn(1, n) for n in {layer.in_features for layer in linears}}
    weight_mb = sum(layer.weight.numel() for layer in linears) * 4 / 1e6
    floor_ms = statistics.median(times_ms(lambda: floor_step(linears, inputs), 500, warmup=50))
    peer = {}
    if (RESULTS / "peer.json").exists():
        peer_rows = json.loads((RESULTS / "peer.json").read_text())["rows"]
        peer = {row["sentence"].split()[0]: row["peer_per_token_ms"] for row in peer_rows}
    rows = []
    for label, text in SENTENCES.items():
        src_ids = checkpoint.src_tokenizer.encode(text)
        decoded = decode(model, src_ids, [model.config.bos_id], DecodingOptions())
        tokens = len(decoded.output_ids)
        start = [model.config.bos_id]
        ours = statistics.median(
            times_ms(partial(decode, model, src_ids, start, DecodingOptions()), args.repeats)
        )
        src = torch.tensor([src_ids])
        bare = statistics.median(times_ms(partial(bare_steps, model, src, tokens), args.repeats))
        row = {
            "sentence": label,
            "tokens": tokens,
            "floor_ms/token": round(floor_ms, 3),
            "bare_ms/token": round(bare / tokens, 3),
            "ours_ms/token": round(ours / tokens, 3),
            "ours/floor": round(ours / tokens / floor_ms, 2),
        }
        if label in peer:
            row["peer_ms/token"] = peer[label]
            row["peer/3"] = round(peer[label] / 3, 3)
        rows.append(row)
    print(f"{len(linears)} matrix-vector products per step, {weight_mb:.1f} MB of float32 weights")
    print_table(rows, list(rows[0]))
    data = {"linears_per_step": len(linears), "weights_mb": round(weight_mb, 2), "rows": rows}
    print("wrote", write_results("floor", data))


if __name__ == "__main__":
    main()
