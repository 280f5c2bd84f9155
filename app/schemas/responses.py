"""The API's responses: each says exactly what it holds.

Weights are nested lists [head][query][key] whose sizes are checked against the token lists;
in the server they are held as tensors until written (app/weights.py).
"""

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from app.schemas.requests import MAX_BEAM_SIZE, MAX_NEW_TOKENS, MAX_PROMPT_CHARS, MAX_TEXT_CHARS
from app.weights import AttentionWeights


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
    weights: AttentionWeights = Field(description="[head][query][key], rows sum to 1")

    @model_validator(mode="after")
    def sizes_match_tokens(self) -> "AttentionMap":
        _, queries, keys = self.weights.shape
        if (queries, keys) != (len(self.query_tokens), len(self.key_tokens)):
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
    notes: list[str] = Field(
        default_factory=list,
        description="remarks in words when the answer cannot be trusted: a text in the other "
        "language, characters the model never saw, an answer cut at a limit before it ended; "
        "empty when there are none",
    )


# A few-shot prompt's roles (model/prompts.py), and a chat template's (model/chat.py).
Role = Literal["start", "demonstration", "query", "instruction", "input", "answer"]
Stage = Literal["base", "sft", "reward", "rlhf"]


class GenerateResponse(TranslateResponse):
    """A GPT's answer in the translate shape (`source_tokens` empty, `decoder.{i}.self` sites
    only), plus the role of every position the decoder read."""

    prompt: str = Field(description="the prompt the model read, demonstrations included")
    prompt_tokens: list[str]
    roles: list[Role] = Field(
        description="one per decoder position: <s>, the demonstration lines, the query line, "
        "then the answer so far; with a chat template <s>, the instruction, the input, then "
        "the answer (its marker, then what the model wrote)"
    )
    demonstration_share: dict[str, list[float]] = Field(
        description="per site, per head: the mean share of attention that the positions "
        "producing the answer give to the demonstrations"
    )


class LearnResponse(BaseModel):
    """The same demonstrations learned two ways: read in the prompt, or trained into a copy of
    the weights (which then answers the query alone)."""

    in_prompt: GenerateResponse = Field(description="the GPT answering the whole prompt")
    in_weights: GenerateResponse = Field(
        description="a copy of the GPT after `steps` gradient steps on the demonstrations, "
        "answering the query line alone"
    )
    steps: int
    learning_rate: float
    losses: list[float] = Field(description="the copy's loss on the demonstrations, per step")
    timing_ms: dict[str, float]


class HeadScores(BaseModel):
    """What each GPT head does, in one layer × head table per score (model/scores.py)."""

    model: str
    span_length: int = Field(description="tokens in the random span, shown twice after <s>")
    samples: int = Field(description="random spans averaged over")
    induction: dict[str, list[float]] = Field(
        description="per site, per head: attention from the second copy to the token after "
        "the first occurrence"
    )
    previous_token: dict[str, list[float]] = Field(
        description="per site, per head: attention to the token just before"
    )
    induction_on_text: dict[str, dict[str, list[float]]] = Field(
        default_factory=dict,
        description="the induction score on real text shown twice, by language (`zh`, `en`): "
        "spans of the sentences in the model's demonstration pool; empty without a pool",
    )


class ModelInfo(BaseModel):
    name: str
    architecture: Literal["encoder-decoder", "decoder-only"]
    stage: Stage = Field(
        description="the step of training that made it: a translator or a GPT is base; a "
        "reward model (stage reward) is served only by /api/reward"
    )
    trained_from: str | None = Field(
        None,
        description="the shipped checkpoint this stage was trained from (sft from gpt, reward "
        "and rlhf from sft); null for a base model",
    )
    source_language: str | None
    target_language: str
    n_layers: int
    n_heads: int
    d_model: int
    parameters: int
    metrics: dict[str, float | str]
    max_text_chars: int = MAX_TEXT_CHARS
    max_prompt_chars: int = MAX_PROMPT_CHARS
    max_new_tokens: int = MAX_NEW_TOKENS
    max_beam_size: int = MAX_BEAM_SIZE


class PositionalEncoding(BaseModel):
    d_model: int
    values: list[list[float]] = Field(description="[position][dimension], in [-1, 1]")


class Problem(BaseModel):
    """Every error body: `detail` is a sentence a person can act on."""

    detail: str
    errors: list[dict] | None = None
