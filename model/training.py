"""What the two training scripts (train.py, train_gpt.py) share.

The run directory and its log, the learning-rate schedule, one optimizer step, the end of an
epoch (state saved as safetensors + JSON for --resume, the time budget), and the facts a
checkpoint's metrics.json records about how it was trained.
"""

import argparse
import json
import logging
import math
import time
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from model.checkpoint import tie_state_dict, untied_state_dict
from model.data import SHARED_DATA
from model.transformer import Seq2Seq, parameter_count

log = logging.getLogger("attnscope.train")
CREDIT = (
    "Tatoeba (tatoeba.org) and manythings.org/anki, CC-BY 2.0 FR "
    "(https://creativecommons.org/licenses/by/2.0/fr/); modified: cleaned and split into "
    "train/dev as described in shared/data/README.md"
)
NOT_RECIPE = ("out", "export", "resume", "train", "dev")  # where a run was, not how


def add_run_arguments(p: argparse.ArgumentParser, epochs: int) -> None:
    p.add_argument("--train", type=Path, default=SHARED_DATA / "zh_en_train.tsv")
    p.add_argument("--dev", type=Path, default=SHARED_DATA / "zh_en_dev.tsv")
    p.add_argument("--out", type=Path, required=True, help="run directory (log, resume state)")
    p.add_argument("--export", type=Path, help="write the final checkpoint (fp16) here")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument(
        "--time-budget",
        type=float,
        default=0,
        help="minutes; stop at the end of the epoch that passes it (0: no limit)",
    )
    p.add_argument(
        "--stop-after",
        type=int,
        default=0,
        help="stop after this many epochs in this "
        "invocation, to continue later with --resume (0: run to the end)",
    )
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    p.add_argument("--warmup", type=int, default=500, help="warm-up steps")
    p.add_argument("--threads", type=int, default=2)


def start_run(args: argparse.Namespace) -> None:
    """The run directory, a log there and on the console, and torch's thread count."""
    args.out.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(message)s",
        handlers=[logging.FileHandler(args.out / "train.log"), logging.StreamHandler()],
    )
    torch.set_num_threads(args.threads)


def new_optimizer(model: nn.Module, args: argparse.Namespace) -> torch.optim.Optimizer:
    return torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-9)


def learning_rate(step: int, total: int, args: argparse.Namespace) -> float:
    """Linear warm-up, then cosine decay to zero at the last step."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, total - args.warmup)
    return args.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def optimize(
    model: nn.Module, optimizer: torch.optim.Optimizer, loss: torch.Tensor, lr: float
) -> None:
    """One step at learning rate `lr`, gradients clipped to norm 1."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()


def save_state(path: Path, model: Seq2Seq, optimizer: torch.optim.Optimizer, state: dict) -> None:
    """End-of-epoch state for --resume, as safetensors + JSON (no pickle)."""
    path.mkdir(parents=True, exist_ok=True)
    save_file(untied_state_dict(model), str(path / "model.safetensors"))
    moments = {}
    for index, s in optimizer.state_dict()["state"].items():
        moments[f"{index}.exp_avg"] = s["exp_avg"]
        moments[f"{index}.exp_avg_sq"] = s["exp_avg_sq"]
        state["optimizer_step"] = float(s["step"])
    save_file(moments, str(path / "optimizer.safetensors"))
    (path / "state.json").write_text(json.dumps(state, indent=2) + "\n")


def load_state(path: Path, model: Seq2Seq, optimizer: torch.optim.Optimizer) -> dict:
    weights = load_file(str(path / "model.safetensors"))
    tie_state_dict(weights, model.config)
    model.load_state_dict(weights)
    state = json.loads((path / "state.json").read_text())
    moments = load_file(str(path / "optimizer.safetensors"))
    restored = optimizer.state_dict()
    restored["state"] = {
        i: {
            "step": torch.tensor(state["optimizer_step"]),
            "exp_avg": moments[f"{i}.exp_avg"],
            "exp_avg_sq": moments[f"{i}.exp_avg_sq"],
        }
        for i in range(len(restored["param_groups"][0]["params"]))
    }
    optimizer.load_state_dict(restored)
    return state


def resume_or_start(
    args: argparse.Namespace,
    model: Seq2Seq,
    optimizer: torch.optim.Optimizer,
    state: dict,
    examples: int,
    steps_per_epoch: int,
) -> dict:
    """With --resume, the saved state (weights, optimizer, history) replaces the fresh `state`;
    either way the run's plan goes to the log."""
    if args.resume:
        state = load_state(args.out / "last", model, optimizer)
        log.info("resumed after epoch %d", state["epoch"])
    log.info(
        "%d training examples, %d parameters, about %d steps per epoch; %s",
        examples,
        parameter_count(model),
        steps_per_epoch,
        json.dumps(vars(args), default=str),
    )
    return state


def end_epoch(
    args: argparse.Namespace,
    model: Seq2Seq,
    optimizer: torch.optim.Optimizer,
    state: dict,
    record: dict,
    started: float,
    first_epoch: int,
) -> str | None:
    """Record the epoch, save the state, and say why to stop: "budget" (the time budget is
    spent: finish and export), "pause" (--stop-after: continue later with --resume) or None."""
    state["epoch"] = record["epoch"]
    state["minutes"] = round((time.time() - started) / 60, 2)
    state["history"].append(record)
    save_state(args.out / "last", model, optimizer, state)
    log.info("epoch %s", json.dumps(record))
    if args.time_budget and state["minutes"] >= args.time_budget:
        log.info("time budget of %.0f minutes reached", args.time_budget)
        return "budget"
    if args.stop_after and record["epoch"] - first_epoch + 1 >= args.stop_after:
        log.info("stopping after %d epochs; continue with --resume", args.stop_after)
        return "pause"
    return None


def recipe(args: argparse.Namespace) -> dict:
    """The arguments that shaped the weights, for a checkpoint's config.json."""
    return {
        k: str(v) if isinstance(v, Path) else v
        for k, v in vars(args).items()
        if k not in NOT_RECIPE
    }


def training_facts(model: Seq2Seq, state: dict, args: argparse.Namespace) -> dict:
    """What metrics.json says about how the weights were made."""
    return {
        "decoding": "greedy",
        "weights": "float16",
        "parameters": parameter_count(model),
        "epochs": state["epoch"],
        "training_minutes": state["minutes"],
        "machine": f"CPU, {args.threads} thread(s)",
        "history": state["history"],
        "config": asdict(model.config),
        "data": CREDIT,
    }
