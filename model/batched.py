"""Decoding many sources at once, untraced: for evaluation and the CLI, where only the words
matter and one padded batch is several times faster than one source at a time."""

import torch

from model.cache import KVCache
from model.decoding import device_of
from model.transformer import Seq2Seq


@torch.inference_mode()
def greedy_batch(
    model: Seq2Seq, sources: list[list[int]], max_new_tokens: int | list[int] = 64
) -> list[list[int]]:
    """Greedy outputs (without </s>) for many sources at once, untraced: for evaluation and the CLI.

    Sources are padded into one batch; finished rows keep running (cheaply) until all are done.
    `max_new_tokens` is one limit for all, or one per source (so that a source's output does
    not depend on the batch it happens to be in).
    """
    c = model.config
    limits = [max_new_tokens] * len(sources) if isinstance(max_new_tokens, int) else max_new_tokens
    if len(limits) != len(sources) or min(limits) < 1:
        raise ValueError("max_new_tokens needs one limit of at least 1 per source")
    longest = max(len(s) for s in sources)
    device = device_of(model)
    src = torch.full((len(sources), longest), c.pad_id)
    for row, ids in enumerate(sources):
        src[row, : len(ids)] = torch.tensor(ids)
    memory, memory_mask = model.encode(src.to(device))
    cache = KVCache()
    tokens = torch.full((len(sources), 1), c.bos_id, device=device)
    done = torch.zeros(len(sources), dtype=torch.bool, device=device)
    produced: list[torch.Tensor] = []
    limit = torch.tensor(limits, device=device)
    for step in range(min(max(limits), c.max_len)):
        logits = model.decode(tokens, memory, memory_mask, cache=cache)[:, -1]  # (B, V)
        tokens = logits.argmax(-1, keepdim=True).masked_fill(done[:, None], c.pad_id)  # (B, 1)
        produced.append(tokens)
        done |= (tokens[:, 0] == c.eos_id) | (limit <= step + 1)
        if done.all():
            break
    outputs: list[list[int]] = []
    for row in torch.cat(produced, dim=1).tolist():
        if c.eos_id in row:
            row = row[: row.index(c.eos_id)]
        outputs.append([t for t in row if t != c.pad_id])
    return outputs
