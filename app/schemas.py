"""The JSON contract of the API: requests are strict, responses say exactly what they hold.

Limits are Field constraints so they appear in the OpenAPI schema and give a 422 by themselves.
The limits a deployment sets (text length, tokens, beam size) come from Settings: `limited()`
makes the request models with those numbers when the app is built.
Weights are nested lists [head][query][key] whose sizes are checked against the token lists.
"""

from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from app.settings import Settings
from model.decoding import MIN_TEMPERATURE

DEFAULTS = Settings.model_fields
MAX_TEXT_CHARS = DEFAULTS["max_text_chars"].default
MAX_NEW_TOKENS = DEFAULTS["max_new_tokens"].default
MAX_BEAM_SIZE = DEFAULTS["max_beam_size"].default

Strategy = Literal["greedy", "beam", "sample"]

# "Has a character that str.strip() keeps": the schema's pattern for text, built from the same
# definition of whitespace as the check in Python, so a fuzzer and the server agree on "empty".
WHITESPACE = "".join(f"\\u{code:04x}" for code in range(0x3000 + 1) if chr(code).isspace())
NOT_BLANK = f"[^{WHITESPACE}]"


class DecodingFields(BaseModel):
    """Decoding settings shared by translate (and, later, generate)."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(None, description="a name from GET /api/models; default first")
    strategy: Strategy = "greedy"
    max_new_tokens: int = Field(64, ge=1, le=MAX_NEW_TOKENS, description="tokens, with </s>")
    beam_size: int = Field(4, ge=1, le=MAX_BEAM_SIZE, description="beam search only")
    temperature: float = Field(1.0, ge=MIN_TEMPERATURE, le=5, description="sampling only")
    top_k: int = Field(0, ge=0, le=1000, description="sampling only; 0 = no cut")
    top_p: float = Field(1.0, gt=0, le=1, description="sampling only; 1 = no cut")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="sampling only")
    top_n: int = Field(5, ge=1, le=20, description="candidates recorded per step")


class TranslateRequest(DecodingFields):
    text: str = Field(
        max_length=MAX_TEXT_CHARS,
        description="the sentence to translate (not only whitespace)",
        examples=["我有一只猫。"],
        json_schema_extra={"pattern": NOT_BLANK},  # checked by not_blank(), in words
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "我有一只猫。"},
                {"text": "I have a cat.", "model": "en-zh", "strategy": "beam", "beam_size": 4},
            ]
        },
    )

    @field_validator("text")
    @classmethod
    def not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("text is empty; type a sentence to translate")
        return text


class Candidate(BaseModel):
    token: str
    prob: float


class Step(BaseModel):
    index: int
    token: str
    token_id: int
    prob: float
    candidates: list[Candidate]


class AttentionMap(BaseModel):
    name: str = Field(examples=["decoder.0.cross"])
    stack: Literal["encoder", "decoder"]
    layer: int
    kind: Literal["self", "cross"]
    query_tokens: list[str]
    key_tokens: list[str]
    weights: list[list[list[float]]] = Field(description="[head][query][key], rows sum to 1")

    @model_validator(mode="after")
    def sizes_match_tokens(self) -> "AttentionMap":
        for head in self.weights:
            if len(head) != len(self.query_tokens) or any(
                len(row) != len(self.key_tokens) for row in head
            ):
                raise ValueError(f"{self.name}: weights do not match the token lists")
        return self


class TranslateResponse(BaseModel):
    model: str
    source_tokens: list[str]
    target_tokens: list[str] = Field(description="one per step, </s> included when produced")
    translation: str
    steps: list[Step]
    attention: list[AttentionMap]
    timing_ms: dict[str, float]


class ModelInfo(BaseModel):
    name: str
    architecture: Literal["encoder-decoder", "decoder-only"]
    source_language: str | None
    target_language: str
    n_layers: int
    n_heads: int
    d_model: int
    parameters: int
    metrics: dict[str, float | str]
    max_text_chars: int = MAX_TEXT_CHARS
    max_new_tokens: int = MAX_NEW_TOKENS
    max_beam_size: int = MAX_BEAM_SIZE


class PositionalEncoding(BaseModel):
    d_model: int
    values: list[list[float]] = Field(description="[position][dimension], in [-1, 1]")


class Problem(BaseModel):
    """Every error body: `detail` is a sentence a person can act on."""

    detail: str
    errors: list[dict] | None = None


Request = TypeVar("Request", bound=DecodingFields)


def limited(model: type[Request], settings: Settings) -> type[Request]:
    """`model` with this deployment's limits, so the OpenAPI schema states what the 422s enforce.

    Defaults shrink with the limits (max_new_tokens 64 becomes 32 where the limit is 32)."""
    caps = {"max_new_tokens": settings.max_new_tokens, "beam_size": settings.max_beam_size}
    overrides: dict = {}
    for name, cap in caps.items():
        base = model.model_fields[name]
        overrides[name] = (
            int,
            Field(min(base.default, cap), ge=1, le=cap, description=base.description),
        )
    text = model.model_fields.get("text")
    if text is not None:
        overrides["text"] = (
            str,
            Field(
                max_length=settings.max_text_chars,
                description=text.description,
                examples=text.examples,
                json_schema_extra=text.json_schema_extra,
            ),
        )
    return create_model(model.__name__, __base__=model, __doc__=model.__doc__, **overrides)
