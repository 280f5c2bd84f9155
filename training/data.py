"""Training data: the TSV corpus read as pairs, GPT training sequences, batches by length.

A GPT learns translation as text (model's prompt format), zero-shot or after demonstrations.
Sequences that repeat a random span of tokens are mixed in: predicting the second copy is only
possible by looking back at the first, which is what makes induction heads form.
"""

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

from model import FIRST_ORDINARY_ID, Pair, Tokenizer, encode_prompt

Direction = Literal["zh-en", "en-zh"]
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def read_pairs(path: Path, direction: Direction) -> list[tuple[str, str]]:
    """(source, target) pairs from a `zh<TAB>en` file, turned round for en-zh."""
    pairs = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split("\t")
        if len(fields) != 2:
            raise ValueError(f"{path}:{number}: expected 'zh<TAB>en', got {line[:60]!r}")
        zh, en = fields
        pairs.append((zh, en) if direction == "zh-en" else (en, zh))
    return pairs


@dataclass
class Example:
    src: list[int]
    tgt: list[int]  # <s> ... </s>


def encode_pairs(
    pairs: list[tuple[str, str]], src_tok: Tokenizer, tgt_tok: Tokenizer, max_len: int
) -> list[Example]:
    examples = []
    for src, tgt in pairs:
        src_ids = src_tok.encode(src)
        tgt_ids = [tgt_tok.bos_id, *tgt_tok.encode(tgt), tgt_tok.eos_id]
        if 0 < len(src_ids) <= max_len and len(tgt_ids) <= max_len + 1:
            examples.append(Example(src_ids, tgt_ids))
    return examples


def make_batches(
    examples: list[Example], max_tokens: int, seed: int, pad_id: int = 0
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Padded (src, tgt) batches of similar lengths, in a seeded random order.

    Sorting by length before cutting batches keeps padding (wasted compute) small; a random
    tie-break and a shuffled batch order keep each epoch different.
    """
    generator = torch.Generator().manual_seed(seed)
    jitter = torch.rand(len(examples), generator=generator).tolist()
    order = sorted(
        range(len(examples)), key=lambda i: (len(examples[i].src), len(examples[i].tgt), jitter[i])
    )
    batches, current, longest = [], [], 0
    for i in order:
        longest_if_added = max(longest, len(examples[i].src), len(examples[i].tgt))
        if current and longest_if_added * (len(current) + 1) > max_tokens:
            batches.append(current)
            current, longest_if_added = [], max(len(examples[i].src), len(examples[i].tgt))
        current.append(examples[i])
        longest = longest_if_added
    if current:
        batches.append(current)
    shuffled = torch.randperm(len(batches), generator=generator).tolist()
    return [_pad(batches[i], pad_id) for i in shuffled]


def _pad(batch: list[Example], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    src = torch.full((len(batch), max(len(e.src) for e in batch)), pad_id)
    tgt = torch.full((len(batch), max(len(e.tgt) for e in batch)), pad_id)
    for row, example in enumerate(batch):
        src[row, : len(example.src)] = torch.tensor(example.src)
        tgt[row, : len(example.tgt)] = torch.tensor(example.tgt)
    return src, tgt


def training_sequence(
    tok: Tokenizer, pair: Pair, pool: list[Pair], rng: random.Random, few_shot_share: float
) -> list[int]:
    """<s> prompt answer </s>: zero-shot, or with 1-3 demonstrations drawn from `pool`."""
    shots = rng.randint(1, 3) if rng.random() < few_shot_share else 0
    demonstrations = rng.sample(pool, shots)
    prompt = encode_prompt(tok, demonstrations, pair[0])
    return [tok.bos_id, *prompt.ids, *tok.encode(pair[1]), tok.eos_id]


def repeated_span_sequence(tok: Tokenizer, rng: random.Random, length: int) -> list[int]:
    """<s> span span </s> for a span of `length` random ordinary tokens."""
    span = [rng.randrange(FIRST_ORDINARY_ID, tok.vocab_size) for _ in range(length)]
    return [tok.bos_id, *span, *span, tok.eos_id]
