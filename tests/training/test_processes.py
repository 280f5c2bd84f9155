"""A recipe under torchrun: two CPU processes (gloo) train one model with DDP."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file

from tests.conftest import free_port
from tests.training.test_translation import tiny_run
from training.processes import Processes, share_of, steps_per_epoch

ROOT = Path(__file__).resolve().parents[2]


def test_each_process_takes_its_own_batches_and_as_many() -> None:
    batches = [(i,) for i in range(7)]
    shares = [share_of(batches, Processes(rank, 2)) for rank in (0, 1)]
    assert shares == [[(0,), (2,), (4,)], [(1,), (3,), (5,)]]  # disjoint, equal in number
    assert steps_per_epoch(7, Processes(0, 2)) == 3


@pytest.mark.slow
def test_two_processes_end_with_the_same_weights(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_addr",
        "127.0.0.1",
        "--master_port",
        str(free_port()),
        "-m",
        "training.translation",
        *tiny_run(tmp_path, "ddp", "--epochs", "2", "--eval-every", "2"),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    digests = dict(re.findall(r"\[rank (\d)\] .*final weights sha256 (\w+)", done.stderr))
    assert set(digests) == {"0", "1"}, done.stderr[-3000:]
    assert digests["0"] == digests["1"]
    log = (tmp_path / "ddp" / "train.log").read_text()
    assert "[rank 0]" in log and "[rank 1]" not in log  # process 0 alone writes the files
    state = load_file(str(tmp_path / "ddp" / "last" / "model.safetensors"))
    first = load_file(str(tmp_path / "ddp" / "epochs" / "epoch_1.safetensors"))
    assert any((state[k] != first[k]).any() for k in state)  # epoch 2 trained further
