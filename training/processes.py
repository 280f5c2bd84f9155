"""The processes of a run: one, or several under torchrun, and the device each trains on.

Under `torchrun --nproc_per_node N` each process takes every N-th batch and
DistributedDataParallel averages the gradients (gloo on CPU, nccl on GPU), so every process
holds the same weights after every step. Process 0 alone writes the log file, the state and the
export, and evaluates (each process keeps its own cache files in the run directory).
"""

import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import distributed, nn
from torch.nn.parallel import DistributedDataParallel

from model import untied_state_dict

log = logging.getLogger("attnscope.train")
Batch = tuple[torch.Tensor, ...]


@dataclass(frozen=True)
class Processes:
    """This process's place in the run: its rank among `world` processes, and its device."""

    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        """Process 0 writes the files and evaluates; the others only train."""
        return self.rank == 0


def join(device_name: str) -> Processes:
    """Join the other processes (under torchrun) and pick this process's device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = torch.device(device_name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: no CUDA device is available here; use --device cpu")
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if world > 1:
        distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Processes(rank, world, device)


def wrap(model: nn.Module, processes: Processes) -> nn.Module:
    """The module to train: `model` itself in one process, DDP around it in several."""
    model.to(processes.device)
    if processes.world == 1:
        return model
    device_ids = [processes.device.index] if processes.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def share_of(batches: Sequence[Batch], processes: Processes) -> list[Batch]:
    """This process's batches: every world-th, and as many for each process (DDP steps
    together, so a process with one batch more would wait for ever)."""
    each = len(batches) // processes.world
    return list(batches[processes.rank :: processes.world][:each])


def steps_per_epoch(batches: int, processes: Processes) -> int:
    """Optimizer steps each process takes in an epoch of `batches` batches."""
    return batches // processes.world


def sum_over(values: torch.Tensor, processes: Processes) -> torch.Tensor:
    """`values` summed over every process (in place)."""
    if processes.world > 1:
        distributed.all_reduce(values)
    return values


def agree(decision: str | None, processes: Processes) -> str | None:
    """Process 0's decision, on every process."""
    if processes.world == 1:
        return decision
    shared = [decision]
    distributed.broadcast_object_list(shared, src=0)
    return shared[0]


def weights_digest(model: nn.Module) -> str:
    """sha256 of the weights, to show that every process ends with the same ones."""
    digest = hashlib.sha256()
    for name, tensor in sorted(untied_state_dict(model).items()):
        digest.update(name.encode())
        digest.update(tensor.float().cpu().numpy().tobytes())
    return digest.hexdigest()


def leave(model: nn.Module, processes: Processes) -> None:
    """At the end of training: log this process's weights digest (the same on every process)
    and leave the process group."""
    if processes.world > 1:
        log.info("final weights sha256 %s", weights_digest(model))
        distributed.barrier()
        distributed.destroy_process_group()
