"""Save and load a model directory: safetensors weights, JSON config, tokenizers, checksums.

Weights load with safetensors only (no pickle, so a file cannot run code), and every file is
checked against the sha256 recorded beside it before it is used. config.json may record the
`stage` of training that made the weights and the chat template they read (model/chat.py); a
checkpoint without them is a base model without a template. A reward model's weights are a
GPT's plus its scalar head (model/reward.py).
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from model.chat import STAGES, ChatTemplate, Stage, chat_meta
from model.config import TransformerConfig
from model.demonstrations import read_pool
from model.reward import RewardModel
from model.tokenizer import Tokenizer
from model.transformer import Seq2Seq, build_model

CHECKPOINTS_DIR = Path(__file__).resolve().parent / "checkpoints"
SHIPPED_TRANSLATORS = ("zh-en", "en-zh")  # the encoder-decoders that ship, one per direction
SHIPPED_GPT = "gpt"
SHIPPED_STAGES = ("sft", "reward", "rlhf")  # the GPT's stages after pre-training (README)
SHIPPED_MODELS = (*SHIPPED_TRANSLATORS, SHIPPED_GPT, *SHIPPED_STAGES)
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
SRC_TOKENIZER = "src_tokenizer.json"
TGT_TOKENIZER = "tgt_tokenizer.json"
METRICS = "metrics.json"
POOL = "pool.tsv"  # a GPT's demonstration pool: training pairs, `zh<TAB>en`
POOL_CREDIT = "pool.attribution.txt"  # line i credits line i of the pool (the licence asks)
CHECKSUMS = "sha256.json"
TIED = "decoder.lm_head.weight"  # same tensor as decoder.embed.tokens.weight when tied


class CheckpointError(Exception):
    """A checkpoint directory that cannot be used, with the reason in words."""


@dataclass
class Checkpoint:
    """A loaded model with everything needed to run it and to describe it."""

    name: str
    model: Seq2Seq | RewardModel  # a RewardModel when stage is "reward"
    config: TransformerConfig
    src_tokenizer: Tokenizer | None  # None for a decoder-only model
    tgt_tokenizer: Tokenizer
    meta: dict[str, Any] = field(default_factory=dict)  # direction, languages, training recipe
    metrics: dict[str, Any] = field(default_factory=dict)
    pool: list[tuple[str, str]] = field(default_factory=list)  # demonstrations (GPT), or none
    stage: Stage = "base"  # base, sft, reward or rlhf (model/chat.py)
    template: ChatTemplate | None = None  # the chat template the weights read, if any


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def untied_state_dict(
    model: Seq2Seq | RewardModel, dtype: torch.dtype | None = None
) -> dict[str, torch.Tensor]:
    """State dict without the tied output matrix: safetensors stores each tensor once."""
    return {
        name: (tensor if dtype is None else tensor.to(dtype)).detach().cpu().contiguous()
        for name, tensor in model.state_dict().items()
        if not (model.config.tie_embeddings and name == TIED)
    }


def tie_state_dict(state: dict[str, torch.Tensor], config: TransformerConfig) -> None:
    """Put the tied output matrix back (the inverse of `untied_state_dict`)."""
    if config.tie_embeddings and "decoder.embed.tokens.weight" in state:
        state[TIED] = state["decoder.embed.tokens.weight"]


def save_checkpoint(
    directory: Path,
    model: Seq2Seq | RewardModel,
    src_tokenizer: Tokenizer | None,
    tgt_tokenizer: Tokenizer,
    meta: dict[str, Any],
    metrics: dict[str, Any] | None = None,
    dtype: torch.dtype = torch.float16,
    pool: list[tuple[str, str]] | None = None,
    pool_credit: list[str] | None = None,
    stage: Stage | None = None,
    template: ChatTemplate | None = None,
) -> None:
    """Write the directory; fp16 by default (half the size, no measurable loss in BLEU). A GPT
    may ship a demonstration pool, each pair with its attribution line, and record its stage
    and chat template (none given: config.json records neither, as before stages existed)."""
    if isinstance(model, RewardModel) != (stage == "reward"):
        raise ValueError("a RewardModel is saved with stage 'reward', and only a RewardModel")
    if stage is not None:
        meta = {**meta, **chat_meta(stage, template)}
    elif template is not None:
        raise ValueError("a chat template is saved with the stage that trained on it")
    directory.mkdir(parents=True, exist_ok=True)
    config: TransformerConfig = model.config
    state = untied_state_dict(model, dtype)
    save_file(state, str(directory / WEIGHTS), metadata={"format": "pt"})
    (directory / CONFIG).write_text(
        json.dumps({"model": config.to_dict(), **meta}, indent=2, ensure_ascii=False) + "\n"
    )
    files = [WEIGHTS, CONFIG]
    for tokenizer, filename in ((src_tokenizer, SRC_TOKENIZER), (tgt_tokenizer, TGT_TOKENIZER)):
        if tokenizer is not None:
            tokenizer.save(directory / filename)
            files += [filename, filename.replace(".json", ".meta.json")]
    if pool:
        if pool_credit is None or len(pool_credit) != len(pool):
            raise ValueError("every pair of a pool needs its attribution line")
        (directory / POOL).write_text("".join(f"{zh}\t{en}\n" for zh, en in pool), "utf-8")
        (directory / POOL_CREDIT).write_text("".join(f"{line}\n" for line in pool_credit), "utf-8")
        files += [POOL, POOL_CREDIT]
    if metrics is not None:
        write_metrics(directory, metrics)
    checksums = {name: sha256_of(directory / name) for name in files}
    (directory / CHECKSUMS).write_text(json.dumps(checksums, indent=2) + "\n")


def write_metrics(directory: Path, metrics: dict[str, Any]) -> None:
    """Metrics are a report about the weights, not an input to them, so they are not checksummed."""
    (directory / METRICS).write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")


def verify_checksums(directory: Path) -> None:
    if not directory.is_dir():
        raise CheckpointError(f"checkpoint directory {directory} does not exist")
    try:
        checksums = json.loads((directory / CHECKSUMS).read_text())
    except FileNotFoundError as err:
        raise CheckpointError(f"{directory / CHECKSUMS} is missing") from err
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{directory / CHECKSUMS} is not valid JSON: {err}") from err
    for name in (WEIGHTS, CONFIG):
        if name not in checksums:
            raise CheckpointError(f"{CHECKSUMS} records no sha256 for {name}")
    for name, expected in checksums.items():
        path = directory / name
        if not path.is_file():
            raise CheckpointError(f"{path} is missing")
        if sha256_of(path) != expected:
            raise CheckpointError(f"{path} does not match its recorded sha256 (corrupt or altered)")


def load_checkpoint(directory: Path, name: str | None = None) -> Checkpoint:
    """Load and verify a checkpoint directory; raise CheckpointError saying what is wrong."""
    directory = Path(directory)
    verify_checksums(directory)
    try:
        raw = json.loads((directory / CONFIG).read_text())
        config = TransformerConfig.from_dict(raw.pop("model"))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{directory / CONFIG} is not a valid model config: {err}") from err
    try:
        state = load_file(str(directory / WEIGHTS))
    except (SafetensorError, OSError) as err:
        raise CheckpointError(
            f"{directory / WEIGHTS} is not a readable safetensors file: {err}"
        ) from err
    stage, template = read_stage(raw, directory)
    try:
        model = RewardModel(config) if stage == "reward" else build_model(config)
    except ValueError as err:
        raise CheckpointError(f"{directory / CONFIG}: {err}") from err
    state = {k: v.float() for k, v in state.items()}
    tie_state_dict(state, config)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise CheckpointError(f"{directory / WEIGHTS} does not fit the config: {err}") from err
    model.eval()
    src_path = directory / SRC_TOKENIZER
    src_tokenizer = Tokenizer.load(src_path) if src_path.exists() else None
    tgt_tokenizer = Tokenizer.load(directory / TGT_TOKENIZER)
    metrics_path = directory / METRICS
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    pool_path = directory / POOL
    pool = read_pool(pool_path) if pool_path.exists() else []
    return Checkpoint(
        name=name or directory.name,
        model=model,
        config=config,
        src_tokenizer=src_tokenizer,
        tgt_tokenizer=tgt_tokenizer,
        meta=raw,
        metrics=metrics,
        pool=pool,
        stage=stage,
        template=template,
    )


def read_stage(raw: dict[str, Any], directory: Path) -> tuple[Stage, ChatTemplate | None]:
    """The stage and chat template config.json records (taken out of `raw`); a checkpoint
    from before stages existed is a base model without a template."""
    stage = raw.pop("stage", "base")
    if stage not in STAGES:
        raise CheckpointError(f"{directory / CONFIG} names an unknown stage {stage!r}")
    template = raw.pop("chat_template", None)
    try:
        return stage, None if template is None else ChatTemplate.from_dict(template)
    except ValueError as err:
        raise CheckpointError(f"{directory / CONFIG} has an invalid chat template: {err}") from err


def shipped_checkpoint(name: str) -> Path:
    """Directory of a checkpoint that ships with attnscope (one of SHIPPED_MODELS)."""
    return CHECKPOINTS_DIR / name
