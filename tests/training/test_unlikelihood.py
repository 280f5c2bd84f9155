"""The unlikelihood of repeats against a loop over positions written from its definition."""

import math

import pytest
import torch
from torch.nn import functional as F

from training.unlikelihood import unlikelihood_loss

ARROW, NEWLINE, PAD = 3, 4, 0
MARKERS = (ARROW, NEWLINE, PAD)


def reference(logits: torch.Tensor, inputs: torch.Tensor, targets: torch.Tensor) -> tuple:
    """For each row and position in an answer (after `=>` on its line), -log(1 - p) of each
    token the answer wrote up to here that is not the next token."""
    total, count = 0.0, 0
    probs = F.softmax(logits, dim=-1)
    for b in range(inputs.size(0)):
        row = inputs[b].tolist()
        for t in range(len(row)):
            if targets[b, t] == PAD:
                continue
            line = row[: t + 1]
            if NEWLINE in line:
                line = line[len(line) - 1 - line[::-1].index(NEWLINE) + 1 :]
            if ARROW not in line:
                continue
            answer = line[len(line) - 1 - line[::-1].index(ARROW) + 1 :]
            for token in answer:
                if token != targets[b, t]:
                    total += -math.log(1 - probs[b, t, token].item())
                    count += 1
    return total, count


def test_a_hand_made_answer_counts_each_earlier_token_but_the_next():
    # <s> 中 文 => 7 8 7 9 </s> pad: the answer 7 8 7 9 says 7 twice.
    ids = torch.tensor([[1, 5, 6, ARROW, 7, 8, 7, 9, 2, PAD, PAD]])
    logits = torch.zeros(1, 10, 12)
    loss, count = unlikelihood_loss(F.log_softmax(logits, -1), ids[:, :-1], ids[:, 1:], MARKERS)
    # After 7: {7}; after 8: {8} (7 comes next); after the second 7: 7, 8, 7; after 9: four.
    assert count == 1 + 1 + 3 + 4
    assert loss.item() == pytest.approx(9 * -math.log(1 - 1 / 12), rel=1e-5)


def test_matches_the_definition_on_random_prompts():
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(1, 12, (4, 30), generator=generator)
    ids[:, 25:] = PAD  # padded ends count nothing
    logits = torch.randn(4, 29, 12, generator=generator)
    loss, count = unlikelihood_loss(F.log_softmax(logits, -1), ids[:, :-1], ids[:, 1:], MARKERS)
    expected, expected_count = reference(logits, ids[:, :-1], ids[:, 1:])
    assert count == expected_count > 0
    assert loss.item() == pytest.approx(expected, rel=1e-4)


def test_text_without_an_arrow_and_copies_from_a_demonstration_are_free():
    span = torch.tensor([[1, 7, 8, 9, 7, 8, 9, 2]])  # a repeated span: no answer in it
    logits = torch.zeros(1, span.size(1) - 1, 12)
    assert unlikelihood_loss(F.log_softmax(logits, -1), span[:, :-1], span[:, 1:], MARKERS)[1] == 0
    # 5 => 7, then 6 => 7: writing the demonstration's 7 again (input `=>` at position 6) is
    # free; each answer's 7 is a candidate only once it is written (before \n and </s>).
    demo = torch.tensor([[1, 5, ARROW, 7, NEWLINE, 6, ARROW, 7, 2]])
    logits = torch.zeros(1, demo.size(1) - 1, 12, requires_grad=True)
    loss, count = unlikelihood_loss(F.log_softmax(logits, -1), demo[:, :-1], demo[:, 1:], MARKERS)
    loss.backward()
    assert count == 2
    assert not logits.grad[0, 6].any()


def test_its_gradient_lowers_the_repeated_token():
    ids = torch.tensor([[1, 5, ARROW, 7, 8, 2]])
    logits = torch.zeros(1, 5, 12, requires_grad=True)
    loss, _ = unlikelihood_loss(F.log_softmax(logits, -1), ids[:, :-1], ids[:, 1:], MARKERS)
    loss.backward()
    # At the input 8 (position 4, next </s>), 7 and 8 are candidates: descent lowers both.
    assert logits.grad[0, 4, 7] > 0 and logits.grad[0, 4, 8] > 0
    assert logits.grad[0, 4, 2] < 0  # the next token gains
