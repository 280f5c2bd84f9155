"""Tiny seeded models shared by the tests: built in milliseconds, no files, no ../shared."""

import socket
from pathlib import Path

import pytest
import torch

from model.checkpoint import save_checkpoint
from model.config import TransformerConfig
from model.tokenizer import train_char_tokenizer, train_mixed_tokenizer, train_subword_tokenizer
from model.transformer import GPT, Transformer


def tiny_config(**overrides) -> TransformerConfig:
    values = {
        "src_vocab_size": 23,
        "tgt_vocab_size": 19,
        "d_model": 16,
        "n_heads": 4,
        "n_encoder_layers": 2,
        "n_decoder_layers": 2,
        "d_ff": 32,
        "dropout": 0.0,
        "max_len": 40,
    }
    values.update(overrides)
    return TransformerConfig(**values)


@pytest.fixture
def transformer() -> Transformer:
    torch.manual_seed(0)
    return Transformer(tiny_config()).eval()


@pytest.fixture
def gpt() -> GPT:
    torch.manual_seed(0)
    return GPT(tiny_config(architecture="decoder-only", src_vocab_size=0)).eval()


def save_tiny_checkpoint(
    directory: Path,
    direction: str = "zh-en",
    dtype: torch.dtype = torch.float16,
    max_len: int = 40,
) -> Transformer:
    """A random-weight checkpoint with real tokenizers: its words are nonsense, its shapes real."""
    zh_tok = train_char_tokenizer(["我有一只猫。", "你好。", "今天天气很好。"])
    en_tok = train_subword_tokenizer(["I have a cat.", "Hello.", "It's a nice day."], vocab_size=60)
    src_tok, tgt_tok = (zh_tok, en_tok) if direction == "zh-en" else (en_tok, zh_tok)
    torch.manual_seed(0)
    model = Transformer(
        tiny_config(
            src_vocab_size=src_tok.vocab_size, tgt_vocab_size=tgt_tok.vocab_size, max_len=max_len
        )
    ).eval()
    source, target = direction.split("-")
    meta = {"direction": direction, "source_language": source, "target_language": target}
    save_checkpoint(directory, model, src_tok, tgt_tok, meta, {"dev_bleu": 1.0}, dtype)
    return model


def save_tiny_gpt_checkpoint(directory: Path, max_len: int = 40) -> GPT:
    """A random-weight GPT with a real mixed Chinese+English tokenizer."""
    texts = ["我有一只猫。", "他是学生。", "I have a cat.", "He is a student."] * 3
    tok = train_mixed_tokenizer(texts, vocab_size=80)
    torch.manual_seed(0)
    config = tiny_config(
        architecture="decoder-only",
        src_vocab_size=0,
        tgt_vocab_size=tok.vocab_size,
        max_len=max_len,
    )
    model = GPT(config).eval()
    meta = {"direction": "prompt", "source_language": None, "target_language": "en"}
    pool = [
        ("我有一只猫。", "I have a cat."),
        ("他是学生。", "He is a student."),
        ("猫。", "Cat."),
        ("你好。", "Hello."),
        ("谢谢你。", "Thanks."),
        ("她是老师。", "She is."),
        ("天气很好。", "Nice."),
        ("他们是医生。", "They are."),
    ]
    credits = [f"tiny pair {n}" for n in range(len(pool))]
    metrics = {"dev_zero_shot_bleu": 1.0}
    save_checkpoint(directory, model, None, tok, meta, metrics, pool=pool, pool_credit=credits)
    return model


def free_port() -> int:
    """A port nothing listens on now, for a server a test starts in another process."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Debian's Chromium, driven by Playwright (browser tests here and in tests/docker).
CHROMIUM = "/usr/bin/chromium"
# Chromium's own background traffic would be refused on a closed network; keep it quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright launches Debian's Chromium (never a downloaded browser)."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def artifacts() -> Path:
    directory = Path(__file__).resolve().parents[1] / "test-results"
    directory.mkdir(exist_ok=True)
    return directory
