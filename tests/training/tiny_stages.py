"""A tiny corpus and a tiny base GPT for the stage tests, built inside the test (no ../shared).

Statements and questions made of Chinese digits ('三一。' -> 'three one.', '三一吗？' ->
'three one?'), and a random-weight GPT whose mixed vocabulary spells the corpus, every
instruction phrasing and the chat template's markers, as the real base GPT's does.
"""

import itertools
import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from model import GPT, ChatTemplate, TransformerConfig, save_checkpoint, train_mixed_tokenizer
from training.data import read_pairs
from training.instructions import Request
from training.phrasings import all_phrasings

DIGITS = {"一": "one", "二": "two", "三": "three", "四": "four"}


def chat_pairs() -> list[tuple[str, str]]:
    pairs = []
    for length in (1, 2):
        for combo in itertools.product(DIGITS, repeat=length):
            words = " ".join(DIGITS[c] for c in combo)
            pairs.append(("".join(combo) + "。", words.capitalize() + "."))
            pairs.append(("".join(combo) + "吗？", words.capitalize() + "?"))
    return pairs


def write_chat_corpus(directory: Path) -> tuple[Path, Path]:
    """32 training pairs and 8 dev pairs that are not among them (half of each questions), with
    attribution lines: a recipe that evaluated on training sentences would be seen to."""
    pairs = chat_pairs()
    dev = pairs[::5]
    train = [pair for pair in pairs if pair not in dev]
    train_file, dev_file = directory / "train.tsv", directory / "dev.tsv"
    train_file.write_text("".join(f"{zh}\t{en}\n" for zh, en in train), encoding="utf-8")
    (directory / "train.attribution.txt").write_text(
        "".join(f"attribution of line {n}\n" for n in range(1, len(train) + 1))
    )
    dev_file.write_text("".join(f"{zh}\t{en}\n" for zh, en in dev), encoding="utf-8")
    return train_file, dev_file


def save_tiny_base(directory: Path, max_len: int = 128) -> GPT:
    """A random-weight base GPT (no stage, no template: as the GPT checkpoints before stages)."""
    train, held_out = all_phrasings()
    texts = [zh for zh, _ in chat_pairs()] + [en for _, en in chat_pairs()]
    texts += [p.template for p in train + held_out] + ChatTemplate().markers()
    tok = train_mixed_tokenizer(texts * 2, vocab_size=400)
    torch.manual_seed(0)
    config = TransformerConfig(
        architecture="decoder-only",
        src_vocab_size=0,
        tgt_vocab_size=tok.vocab_size,
        d_model=32,
        n_heads=2,
        n_encoder_layers=0,
        n_decoder_layers=2,
        d_ff=64,
        dropout=0.0,
        max_len=max_len,
    )
    model = GPT(config).eval()
    meta = {"direction": "prompt", "source_language": None, "target_language": "en"}
    save_checkpoint(directory, model, None, tok, meta)
    return model


def run_flags(train_file: Path, dev_file: Path, out: Path, init_from: Path) -> list[str]:
    return [
        *("--train", str(train_file), "--dev", str(dev_file), "--out", str(out)),
        *("--init-from", str(init_from), "--threads", "1", "--warmup", "5"),
    ]


def assert_held_out(requests: list[Request], dev_file: Path) -> None:
    """Every request is about a dev sentence and worded by a held-out phrasing."""
    sentences = {side for pair in read_pairs(dev_file, "zh-en") for side in pair}
    _, held_out = all_phrasings()
    assert requests
    for r in requests:
        assert r.sentence in sentences and r.other in sentences
        worded = {p.request(r.sentence) for p in held_out if p.task == r.task}
        assert (r.instruction, r.input) in worded


def logged_epochs(out: Path) -> list[int]:
    """The epochs a run directory's train.log records, in order, over every invocation."""
    lines = (out / "train.log").read_text(encoding="utf-8").splitlines()
    records = [line.split(" epoch ", 1)[1] for line in lines if " epoch {" in line]
    return [json.loads(record)["epoch"] for record in records]


def same_weights(first: Path, second: Path) -> bool:
    """Whether two run directories ended with the same weights (their resume state)."""
    a = load_file(str(first / "last" / "model.safetensors"))
    b = load_file(str(second / "last" / "model.safetensors"))
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
