"""The one training loop every recipe shares, and what runs around it.

A recipe brings its data, its loss and its schedule; this module brings the rest: the run's
arguments, directory and log, the learning-rate schedule, one optimizer step, one epoch
(`Trainer.epoch`) over this process's share of the batches, the end of an epoch (state saved as
safetensors + JSON for --resume, the time budget), and the facts a checkpoint's metrics.json
records. training/processes.py places the run on its processes and devices.
"""

import argparse
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm import tqdm

from model import Seq2Seq, parameter_count, tie_state_dict, untied_state_dict
from training.data import SHARED_DATA
from training.processes import Batch, Processes, agree, join, share_of, sum_over

log = logging.getLogger("attnscope.train")
CREDIT = (
    "Tatoeba (tatoeba.org) and manythings.org/anki, CC-BY 2.0 FR "
    "(https://creativecommons.org/licenses/by/2.0/fr/); modified: cleaned and split into "
    "train/dev as described in shared/data/README.md"
)
NOT_RECIPE = ("out", "export", "resume", "train", "dev", "device")  # where a run was, not how
RUN_HANDLERS: list[logging.Handler] = []  # the handlers start_run added to the "attnscope" logger
LossFn = Callable[[nn.Module, Batch], tuple[torch.Tensor, int]]  # (mean loss, tokens counted)


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
    p.add_argument("--threads", type=int, default=2, help="torch threads per process")
    p.add_argument(
        "--device",
        default="cpu",
        help="cpu (default) or cuda; under torchrun each process takes cuda:LOCAL_RANK",
    )


