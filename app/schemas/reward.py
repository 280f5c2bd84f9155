"""The reward model's request and response (/api/reward): a request and an answer in, a score
and the reward model's attention out."""

from pydantic import BaseModel, Field, field_validator, model_validator

from app.schemas.requests import MAX_PROMPT_CHARS, MAX_TEXT_CHARS, examples, not_blank, text_field
from app.schemas.responses import AttentionMap, Role


class RewardRequest(BaseModel):
    """A request and an answer for the reward model to score."""

    model_config = examples(
        {"prompt": "把这句话翻译成英文。", "input": "我有一只猫。", "answer": "I have a cat."}
    )

    model: str | None = Field(None, description="a reward model's name; default the first")
    prompt: str = text_field(MAX_PROMPT_CHARS, "the instruction", "把这句话翻译成英文。")
    input: str | None = Field(
        None, max_length=MAX_PROMPT_CHARS, description="the input line, when the request has one"
    )
    answer: str = Field(max_length=MAX_TEXT_CHARS, description="the answer to score")

    @field_validator("prompt")
    @classmethod
    def prompt_not_blank(cls, prompt: str) -> str:
        return not_blank(prompt, "prompt is empty; type an instruction")


class RewardResponse(BaseModel):
    """The reward model's score of one answer, and its attention over what it read."""

    model: str
    reward: float = Field(description="the scalar head's output at </s>; higher is better")
    tokens: list[str] = Field(description="what it read: <s>, the request, the answer, </s>")
    roles: list[Role] = Field(description="one per token: start, instruction, input, answer")
    attention: list[AttentionMap] = Field(description="`decoder.{i}.self` sites over `tokens`")
    timing_ms: dict[str, float]

    @model_validator(mode="after")
    def one_role_per_token(self) -> "RewardResponse":
        if len(self.roles) != len(self.tokens):
            raise ValueError("roles do not match the tokens")
        return self
