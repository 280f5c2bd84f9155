"""The encoder-decoder Transformer, and GPT: the same decoder without the encoder.

`encode()` and `decode()` are separate (as in the Annotated Transformer) so that decoding runs
the encoder once and then calls the decoder step by step with a key/value cache.
"""

import torch
from torch import nn

from model.attention import causal_mask
from model.cache import KVCache
from model.config import TransformerConfig
from model.layers import DecoderBlock, Embedding, EncoderBlock
from model.trace import AttentionTrace


def padding_mask(ids: torch.Tensor, pad_id: int) -> torch.Tensor:
    """(B, 1, 1, T) mask that hides padding keys from every query."""
    return (ids != pad_id)[:, None, None, :]


class Encoder(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        c = config
        self.embed = Embedding(c.src_vocab_size, c.d_model, c.max_len, c.dropout, "encoder.embed")
        self.blocks = nn.ModuleList(
            EncoderBlock(i, c.d_model, c.n_heads, c.d_ff, c.dropout)
            for i in range(c.n_encoder_layers)
        )

    def forward(
        self, src: torch.Tensor, src_mask: torch.Tensor | None, trace: AttentionTrace | None = None
    ) -> torch.Tensor:
        x = self.embed(src, trace=trace)  # (B, Ts, D)
        for block in self.blocks:
            x = block(x, src_mask, trace)
        return x


class Decoder(nn.Module):
    """Target embedding, decoder blocks, and the final linear layer to vocabulary logits."""

    def __init__(self, config: TransformerConfig, cross: bool) -> None:
        super().__init__()
        c = config
        self.embed = Embedding(c.tgt_vocab_size, c.d_model, c.max_len, c.dropout, "decoder.embed")
        self.blocks = nn.ModuleList(
            DecoderBlock(i, c.d_model, c.n_heads, c.d_ff, c.dropout, cross)
            for i in range(c.n_decoder_layers)
        )
        self.lm_head = nn.Linear(c.d_model, c.tgt_vocab_size, bias=False)
        if c.tie_embeddings:
            self.lm_head.weight = self.embed.tokens.weight

    def forward(
        self,
        tgt: torch.Tensor,
        memory: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
        trace: AttentionTrace | None = None,
        cache: KVCache | None = None,
        start: torch.Tensor | None = None,
        key_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """tgt (B, T) -> logits (B, T, V). With a cache, tgt holds only the new positions.

        A batch whose rows are at different positions (prompts of different lengths) passes
        `start`, each row's first position (B, 1), and `key_mask` (B, Tpast + T), False where
        a cached key is padding that its row must not see.
        """
        past = cache.length() if cache is not None else 0
        t = tgt.size(1)
        # (1, 1, T, past + T); one new token may see every key, so it needs no mask.
        mask = causal_mask(t, past + t, tgt.device) if t > 1 else None
        if key_mask is not None:
            keys = key_mask[:, None, None, :]  # (B, 1, 1, past + T)
            mask = keys if mask is None else mask & keys  # (B, 1, T, past + T)
        x = self.embed(tgt, past if start is None else start, trace)  # (B, T, D)
        for block in self.blocks:
            x = block(x, mask, memory, memory_mask, trace, cache)
        return self.readout(x)  # (B, T, V)

    def readout(self, x: torch.Tensor) -> torch.Tensor:
        """Vectors (..., D) -> vocabulary logits (..., V): what follows the last block. The logit
        lens reads every layer's output through it."""
        return self.lm_head(x)


def init_weights(module: nn.Module, d_model: int) -> None:
    """Xavier for projections (as the Annotated Transformer); embeddings ~ N(0, 1/d_model)."""
    for name, p in module.named_parameters():
        if name.endswith("tokens.weight"):
            nn.init.normal_(p, mean=0.0, std=d_model**-0.5)
        elif p.dim() > 1:
            nn.init.xavier_uniform_(p)


class Transformer(nn.Module):
    """Encoder-decoder: the encoder reads the source once; the decoder writes the target."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config, cross=True)
        init_weights(self, config.d_model)

    def encode(
        self, src: torch.Tensor, trace: AttentionTrace | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """src (B, Ts) -> (memory (B, Ts, D), src_mask (B, 1, 1, Ts), or None without padding)."""
        src_mask: torch.Tensor | None = padding_mask(src, self.config.pad_id)
        if src_mask.all():
            src_mask = None  # nothing to hide: attention skips the masking
        return self.encoder(src, src_mask, trace), src_mask

    def decode(
        self,
        tgt: torch.Tensor,
        memory: torch.Tensor | None,
        memory_mask: torch.Tensor | None,
        trace: AttentionTrace | None = None,
        cache: KVCache | None = None,
        start: torch.Tensor | None = None,
        key_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Decoder logits (B, T, V); `start` and `key_mask` as Decoder.forward takes them."""
        return self.decoder(tgt, memory, memory_mask, trace, cache, start, key_mask)

    def forward(
        self, src: torch.Tensor, tgt: torch.Tensor, trace: AttentionTrace | None = None
    ) -> torch.Tensor:
        """Teacher forcing: logits (B, Tt, V) for every target position at once."""
        memory, src_mask = self.encode(src, trace)
        return self.decode(tgt, memory, src_mask, trace)


class GPT(nn.Module):
    """Decoder-only: masked self-attention over one sequence; no encoder, no cross-attention."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.decoder = Decoder(config, cross=False)
        init_weights(self, config.d_model)

    def decode(
        self,
        tgt: torch.Tensor,
        memory: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
        trace: AttentionTrace | None = None,
        cache: KVCache | None = None,
        start: torch.Tensor | None = None,
        key_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Decoder logits (B, T, V); `start` and `key_mask` as Decoder.forward takes them."""
        return self.decoder(tgt, None, None, trace, cache, start, key_mask)

    def forward(self, ids: torch.Tensor, trace: AttentionTrace | None = None) -> torch.Tensor:
        return self.decode(ids, trace=trace)


Seq2Seq = Transformer | GPT


def build_model(config: TransformerConfig) -> Seq2Seq:
    if config.architecture == "decoder-only":
        return GPT(config)
    return Transformer(config)


def parameter_count(model: nn.Module) -> int:
    """Distinct parameters (a tied embedding counts once)."""
    return sum(p.numel() for p in model.parameters())
