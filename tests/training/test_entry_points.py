"""Every recipe runs as `python -m training.<recipe>`, as the Makefile calls it."""

import subprocess
import sys

import pytest

RECIPES = ["translation", "gpt", "sft", "reward", "rlhf"]


@pytest.mark.parametrize("recipe", RECIPES)
def test_each_recipe_runs_as_a_module(recipe: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", f"training.{recipe}", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:")  # a module without its __main__ prints nothing
    assert "--out" in done.stdout
