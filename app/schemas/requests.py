"""The API's requests: strict (unknown fields are refused), every limit a Field constraint.

Limits are Field constraints so they appear in the OpenAPI schema and give a 422 by themselves.
The limits a deployment sets (text length, tokens, beam size, sampling) come from Settings:
`limited()` makes the request models with those numbers when the app is built.
"""

import json
import math
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
)

from app.settings import Settings

LIMITS = Settings.model_construct().decoding_limits()  # the defaults; limited() applies others
MAX_TEXT_CHARS = LIMITS["max_text_chars"]
MAX_PROMPT_CHARS = LIMITS["max_prompt_chars"]
MAX_NEW_TOKENS = LIMITS["max_new_tokens"]
MAX_BEAM_SIZE = LIMITS["max_beam_size"]

Strategy = Literal["greedy", "beam", "sample"]

# "Has a character that str.strip() keeps": the schema's pattern for text, built from the same
# definition of whitespace as the check in Python, so a fuzzer and the server agree on "empty".
WHITESPACE = "".join(f"\\u{code:04x}" for code in range(0x3000 + 1) if chr(code).isspace())
NOT_BLANK = f"[^{WHITESPACE}]"
# A few-shot prompt to learn from: one or more lines `中文 => English` (each side not blank, the
# first => divides them), then the query line. The server checks prompts with this very pattern.
_SIDE = f"(?:(?!=>)[^\\n])*(?!=>){NOT_BLANK}(?:(?!=>)[^\\n])*"
FEW_SHOT = f"^(?:{_SIDE}=>[^\\n]*{NOT_BLANK}[^\\n]*\\n)+[^\\n]*{NOT_BLANK}[^\\n]*$"


MAX_DEMONSTRATIONS = 5
# Learning in the weights: a handful of Adam steps (5 take about 0.25 s), for the schema and
# the page's fields (their ranges and defaults).
LEARNING = {
    "steps": 5,
    "min_steps": 1,
    "max_steps": 20,
    "learning_rate": 1e-3,
    "min_learning_rate": 1e-5,
    "max_learning_rate": 1e-2,
}

NUMBERS = ("max_new_tokens", "beam_size", "temperature", "top_k", "top_p", "seed", "top_n")


class DecodingFields(BaseModel):
    """Decoding settings shared by translate and generate."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(None, description="a name from GET /api/models; default first")
    strategy: Strategy = "greedy"
    max_new_tokens: int = Field(64, ge=1, le=MAX_NEW_TOKENS, description="tokens, with </s>")
    beam_size: int = Field(4, ge=1, le=MAX_BEAM_SIZE, description="beam search only")
    temperature: float = Field(
        1.0,
        ge=LIMITS["min_temperature"],
        le=LIMITS["max_temperature"],
        description="sampling only",
    )
    top_k: int = Field(0, ge=0, le=LIMITS["max_top_k"], description="sampling only; 0 = no cut")
    top_p: float = Field(1.0, ge=LIMITS["min_top_p"], le=1, description="sampling only; 1 = no cut")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="sampling only")
    top_n: int = Field(5, ge=1, le=20, description="candidates recorded per step")

    @field_validator(*NUMBERS, mode="before")
    @classmethod
    def numbers_only(cls, value: object, info: ValidationInfo) -> object:
        return number_only(value, info)


def number_only(value: object, info: ValidationInfo) -> object:
    """`"seed": false` or `"beam_size": "4"` is an error, not a quiet 0 or 4 (JSON's 4.0 is
    still the integer 4, as JSON Schema says)."""
    if isinstance(value, bool | str):
        raise ValueError(f"{info.field_name} must be a number, not {json.dumps(value)}")
    if isinstance(value, float) and not math.isfinite(value):  # JSON's NaN and Infinity
        raise ValueError(f"{info.field_name} must be a finite number, not {value}")
    return value


def text_field(limit: int, description: str, example: str) -> Any:
    """A text field: at most `limit` characters, and not only whitespace (the schema says so
    with a pattern; `not_blank` says so in words)."""
    return Field(
        max_length=limit,
        description=f"{description} (not only whitespace)",
        examples=[example],
        json_schema_extra={"pattern": NOT_BLANK},
    )


def not_blank(value: str, message: str) -> str:
    if not value.strip():
        raise ValueError(message)
    return value


def examples(*bodies: dict) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(bodies)})


class TranslateRequest(DecodingFields):
    text: str = text_field(MAX_TEXT_CHARS, "the sentence to translate", "我有一只猫。")

    model_config = examples(
        {"text": "我有一只猫。"},
        {"text": "I have a cat.", "model": "en-zh", "strategy": "beam", "beam_size": 4},
    )

    @field_validator("text")
    @classmethod
    def text_not_blank(cls, text: str) -> str:
        return not_blank(text, "text is empty; type a sentence to translate")


class Demonstrations(BaseModel):
    """Demonstrations the server picks from the model's pool of training pairs."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["similar", "random"] = Field(
        description="the pairs most like the query (shared characters), or pairs drawn at "
        "random (seeded by `seed`)"
    )
    count: int = Field(3, ge=1, le=MAX_DEMONSTRATIONS, description="how many, before the query")


