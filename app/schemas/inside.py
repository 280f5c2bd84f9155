"""Inside one attention head, and the logit lens: their requests and responses.

Both take what /api/translate takes (`text`) or what /api/generate takes (`prompt`), decode it
the same way, and then open one forward pass over what was decoded.
"""

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from app.schemas.requests import (
    MAX_PROMPT_CHARS,
    MAX_TEXT_CHARS,
    NOT_BLANK,
    ChatFields,
    DecodingFields,
    Demonstrations,
    number_only,
)
from app.schemas.responses import Candidate

SITE_PATTERN = r"^(encoder|decoder)\.[0-9]{1,2}\.(self|cross)$"
MAX_HEADS = 64  # more than any model here has; the model's own count gives the 422
MAX_QUERY = 4095


def optional_text(limit: int, description: str) -> object:
    return Field(
        None,
        max_length=limit,
        description=f"{description} (not only whitespace)",
        json_schema_extra={"pattern": NOT_BLANK},
    )


def one_of_text_or_prompt(*bodies: dict) -> ConfigDict:
    """Strict, with examples, and the schema saying what the validator checks: `text` or
    `prompt` (exactly one), and `demonstrations`, `template` and `input` never beside `text`."""
    rule = {
        "oneOf": [{"required": ["text"]}, {"required": ["prompt"]}],
        "not": {
            "anyOf": [
                {"required": ["text", "demonstrations"]},
                {"required": ["text", "template"]},
                {"required": ["text", "input"]},
            ]
        },
        "examples": list(bodies),
    }
    return ConfigDict(extra="forbid", json_schema_extra=rule)


class LensRequest(DecodingFields, ChatFields):
    """A sentence for a translation model (`text`) or a prompt for a GPT (`prompt`): one of
    the two, decoded as /api/translate or /api/generate decodes it."""

    # Absent rather than null: the schema's `oneOf` counts the fields sent.
    text: str | SkipJsonSchema[None] = optional_text(
        MAX_TEXT_CHARS, "a sentence to translate, as /api/translate"
    )
    prompt: str | SkipJsonSchema[None] = optional_text(
        MAX_PROMPT_CHARS, "a prompt for a GPT, as /api/generate"
    )
    demonstrations: Demonstrations | None = Field(None, description="with `prompt` only")
    stop_at_line_end: bool = Field(True, description="with `prompt` only")

    model_config = one_of_text_or_prompt({"text": "我有一只猫。"}, {"prompt": "我有一只猫。 =>"})

    @field_validator("stop_at_line_end", mode="before")
    @classmethod
    def true_or_false(cls, value: object) -> object:
        if not isinstance(value, bool):
            raise ValueError(f"stop_at_line_end must be true or false, not {json.dumps(value)}")
        return value

    @model_validator(mode="before")
    @classmethod
    def text_or_prompt(cls, data: Any) -> Any:
        """What was sent, as the schema's rule counts it: present fields, null or not."""
        if not isinstance(data, dict):
            return data
        sent = [name for name in ("text", "prompt") if name in data]
        if len(sent) != 1:
            raise ValueError(
                "send either text (a sentence for a translation model) or prompt (for a GPT)"
            )
        if not isinstance(data[sent[0]], str):
            raise ValueError(f"{sent[0]} must be a string, not {json.dumps(data[sent[0]])}")
        if not data[sent[0]].strip():
            raise ValueError(f"{sent[0]} is empty; type something for the model to read")
        beside_text = [name for name in ("demonstrations", "template", "input") if name in data]
        if "text" in data and beside_text:
            raise ValueError(f"{beside_text[0]} goes with a GPT's prompt, not with text")
        return data


