"""Head scores on constructed attention patterns whose answers are known."""

import pytest
import torch

from model.scores import induction_score, previous_token_score, share_on_keys

T = 11  # <s>, then a span of 5 tokens at 1..5, repeated at 6..10
FIRST, SPAN = 1, 5


def uniform_causal(t: int) -> torch.Tensor:
    """Each query spreads its attention evenly over itself and every earlier key."""
    mask = torch.ones(t, t).tril()
    return mask / mask.sum(-1, keepdim=True)


def pattern() -> torch.Tensor:
    """Head 0: a perfect induction head on the repeated span (uniform elsewhere); head 1: a
    perfect previous-token head; head 2: uniform over the past."""
    induction = uniform_causal(T)
    for j in range(SPAN - 1):
        row = FIRST + SPAN + j
        induction[row] = 0.0
        induction[row, FIRST + j + 1] = 1.0
    previous = torch.zeros(T, T)
    previous[0, 0] = 1.0
    for t in range(1, T):
        previous[t, t - 1] = 1.0
    return torch.stack([induction, previous, uniform_causal(T)])


def test_constructed_pattern_is_a_valid_attention_pattern() -> None:
    probs = pattern()
    torch.testing.assert_close(probs.sum(-1), torch.ones(3, T))
    assert torch.all(probs.triu(diagonal=1) == 0)  # causal


def test_induction_score_finds_the_induction_head() -> None:
    scores = induction_score(pattern(), FIRST, SPAN)
    assert scores[0].item() == pytest.approx(1.0)
    # The previous-token head looks at j + 5 from row j + 6, never at the induction target.
    assert scores[1].item() == pytest.approx(0.0)
    # Uniform: row r gives 1 / (r + 1) to every key; mean over rows 6, 7, 8, 9.
    expected = sum(1 / (row + 1) for row in range(6, 10)) / 4
    assert scores[2].item() == pytest.approx(expected)


def test_previous_token_score_finds_the_previous_token_head() -> None:
    scores = previous_token_score(pattern())
    assert scores[1].item() == pytest.approx(1.0)
    expected_uniform = sum(1 / (t + 1) for t in range(1, T)) / (T - 1)
    assert scores[2].item() == pytest.approx(expected_uniform)
    # The induction head: uniform rows except 6..9, which put nothing on t - 1.
    expected_induction = sum(1 / (t + 1) for t in range(1, T) if t not in (6, 7, 8, 9)) / (T - 1)
    assert scores[0].item() == pytest.approx(expected_induction)


def test_share_on_keys() -> None:
    probs = pattern()
    # Rows 6..10 of the uniform head give (keys 1..5 count) / (row + 1) to the first copy.
    shares = share_on_keys(probs, queries=list(range(6, 11)), keys=list(range(1, 6)))
    expected = sum(5 / (row + 1) for row in range(6, 11)) / 5
    assert shares[2].item() == pytest.approx(expected)
    assert shares[1].item() == pytest.approx(1 / 5)  # only row 6 looks at key 5


@pytest.mark.parametrize(("first", "span"), [(0, 1), (3, 5), (1, 6)])
def test_impossible_spans_are_refused(first: int, span: int) -> None:
    with pytest.raises(ValueError, match="repeated span"):
        induction_score(pattern(), first, span)