class ChatFields(BaseModel):
    """How a prompt meets a model's chat template: /api/generate's, and the lens's and the
    inside view's when they follow a generation."""

    template: bool | None = Field(
        None,
        description="lay the prompt out in the model's chat template (the prompt is the "
        "instruction); unset: when the model has one; false: the prompt as it is; true on a "
        "model without a template is refused",
    )
    input: str | None = Field(
        None,
        max_length=MAX_PROMPT_CHARS,
        description="the chat template's input line (the text the instruction is about); "
        "only with a template",
    )

    @field_validator("template", mode="before")
    @classmethod
    def template_true_false_or_null(cls, value: object, info: ValidationInfo) -> object:
        # Named apart from the subclasses' validators, which would otherwise replace it.
        """`"no"` or `0` would become false quietly; only JSON's true, false and null."""
        if value is not None and not isinstance(value, bool):
            raise ValueError(f"{info.field_name} must be true or false, not {json.dumps(value)}")
        return value


class GenerateRequest(DecodingFields, ChatFields):
    prompt: str = text_field(
        MAX_PROMPT_CHARS,
        "text for the GPT to continue: lines of `中文 => English`, then `中文 =>`",
        "我有一只猫。 =>",
    )
    demonstrations: Demonstrations | None = Field(
        None,
        description="let the server put demonstrations before the prompt, whose last line is "
        "then the query (`=>` is added when it lacks one); the response shows the prompt built",
    )
    stop_at_line_end: bool = Field(
        True,
        description="end the answer at the end of its line, as the evaluation does; false lets "
        "the GPT go on writing lines of its own",
    )

    @field_validator("stop_at_line_end", mode="before")
    @classmethod
    def line_end_true_or_false(cls, value: object, info: ValidationInfo) -> object:
        """`"no"` or `0` would become false quietly; only JSON's true and false are taken."""
        if not isinstance(value, bool):
            raise ValueError(f"{info.field_name} must be true or false, not {json.dumps(value)}")
        return value

    model_config = examples(
        {"prompt": "我有一只猫。 =>"},
        {"prompt": "他是学生。 => He is a student.\n我有一只猫。 =>", "seed": 1},
        {"prompt": "他昨天去了北京。", "demonstrations": {"kind": "similar", "count": 3}},
    )

    @field_validator("prompt")
    @classmethod
    def prompt_not_blank(cls, prompt: str) -> str:
        return not_blank(prompt, "prompt is empty; type something for the model to continue")


LEARN_EXAMPLE = (
    "我是在北京学的中文。 => It was in Beijing that I studied Chinese.\n他昨天去了北京。 =>"
)


class LearnRequest(DecodingFields):
    prompt: str = Field(
        max_length=MAX_PROMPT_CHARS,
        description="demonstration lines `中文 => English`, then the query line `中文 =>`",
        examples=[
            "我是在北京学的中文。 => It was in Beijing that I studied Chinese.\n他昨天去了北京。 =>"
        ],
        json_schema_extra={"pattern": FEW_SHOT},
    )
    steps: int = Field(
        LEARNING["steps"],
        ge=LEARNING["min_steps"],
        le=LEARNING["max_steps"],
        description="gradient steps on a copy",
    )
    learning_rate: float = Field(
        LEARNING["learning_rate"],
        ge=LEARNING["min_learning_rate"],
        le=LEARNING["max_learning_rate"],
        description="Adam's, for those steps",
    )

    model_config = examples({"prompt": LEARN_EXAMPLE})

    @field_validator("prompt")
    @classmethod
    def prompt_not_blank(cls, prompt: str) -> str:
        return not_blank(prompt, "prompt is empty; give demonstrations and a query")

    @field_validator("steps", "learning_rate", mode="before")
    @classmethod
    def numbers_only_here(cls, value: object, info: ValidationInfo) -> object:
        return number_only(value, info)


Request = TypeVar("Request", bound=BaseModel)


def limited(model: type[Request], settings: Settings) -> type[Request]:
    """`model` with this deployment's limits, so the OpenAPI schema states what the 422s enforce.

    Defaults shrink with the limits (max_new_tokens 64 becomes 32 where the limit is 32)."""
    limits = settings.decoding_limits()
    ranges = {  # field: (type, lowest, highest)
        "max_new_tokens": (int, 1, limits["max_new_tokens"]),
        "beam_size": (int, 1, limits["max_beam_size"]),
        "temperature": (float, limits["min_temperature"], limits["max_temperature"]),
        "top_k": (int, 0, limits["max_top_k"]),
        "top_p": (float, limits["min_top_p"], 1),
    }
    overrides: dict = {}
    for name, (kind, low, high) in ranges.items():
        base = model.model_fields.get(name)
        if base is None:  # a request that does not decode (the reward model's)
            continue
        default = min(max(base.default, low), high)
        overrides[name] = (kind, Field(default, ge=low, le=high, description=base.description))
    texts = {
        "text": settings.max_text_chars,
        "prompt": settings.max_prompt_chars,
        "input": settings.max_prompt_chars,
        "answer": settings.max_text_chars,
    }
    for name, cap in texts.items():
        base = model.model_fields.get(name)
        if base is not None:
            overrides[name] = (
                base.annotation,
                Field(
                    base.default,  # required stays required
                    max_length=cap,
                    description=base.description,
                    examples=base.examples,
                    json_schema_extra=base.json_schema_extra,
                ),
            )
    return create_model(model.__name__, __base__=model, __doc__=model.__doc__, **overrides)