def start_run(args: argparse.Namespace) -> Processes:
    """Join the other processes, make the run directory, and log there (process 0) and on the
    console (every process, each line marked with its rank when there are several)."""
    processes = join(args.device)
    args.out.mkdir(parents=True, exist_ok=True)
    prefix = f"[rank {processes.rank}] " if processes.world > 1 else ""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if processes.main:
        handlers.append(logging.FileHandler(args.out / "train.log"))
    logger = logging.getLogger("attnscope")
    for old in RUN_HANDLERS:  # a previous run in this process (tests run several)
        logger.removeHandler(old)
        old.close()
    RUN_HANDLERS[:] = handlers
    for handler in handlers:
        handler.setFormatter(logging.Formatter(f"%(asctime)s {prefix}%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    torch.set_num_threads(args.threads)
    return processes


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


@dataclass
class Trainer:
    """What every epoch of a run trains with: the module (the model, or DDP around it), its
    optimizer, the recipe's loss, and the schedule over `total_steps` optimizer steps."""

    module: nn.Module
    optimizer: torch.optim.Optimizer
    loss_fn: LossFn
    total_steps: int
    args: argparse.Namespace
    processes: Processes

    def epoch(self, batches: Sequence[Batch], state: dict, description: str) -> dict:
        """One pass over this process's share of `batches`; returns the epoch's record (the
        loss is the mean per counted token over every process)."""
        self.module.train()
        device = self.processes.device
        sums = torch.zeros(2, dtype=torch.float64, device=device)  # (loss x tokens, tokens)
        started = time.time()
        lr = learning_rate(state["step"], self.total_steps, self.args)
        shard = share_of(batches, self.processes)
        bar = tqdm(shard, desc=description, unit="batch", leave=False, disable=not self.main)
        for batch in bar:
            lr = learning_rate(state["step"], self.total_steps, self.args)
            loss, tokens = self.loss_fn(self.module, tuple(t.to(device) for t in batch))
            optimize(self.module, self.optimizer, loss, lr)
            sums += torch.tensor([loss.item() * tokens, tokens], dtype=torch.float64, device=device)
            state["step"] += 1
            bar.set_postfix(loss=f"{loss.item():.3f}", lr=f"{lr:.2e}")
        total, tokens = sum_over(sums, self.processes).tolist()
        seconds = time.time() - started
        return {
            "loss": round(total / max(1.0, tokens), 4),
            "lr": lr,
            "tokens_per_s": round(tokens / seconds),
            "epoch_s": round(seconds, 1),
        }

    @property
    def main(self) -> bool:
        return self.processes.main


def save_state(path: Path, model: Seq2Seq, optimizer: torch.optim.Optimizer, state: dict) -> None:
    """End-of-epoch state for --resume, as safetensors + JSON (no pickle)."""
    path.mkdir(parents=True, exist_ok=True)
    save_file(untied_state_dict(model), str(path / "model.safetensors"))
    moments = {}
    for index, s in optimizer.state_dict()["state"].items():
        moments[f"{index}.exp_avg"] = s["exp_avg"].cpu()
        moments[f"{index}.exp_avg_sq"] = s["exp_avg_sq"].cpu()
        state["optimizer_step"] = float(s["step"])
    save_file(moments, str(path / "optimizer.safetensors"))
    (path / "state.json").write_text(json.dumps(state, indent=2) + "\n")


def load_state(path: Path, model: Seq2Seq, optimizer: torch.optim.Optimizer) -> dict:
    device = next(model.parameters()).device
    weights = load_file(str(path / "model.safetensors"), device=str(device))
    tie_state_dict(weights, model.config)
    model.load_state_dict(weights)
    state = json.loads((path / "state.json").read_text())
    moments = load_file(str(path / "optimizer.safetensors"), device=str(device))
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
    steps: int,
) -> dict:
    """With --resume, the saved state (weights, optimizer, history) replaces the fresh `state`;
    either way the run's plan goes to the log."""
    if args.resume:
        state = load_state(args.out / "last", model, optimizer)
        log.info("resumed after epoch %d", state["epoch"])
    log.info(
        "%d training examples, %d parameters, about %d steps per epoch per process; %s",
        examples,
        parameter_count(model),
        steps,
        json.dumps(vars(args), default=str),
    )
    return state


def end_epoch(
    trainer: Trainer,
    model: Seq2Seq,
    state: dict,
    record: dict,
    started: float,
    first_epoch: int,
) -> str | None:
    """Record the epoch, save the state, and say why to stop: "budget" (the time budget is
    spent: finish and export), "pause" (--stop-after: continue later with --resume) or None.
    Every process gets process 0's answer, so all stop together."""
    args, processes = trainer.args, trainer.processes
    state["epoch"] = record["epoch"]
    state["minutes"] = round((time.time() - started) / 60, 2)
    state["history"].append(record)
    stop = None
    if args.time_budget and state["minutes"] >= args.time_budget:
        stop = "budget"
    elif args.stop_after and record["epoch"] - first_epoch + 1 >= args.stop_after:
        stop = "pause"
    if processes.main:
        save_state(args.out / "last", model, trainer.optimizer, state)
        log.info("epoch %s", json.dumps(record))
        if stop == "budget":
            log.info("time budget of %.0f minutes reached", args.time_budget)
        elif stop == "pause":
            log.info("stopping after %d epochs; continue with --resume", args.stop_after)
    return agree(stop, processes)


def recipe(args: argparse.Namespace) -> dict:
    """The arguments that shaped the weights, for a checkpoint's config.json."""
    return {
        k: str(v) if isinstance(v, Path) else v
        for k, v in vars(args).items()
        if k not in NOT_RECIPE
    }


def training_facts(
    model: Seq2Seq, state: dict, args: argparse.Namespace, processes: Processes
) -> dict:
    """What metrics.json says about how the weights were made."""
    where = "GPU" if processes.device.type == "cuda" else f"CPU, {args.threads} thread(s)"
    if processes.world > 1:
        where += f", {processes.world} processes (DDP)"
    return {
        "decoding": "greedy",
        "weights": "float16",
        "parameters": parameter_count(model),
        "epochs": state["epoch"],
        "training_minutes": state["minutes"],
        "machine": where,
        "history": state["history"],
        "config": asdict(model.config),
        "data": CREDIT,
    }
