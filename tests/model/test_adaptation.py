"""Learning in the weights: a copy learns, the original does not change, the result repeats."""

import pytest
import torch

from model.adaptation import adapted
from model.transformer import GPT

SEQUENCES = [[1, 7, 8, 9, 10, 2], [1, 11, 12, 2]]


def test_the_copy_learns_and_the_original_stays(gpt: GPT) -> None:
    before = {k: v.clone() for k, v in gpt.state_dict().items()}
    learner, losses = adapted(gpt, SEQUENCES, steps=10, lr=1e-2)
    assert len(losses) == 10 and losses[-1] < losses[0] / 2
    assert all(torch.equal(before[k], v) for k, v in gpt.state_dict().items())
    assert not all(torch.equal(before[k], v) for k, v in learner.state_dict().items())
    assert not any(p.requires_grad for p in learner.parameters())


def test_the_same_lesson_gives_the_same_copy(gpt: GPT) -> None:
    first, _ = adapted(gpt, SEQUENCES, steps=3, lr=1e-3)
    second, _ = adapted(gpt, SEQUENCES, steps=3, lr=1e-3)
    assert all(
        torch.equal(a, b) for a, b in zip(first.parameters(), second.parameters(), strict=True)
    )


def test_nothing_to_learn_is_an_error(gpt: GPT) -> None:
    with pytest.raises(ValueError, match="at least one sequence and one step"):
        adapted(gpt, [], steps=3, lr=1e-3)


def test_before_step_can_stop_it(gpt: GPT) -> None:
    calls = []

    def stop_at_third() -> None:
        calls.append(1)
        if len(calls) == 3:
            raise TimeoutError("past the deadline")

    with pytest.raises(TimeoutError):
        adapted(gpt, SEQUENCES, steps=10, lr=1e-3, before_step=stop_at_third)
    assert len(calls) == 3
