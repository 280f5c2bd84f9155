"""The JSON contract of the API: requests are strict, responses say exactly what they hold."""

from app.schemas.requests import (
    MAX_BEAM_SIZE,
    MAX_NEW_TOKENS,
    MAX_PROMPT_CHARS,
    MAX_TEXT_CHARS,
    DecodingFields,
    Demonstrations,
    GenerateRequest,
    TranslateRequest,
    limited,
)
from app.schemas.responses import (
    AttentionMap,
    Candidate,
    GenerateResponse,
    HeadScores,
    ModelInfo,
    PositionalEncoding,
    Problem,
    Role,
    Step,
    TranslateResponse,
)

__all__ = [
    "MAX_BEAM_SIZE",
    "MAX_NEW_TOKENS",
    "MAX_PROMPT_CHARS",
    "MAX_TEXT_CHARS",
    "AttentionMap",
    "Candidate",
    "DecodingFields",
    "Demonstrations",
    "GenerateRequest",
    "GenerateResponse",
    "HeadScores",
    "ModelInfo",
    "PositionalEncoding",
    "Problem",
    "Role",
    "Step",
    "TranslateRequest",
    "TranslateResponse",
    "limited",
]
