"""What the recipes after pre-training share: where each stage starts, and what it writes.

Each stage continues the checkpoint of the one before (base → sft → reward, sft → rlhf), with
its tokenizer and, after sft, its chat template; and each export's metrics.json says the same
things the GPT's does (training/loop.py's `training_facts`) plus its own measurements.
"""

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from model import GPT, SHIPPED_GPT, ChatTemplate, Checkpoint, load_checkpoint, shipped_checkpoint

STAGE_DIRS = {"base": shipped_checkpoint(SHIPPED_GPT)}  # where each stage ships
STAGE_DIRS |= {stage: STAGE_DIRS["base"].with_name(stage) for stage in ("sft", "reward", "rlhf")}


def continued(path: Path, dropout: float) -> tuple[Checkpoint, GPT]:
    """A checkpoint, and a trainable copy of its GPT with `dropout`."""
    start = load_checkpoint(path)
    if not isinstance(start.model, GPT):
        raise SystemExit(f"{path} is not a GPT (architecture or stage {start.stage!r})")
    model = GPT(replace(start.config, dropout=dropout))
    model.load_state_dict(start.model.state_dict())
    return start, model


def template_of(checkpoint: Checkpoint, path: Path) -> ChatTemplate:
    """The chat template an instruction-tuned checkpoint ships; a stop without one."""
    if checkpoint.template is None:
        raise SystemExit(f"{path} has no chat template: start from an instruction-tuned model")
    return checkpoint.template


def stage_meta(args: argparse.Namespace, recipe: dict[str, Any]) -> dict[str, Any]:
    """config.json's description of a stage's checkpoint: a GPT that reads prompts (in its
    chat template, which save_checkpoint records with the stage), and where it started."""
    return {
        "direction": "prompt",
        "source_language": None,
        "init_from": str(args.init_from),
        "recipe": recipe,
    }


def write_stage_metrics(directory: Path, metrics: dict[str, Any]) -> None:
    (directory / "metrics.json").write_text(
        json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
