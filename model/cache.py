"""Keys and values kept between decoding steps, passed down `forward` like the trace."""

from dataclasses import dataclass, field

import torch


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
        """Keep batch rows `rows` (in that order): beam search follows its surviving beams, and
        batched decoding drops the rows that have finished."""
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
