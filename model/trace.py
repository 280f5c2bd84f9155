"""Per-call records of what the model did, passed down `forward` instead of kept on modules.

One model serves many requests at once, so nothing about a single call may live on a module.
`AttentionTrace` collects attention probabilities by site name (TransformerLens-style names,
without its global hooks); `KVCache` keeps keys and values between decoding steps.
"""

from dataclasses import dataclass, field

import torch


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
