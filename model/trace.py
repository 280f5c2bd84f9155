"""A per-call record of what the model attended to, passed down `forward`, never kept on modules.

One model serves many requests at once, so nothing about a single call may live on a module.
`AttentionTrace` collects attention probabilities by site name (TransformerLens-style names,
without its global hooks), and, when asked, every intermediate of the forward pass as well.
"""

from dataclasses import dataclass, field

import torch
from torch.nn import functional as F


@dataclass
class AttentionTrace:
    """Attention probabilities (after softmax, before dropout) of one sequence, by site name.

    Each entry has shape (H, Tq, Tk). Sites record in the order the forward pass visits them.

    `activations` is None unless the caller wants the intermediates too (`AttentionTrace(
    activations={})`): then every module keeps what it computed under a dotted name below its
    own, `decoder.1.cross.q`, `encoder.0.ffn.norm` (tests/model/test_inside.py lists them all).
    """

    probs: dict[str, torch.Tensor] = field(default_factory=dict)
    activations: dict[str, torch.Tensor] | None = None

    def record(self, name: str, probs: torch.Tensor) -> None:
        if probs.dim() != 4 or probs.size(0) != 1:
            raise ValueError(
                f"{name}: a trace holds one sequence, got probs of shape {tuple(probs.shape)}"
            )
        self.probs[name] = probs[0].detach()

    def keep(self, owner: str, **tensors: torch.Tensor) -> None:
        """Keep intermediates as `{owner}.{part}`, batch dimension dropped, if this trace keeps
        them at all (a plain trace ignores this)."""
        if self.activations is None:
            return
        for part, tensor in tensors.items():
            if tensor.size(0) != 1:
                raise ValueError(f"{owner}.{part}: a trace holds one sequence, got {tensor.shape}")
            self.activations[f"{owner}.{part}"] = tensor[0].detach()

    @classmethod
    def joined(cls, parts: "list[AttentionTrace]") -> "AttentionTrace":
        """One trace from the traces of successive cached decoding steps (and, first, the encoder).

        Step t adds query rows whose self-attention sees t more keys than the step before; the
        earlier rows are padded with zeros, which is what the causal mask gives them anyway. The
        result equals one traced pass over the whole sequence (tests/model/test_decoding.py).
        """
        rows: dict[str, list[torch.Tensor]] = {}
        for part in parts:
            for name, probs in part.probs.items():
                rows.setdefault(name, []).append(probs)
        joined = cls()
        for name, pieces in rows.items():
            width = pieces[-1].size(-1)  # (H, Tq, Tk): the last step sees every key
            padded = [F.pad(piece, (0, width - piece.size(-1))) for piece in pieces]
            joined.probs[name] = torch.cat(padded, dim=1)
        return joined

    def names(self) -> list[str]:
        return list(self.probs)

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.probs[name]


@dataclass
class BatchTrace(AttentionTrace):
    """Attention probabilities of a batch of sequences decoded together, by site name.

    Entries keep the batch dimension, (B, H, Tq, Tk), padding included: the caller knows each
    row's lengths, and `crop()` cuts one sequence's matrix out. Intermediates are not kept.
    """

    def record(self, name: str, probs: torch.Tensor) -> None:
        if probs.dim() != 4:
            raise ValueError(f"{name}: expected probs (B, H, Tq, Tk), got {tuple(probs.shape)}")
        self.probs[name] = probs.detach()

    def keep(self, owner: str, **tensors: torch.Tensor) -> None:
        """A batch keeps no intermediates (one sequence's, traced alone, are what a reader
        opens)."""

    def crop(self, name: str, index: int, queries: int, keys: int) -> torch.Tensor:
        """Row `index` of site `name`, its first `queries` query rows and `keys` keys:
        (H, queries, keys), a tensor of its own (not a view that keeps the batch alive)."""
        return self.probs[name][index, :, :queries, :keys].clone()
