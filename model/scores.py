"""Per-head scores that name what a head does, computed from its attention probabilities.

Each function takes one site's probabilities, shaped (H, T, T) as in an AttentionTrace, and
returns one number per head:

- previous-token score: how much each token attends to the token just before it;
- induction score: on a random span repeated twice, how much each token of the second copy
  attends to the token that followed its first occurrence ("...A B ... A" looks at B, which
  is what lets a model continue a pattern it has seen once in its context);
- share on keys: how much of each query's attention goes to a set of keys (for GPT prompts,
  the demonstrations).
"""

import torch

from model.tokenizer import FIRST_ORDINARY_ID
from model.trace import AttentionTrace
from model.transformer import GPT


def previous_token_score(probs: torch.Tensor) -> torch.Tensor:
    """(H, T, T) -> (H,): the mean over t >= 1 of the weight from t to t - 1."""
    if probs.size(-1) < 2:
        raise ValueError("a previous-token score needs at least two positions")
    return probs.diagonal(offset=-1, dim1=-2, dim2=-1).mean(-1)


def induction_score(probs: torch.Tensor, first_start: int, span_length: int) -> torch.Tensor:
    """(H, T, T) -> (H,) for a sequence whose positions first_start .. first_start + L - 1 are
    repeated right after, at first_start + L .. first_start + 2L - 1 (L = span_length).

    Token j of the second copy (at first_start + L + j) should look at first_start + j + 1, the
    token after its first occurrence; the score is the mean of those weights over j < L - 1.
    """
    second_start = first_start + span_length
    if span_length < 2 or second_start + span_length > probs.size(-2):
        raise ValueError("the repeated span must have at least 2 tokens and fit in the sequence")
    queries = torch.arange(second_start, second_start + span_length - 1, device=probs.device)
    keys = queries - span_length + 1
    return probs[:, queries, keys].mean(-1)


def share_on_keys(probs: torch.Tensor, queries: list[int], keys: list[int]) -> torch.Tensor:
    """(H, T, T) -> (H,): the mean over `queries` of the attention mass on `keys`."""
    if not queries or not keys:
        raise ValueError("share_on_keys needs at least one query and one key")
    rows = probs[:, queries]  # (H, Q, T)
    return rows[:, :, keys].sum(-1).mean(-1)


def head_scores_on(model: GPT, spans: list[list[int]]) -> dict[str, dict[str, list[float]]]:
    """For each self-attention site of a GPT: every head's induction and previous-token score,
    averaged over sequences `<s> span span`, one per span (each at least 2 tokens)."""
    device = next(model.parameters()).device
    totals: dict[str, dict[str, torch.Tensor]] = {}
    for span in spans:
        ids = [model.config.bos_id, *span, *span]
        with torch.inference_mode():
            trace = AttentionTrace()
            model.decode(torch.tensor([ids], device=device), trace=trace)
        for name, probs in trace.probs.items():
            site = totals.setdefault(name, {"induction": 0, "previous_token": 0})
            site["induction"] = site["induction"] + induction_score(probs, 1, len(span))
            site["previous_token"] = site["previous_token"] + previous_token_score(probs)
    return {
        name: {kind: (total / len(spans)).tolist() for kind, total in site.items()}
        for name, site in totals.items()
    }


def random_spans(vocab_size: int, span_length: int, samples: int, seed: int = 0) -> list[list[int]]:
    """`samples` spans of `span_length` random ordinary tokens."""
    generator = torch.Generator().manual_seed(seed)
    return [
        torch.randint(FIRST_ORDINARY_ID, vocab_size, (span_length,), generator=generator).tolist()
        for _ in range(samples)
    ]


def text_spans(ids: list[list[int]], span_length: int, samples: int) -> list[list[int]]:
    """`samples` spans of `span_length` tokens of real text: tokenized sentences (`ids`, each
    without <s>) laid end to end and cut into pieces."""
    stream = [token for sentence in ids for token in sentence]
    count = min(samples, len(stream) // span_length)
    return [stream[i * span_length : (i + 1) * span_length] for i in range(count)]


def head_score_table(
    model: GPT, vocab_size: int, span_length: int = 20, samples: int = 16, seed: int = 0
) -> dict[str, dict[str, list[float]]]:
    """Every head's induction and previous-token score on random tokens shown twice."""
    return head_scores_on(model, random_spans(vocab_size, span_length, samples, seed))
