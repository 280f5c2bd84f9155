"""Per-call records of what the model did, passed down `forward` instead of kept on modules.

One model serves many requests at once, so nothing about a single call may live on a module.
`AttentionTrace` collects attention probabilities by site name (TransformerLens-style names,
without its global hooks); `KVCache` keeps keys and values between decoding steps.
"""

from dataclasses import dataclass, field

import torch
from torch.nn import functional as F


@dataclass
class AttentionTrace:
    """Attention probabilities (after softmax, before dropout) of one sequence, by site name.

    Each entry has shape (H, Tq, Tk). Sites record in the order the forward pass visits them.
    """

    probs: dict[str, torch.Tensor] = field(default_factory=dict)

    def record(self, name: str, probs: torch.Tensor) -> None:
        if probs.dim() != 4 or probs.size(0) != 1:
            raise ValueError(
                f"{name}: a trace holds one sequence, got probs of shape {tuple(probs.shape)}"
            )
        self.probs[name] = probs[0].detach()

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
class KVCache:
    """Keys and values per attention site, so each decoding step only computes its new token.

    Self-attention sites grow by one position per step; cross-attention sites are computed from
    the encoder output once and then reused. Tensors are (B, H, T, Dh).
    """

    entries: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)

    def get(self, name: str) -> tuple[torch.Tensor, torch.Tensor] | None:
        return self.entries.get(name)

    def put(self, name: str, k: torch.Tensor, v: torch.Tensor) -> None:
        self.entries[name] = (k, v)

    def reorder(self, rows: torch.Tensor) -> None:
        """Keep batch rows `rows` (in that order): beam search follows its surviving beams."""
        self.entries = {
            name: (k.index_select(0, rows), v.index_select(0, rows))
            for name, (k, v) in self.entries.items()
        }

    def length(self) -> int:
        """Positions already cached by the self-attention sites (0 before the first step)."""
        for name, (k, _) in self.entries.items():
            if name.endswith(".self"):
                return k.size(2)
        return 0
