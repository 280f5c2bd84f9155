"""How close is a decoding step to the limit of this machine, and how close could it get?

    .venv/bin/python bench/floor.py [--rounds 5] [--repeats 7]

Per generated token, zh-en, greedy, one thread. Every column is measured in the same process, in
interleaved rounds (each round times every column once per sentence), because on this shared
machine the memory bandwidth, and with it every time here, moves by a third within minutes;
a ratio is taken within each round and the table shows medians over rounds.

- floor: a cached step's matrix-vector products alone (every decoder weight and the output
  layer; the cross-attention keys and values are once per sentence), back to back;
- lean: the same decode as plain tensor functions (bench/lean_step.py): no modules, q, k and v
  in one product, a preallocated cache, each step's attention kept. Checked against the model's
  tokens and attention first. It bounds what restructuring our modules could gain;
- bare: `model.decode` one token at a time with the key/value cache, no trace, argmax;
- ours: `decode()` as the API runs it (greedy, every attention map and candidate recorded);
- peer: the transformers MarianMT of bench/peer.py, when the bench extra is installed.

Writes bench/results/floor.json.
"""

import argparse
import statistics
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lean_step import check_against_model, lean_greedy, lean_layers  # noqa: E402
from results_file import write_results  # noqa: E402  (bench/ is on sys.path)
from timing import SENTENCES, print_table, times_ms  # noqa: E402

from model.cache import KVCache  # noqa: E402
from model.checkpoint import load_checkpoint, shipped_checkpoint  # noqa: E402
from model.decoding import DecodingOptions, decode  # noqa: E402

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
def floor_steps(linears: list[nn.Linear], inputs: dict[int, torch.Tensor], steps: int) -> None:
    for _ in range(steps):
        for layer in linears:
            F.linear(inputs[layer.in_features], layer.weight, layer.bias)


@torch.inference_mode()
def bare_steps(model, src: torch.Tensor, steps: int) -> None:
    memory, mask = model.encode(src)
    cache = KVCache()
    token = torch.tensor([[model.config.bos_id]])
    for _ in range(steps):
        token = model.decode(token, memory, mask, cache=cache)[:, -1].argmax(-1, keepdim=True)


def peer_generate(config, src_len: int, tokens: int) -> Callable[[], object] | None:
    """bench/peer.py's call for a source of this length, or None without the bench extra."""
    try:
        from peer import build_peer, generate_call
    except ImportError:
        return None
    source = torch.randint(4, config.src_vocab_size, (1, src_len))
    return generate_call(build_peer(config), source, tokens)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", type=Path, default=shipped_checkpoint("zh-en"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=7, help="calls per column and round")
    args = parser.parse_args()
    torch.set_num_threads(1)
    checkpoint = load_checkpoint(args.checkpoint)
    model = checkpoint.model
    linears = step_linears(model)
    inputs = {n: torch.randn(1, n) for n in {layer.in_features for layer in linears}}
    layers = lean_layers(model)
    weight_mb = sum(layer.weight.numel() for layer in linears) * 4 / 1e6
    work: dict[str, dict[str, Callable[[], object]]] = {}
    tokens: dict[str, int] = {}
    for label, text in SENTENCES.items():
        src_ids = checkpoint.src_tokenizer.encode(text)
        n = tokens[label] = check_against_model(model, layers, src_ids)
        work[label] = {
            "floor": partial(floor_steps, linears, inputs, n),
            "lean": partial(lean_greedy, model, layers, src_ids, n),
            "bare": partial(bare_steps, model, torch.tensor([src_ids]), n),
            "ours": partial(decode, model, src_ids, [model.config.bos_id], DecodingOptions()),
        }
        generate = peer_generate(model.config, len(src_ids), n)
        if generate is not None:
            work[label]["peer"] = generate
    per_token: dict[str, dict[str, list[float]]] = {
        label: {column: [] for column in columns} for label, columns in work.items()
    }
    for _ in range(args.rounds):
        for label, columns in work.items():
            for column, call in columns.items():
                median = statistics.median(times_ms(call, args.repeats))
                per_token[label][column].append(median / tokens[label])
    rows = []
    for label, columns in per_token.items():
        row: dict[str, object] = {"sentence": label, "tokens": tokens[label]}
        for column, values in columns.items():
            row[f"{column} ms"] = round(statistics.median(values), 3)
        for column in ("lean", "bare", "ours"):
            if "peer" in columns:
                ratios = [a / b for a, b in zip(columns[column], columns["peer"], strict=True)]
                row[f"{column}/peer"] = round(statistics.median(ratios), 2)
        rows.append(row)
    print(
        f"ms per generated token, 1 thread, medians of {args.rounds} interleaved rounds; "
        f"{len(linears)} matrix-vector products per step, {weight_mb:.1f} MB of float32 weights"
    )
    print_table(rows, list(rows[0]))
    data = {
        "rounds": args.rounds,
        "repeats": args.repeats,
        "linears_per_step": len(linears),
        "weights_mb": round(weight_mb, 2),
        "rows": rows,
        "per_round_ms_per_token": per_token,
    }
    print("wrote", write_results("floor", data))


if __name__ == "__main__":
    main()
