"""Model hyper-parameters, as one frozen dataclass (the way nanoGPT's GPTConfig reads)."""

from dataclasses import asdict, dataclass
from typing import Any, Literal

Architecture = Literal["encoder-decoder", "decoder-only"]


@dataclass(frozen=True)
class TransformerConfig:
    src_vocab_size: int = 0  # 0 for a decoder-only model, which has no source side
    tgt_vocab_size: int = 8000
    architecture: Architecture = "encoder-decoder"
    d_model: int = 256  # width of every token vector
    n_heads: int = 4  # d_head = d_model // n_heads
    n_encoder_layers: int = 3
    n_decoder_layers: int = 3
    d_ff: int = 1024  # inner width of the position-wise feed-forward
    dropout: float = 0.1
    max_len: int = 256  # longest sequence the positional table covers
    tie_embeddings: bool = True  # target embedding doubles as the output projection
    pad_id: int = 0
    bos_id: int = 1
    eos_id: int = 2

    def __post_init__(self) -> None:
        if self.d_model % self.n_heads != 0:
            raise ValueError(f"d_model {self.d_model} is not divisible by n_heads {self.n_heads}")
        if self.architecture == "encoder-decoder" and self.src_vocab_size <= 0:
            raise ValueError("an encoder-decoder model needs src_vocab_size > 0")

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TransformerConfig":
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        return cls(**known)