class InsideRequest(LensRequest):
    """One cell of a heatmap: the site, the head and the query row, as /api/translate's
    `attention` holds them (encoder rows: source tokens; decoder rows: the tokens fed in)."""

    site: str = Field(
        max_length=20, pattern=SITE_PATTERN, examples=["decoder.0.cross"], description="a site"
    )
    head: int = Field(0, ge=0, le=MAX_HEADS - 1, description="an index into the site's heads")
    query: int = Field(0, ge=0, le=MAX_QUERY, description="an index into the site's rows")

    model_config = one_of_text_or_prompt(
        {"text": "我有一只猫。", "site": "decoder.1.cross", "head": 2, "query": 3},
        {"prompt": "我有一只猫。 =>", "site": "decoder.0.self", "head": 0, "query": 5},
    )

    @field_validator("head", "query", mode="before")
    @classmethod
    def numbers_only_here(cls, value: object, info: ValidationInfo) -> object:
        return number_only(value, info)


Vector = list[float]


class InsideResponse(BaseModel):
    """Every number of one query's attention in one head, in the order the model computes it.
    D is d_model, Dh d_head, Tk the number of keys."""

    model: str
    site: str
    head: int
    query: int
    d_model: int
    d_head: int
    query_tokens: list[str] = Field(description="every row of the site; `query` indexes it")
    query_token: str
    key_tokens: list[str] = Field(description="Tk tokens: the keys and values")
    x: Vector = Field(description="(D) the query's input to the site")
    token_embedding: Vector | None = Field(
        description="(D) x's first part, the token's vector × √d_model; only where x is the "
        "embedding (self-attention of layer 0), else null"
    )
    positional_encoding: Vector | None = Field(description="(D) x's second part, or null")
    q: Vector = Field(description="(Dh) x W_Q + b, this head's slice")
    k: list[Vector] = Field(description="(Tk, Dh) one key per key token")
    v: list[Vector] = Field(description="(Tk, Dh) one value per key token")
    scores: Vector = Field(description="(Tk) q · k_j")
    scaled: Vector = Field(description="(Tk) scores ÷ √d_head")
    masked: list[float | None] = Field(description="(Tk) scaled, null where the mask hides it")
    probs: Vector = Field(description="(Tk) softmax(masked): the row the heatmap draws")
    z: Vector = Field(description="(Dh) Σ_j probs_j v_j")
    heads_z: Vector = Field(description="(D) every head's z for this query, joined")
    output: Vector = Field(description="(D) heads_z W_O + b: the attention's output")
    residual: Vector = Field(description="(D) x + output")
    norm: Vector = Field(description="(D) LayerNorm(residual): Add & Norm")
    feed_forward: Vector = Field(description="(D) the block's feed-forward output here")
    feed_forward_residual: Vector = Field(description="(D) its input + its output")
    feed_forward_norm: Vector = Field(description="(D) LayerNorm of that: the block's output")
    timing_ms: dict[str, float]

    @model_validator(mode="after")
    def sizes_match(self) -> "InsideResponse":
        keys, d, dh = len(self.key_tokens), self.d_model, self.d_head
        rows = [("scores", self.scores), ("scaled", self.scaled), ("masked", self.masked)]
        rows += [("probs", self.probs), ("k", self.k), ("v", self.v)]
        wide = [self.x, self.heads_z, self.output, self.residual, self.norm, self.feed_forward]
        if (
            any(len(row) != keys for _, row in rows)
            or any(len(vector) != dh for vector in [self.q, self.z, *self.k, *self.v])
            or any(len(vector) != d for vector in wide)
        ):
            raise ValueError(f"{self.site}: the numbers do not match the token lists")
        return self


class LensLayer(BaseModel):
    layer: str = Field(examples=["decoder.embed", "decoder.0"])
    top: list[Candidate]


class LensStep(BaseModel):
    index: int
    token: str = Field(description="what the step chose")
    layers: list[LensLayer] = Field(description="the embedding's, then each layer's, top tokens")


class LogitLensResponse(BaseModel):
    """What the output layer would predict from the embedding and from each decoder layer's
    output, at every decoding step; the last layer's are the step's own candidates."""

    model: str
    layers: list[str] = Field(description="`decoder.embed`, then `decoder.0`, `decoder.1`, ...")
    steps: list[LensStep]
    timing_ms: dict[str, float]
