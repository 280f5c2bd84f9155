"""Attention weights in a response: held as a tensor, written as JSON straight from it.

An answer holds thousands of weights (about 29,000 for a 40-character sentence). Turned into
Python floats and written by pydantic, they cost about 1.2 ms of the GIL per long answer, a
quarter of the server's time with a class of clients (bench/serving.py). Here each weight,
rounded to DECIMALS, is looked up in a table of its JSON text, fixed width with a comma
("0.2430,"), and numpy joins the rows, so an answer's weights cost about a tenth of that. The
numbers are the same as the floats' (tests/app/test_weights.py).
"""

from typing import Any

import numpy as np
import orjson
import torch
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

DECIMALS = 4  # weights are rounded: 4 decimals are more than a heatmap can show
SCALE = 10**DECIMALS
# Row k: the JSON text of k / SCALE and a comma, e.g. b"0.2430," (k from 0 to SCALE).
_TEXT = np.frombuffer(
    b"".join(b"%.*f," % (DECIMALS, k / SCALE) for k in range(SCALE + 1)), dtype=np.uint8
).reshape(SCALE + 1, DECIMALS + 3)
_OPEN, _COMMA, _CLOSE = b"[,]"


def _joined(items: np.ndarray) -> np.ndarray:
    """(..., n, width) texts that each end with a comma -> (..., text): each n as one JSON array
    that ends with a comma ("[a,b]," from "a," and "b,")."""
    *lead, n, width = items.shape
    out = np.empty((*lead, n * width + 2 if n else 3), dtype=np.uint8)
    out[..., 0] = _OPEN
    out[..., 1 : 1 + n * width] = items.reshape(*lead, n * width)
    out[..., -2] = _CLOSE  # over the last item's comma (after "[" when there is none)
    out[..., -1] = _COMMA
    return out


def weights_json(weights: torch.Tensor) -> bytes:
    """Weights in [0, 1], any number of dimensions, as nested JSON arrays of numbers rounded to
    DECIMALS."""
    scaled = (weights.double() * SCALE).round()
    if weights.numel() and not bool(((scaled >= 0) & (scaled <= SCALE)).all()):  # NaN included
        return orjson.dumps((scaled / SCALE).tolist())  # what the table does not hold
    text = np.take(_TEXT, scaled.to(torch.int64).numpy(), axis=0)  # (..., DECIMALS + 3)
    for _ in range(weights.dim()):
        text = _joined(text)
    return text.tobytes()[:-1]  # the last comma


class AttentionWeights:
    """One site's weights [head][query][key], as a response field.

    The JSON schema and JSON output are nested lists of numbers. `app.responses.as_json` writes
    them with weights_json; elsewhere (FastAPI's own serializing) they become rounded lists."""

    def __init__(self, probs: torch.Tensor) -> None:
        self.probs = probs  # (heads, queries, keys)

    @property
    def shape(self) -> tuple[int, int, int]:
        heads, queries, keys = self.probs.shape
        return heads, queries, keys

    def json(self) -> bytes:
        return weights_json(self.probs)

    def tolist(self) -> list[list[list[float]]]:
        return self.probs.double().round(decimals=DECIMALS).tolist()

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        lists = handler.generate_schema(list[list[list[float]]])
        from_lists = core_schema.no_info_after_validator_function(cls._from_lists, lists)
        return core_schema.json_or_python_schema(
            json_schema=from_lists,
            python_schema=core_schema.union_schema(
                [core_schema.is_instance_schema(cls), from_lists]
            ),
            # JSON mode: rounded lists. Python mode keeps the object, for as_json to write.
            serialization=core_schema.plain_serializer_function_ser_schema(
                cls.tolist, return_schema=lists, when_used="json"
            ),
        )

    @classmethod
    def _from_lists(cls, lists: list[list[list[float]]]) -> "AttentionWeights":
        heads = len(lists)
        queries = len(lists[0]) if heads else 0
        if any(len(head) != queries for head in lists):
            raise ValueError("every head needs as many rows")
        keys = len(lists[0][0]) if queries else 0
        if any(len(row) != keys for head in lists for row in head):
            raise ValueError("every row needs as many weights")
        return cls(torch.tensor(lists, dtype=torch.float64).reshape(heads, queries, keys))
