"""The pieces of the paper's figure: embeddings with sinusoidal positions, feed-forward, blocks.

Post-norm, as in "Attention Is All You Need" and its diagram: x = LayerNorm(x + Sublayer(x)),
the "Add & Norm" boxes.
"""

import math

import torch
from torch import nn

from model.attention import MultiHeadAttention, dropped
from model.cache import KVCache
from model.trace import AttentionTrace


def positional_encoding(max_len: int, d_model: int) -> torch.Tensor:
    """(max_len, d_model) table: PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(...).

    A plain function, so the page can plot the same table the model adds to its embeddings.
    """
    position = torch.arange(max_len, dtype=torch.float32)[:, None]  # (T, 1)
    div_term = torch.exp(
        torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model)
    )  # (D/2,)
    table = torch.zeros(max_len, d_model)
    table[:, 0::2] = torch.sin(position * div_term)
    table[:, 1::2] = torch.cos(position * div_term)
    return table


class Embedding(nn.Module):
    """Token embedding scaled by √d_model, plus the fixed sinusoidal position of each token.

    `name` (`encoder.embed`, `decoder.embed`) is where a trace that keeps intermediates finds
    the two parts and their sum.
    """

    def __init__(
        self, vocab_size: int, d_model: int, max_len: int, dropout: float, name: str = "embed"
    ) -> None:
        super().__init__()
        self.name = name
        self.d_model = d_model
        self.tokens = nn.Embedding(vocab_size, d_model)
        self.register_buffer("positions", positional_encoding(max_len, d_model), persistent=False)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        ids: torch.Tensor,
        start: int | torch.Tensor = 0,
        trace: AttentionTrace | None = None,
    ) -> torch.Tensor:
        """ids (B, T) at positions start..start+T-1 -> (B, T, D). `start` is one int for the
        whole batch, or a (B, 1) tensor when the rows of a batch are at different positions."""
        t = ids.size(1)
        last = start + t if isinstance(start, int) else int(start.max()) + t
        if last > self.positions.size(0):
            raise ValueError(
                f"sequence of {last} tokens is longer than max_len {self.positions.size(0)}"
            )
        tokens = self.tokens(ids) * math.sqrt(self.d_model)  # (B, T, D)
        if isinstance(start, int):
            positions = self.positions[start : start + t][None]  # (1, T, D)
        else:
            positions = self.positions[start + torch.arange(t, device=ids.device)]  # (B, T, D)
        x = dropped(self.dropout, tokens + positions)
        if trace is not None:
            trace.keep(self.name, tokens=tokens, positions=positions, out=x)
        return x


class FeedForward(nn.Module):
    """Position-wise feed-forward: the same two-layer ReLU network applied to every token.

    No dropout inside (the paper has none there); the block applies it to the output. Dropout
    masks cost a quarter of a CPU training step, so each one must earn its place.
    """

    def __init__(self, d_model: int, d_ff: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_model, d_ff), nn.ReLU(), nn.Linear(d_ff, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def add_norm(
    x: torch.Tensor,
    sublayer_out: torch.Tensor,
    norm: nn.LayerNorm,
    dropout: nn.Dropout,
    name: str,
    trace: AttentionTrace | None,
) -> torch.Tensor:
    """The figure's "Add & Norm" box: LayerNorm(x + Sublayer(x)). A trace that keeps
    intermediates gets `{name}.out` (the sublayer's), `.resid` (the sum) and `.norm`."""
    resid = x + dropped(dropout, sublayer_out)
    out = norm(resid)
    if trace is not None:
        trace.keep(name, out=sublayer_out, resid=resid, norm=out)
    return out


class EncoderBlock(nn.Module):
    """Self-attention over the source, Add & Norm, feed-forward, Add & Norm."""

    def __init__(self, layer: int, d_model: int, n_heads: int, d_ff: int, dropout: float) -> None:
        super().__init__()
        self.self_attn = MultiHeadAttention(f"encoder.{layer}.self", d_model, n_heads, dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.ffn = FeedForward(d_model, d_ff)
        self.ffn_name = f"encoder.{layer}.ffn"
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, x: torch.Tensor, src_mask: torch.Tensor | None, trace: AttentionTrace | None = None
    ) -> torch.Tensor:
        attended = self.self_attn(x, x, src_mask, trace)
        x = add_norm(x, attended, self.norm1, self.dropout, self.self_attn.name, trace)
        return add_norm(x, self.ffn(x), self.norm2, self.dropout, self.ffn_name, trace)


class DecoderBlock(nn.Module):
    """Masked self-attention, Add & Norm, [cross-attention, Add & Norm,] feed-forward, Add & Norm.

    Without cross-attention this is a GPT block: GPT is the Transformer's decoder alone.
    """

    def __init__(
        self, layer: int, d_model: int, n_heads: int, d_ff: int, dropout: float, cross: bool
    ) -> None:
        super().__init__()
        self.self_attn = MultiHeadAttention(f"decoder.{layer}.self", d_model, n_heads, dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.cross_attn = (
            MultiHeadAttention(f"decoder.{layer}.cross", d_model, n_heads, dropout)
            if cross
            else None
        )
        self.norm2 = nn.LayerNorm(d_model) if cross else None
        self.ffn = FeedForward(d_model, d_ff)
        self.ffn_name = f"decoder.{layer}.ffn"
        self.norm3 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        x: torch.Tensor,
        tgt_mask: torch.Tensor | None,
        memory: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
        trace: AttentionTrace | None = None,
        cache: KVCache | None = None,
    ) -> torch.Tensor:
        attended = self.self_attn(x, x, tgt_mask, trace, cache)
        x = add_norm(x, attended, self.norm1, self.dropout, self.self_attn.name, trace)
        if self.cross_attn is not None and self.norm2 is not None:
            if memory is None:
                raise ValueError("an encoder-decoder block needs the encoder output (memory)")
            attended = self.cross_attn(x, memory, memory_mask, trace, cache)
            x = add_norm(x, attended, self.norm2, self.dropout, self.cross_attn.name, trace)
        return add_norm(x, self.ffn(x), self.norm3, self.dropout, self.ffn_name, trace)
