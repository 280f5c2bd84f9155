"""Attention weights written from their tensors: the same numbers as the rounded floats."""

import json
import math

import pytest
import torch

from app.responses import as_json
from app.schemas import AttentionMap
from app.weights import AttentionWeights, weights_json


def rounded(weights: torch.Tensor) -> list:
    """The reference: every weight as a Python float rounded to 4 decimals, written by json."""
    return json.loads(json.dumps(weights.double().round(decimals=4).tolist()))


@pytest.mark.parametrize("shape", [(4, 7, 7), (2, 3, 11), (1, 1, 1), (5,), (3, 4), (2, 2, 3, 4)])
def test_softmax_weights_read_back_as_the_rounded_floats(shape: tuple[int, ...]) -> None:
    weights = torch.randn(shape, generator=torch.Generator().manual_seed(len(shape))).softmax(-1)
    assert json.loads(weights_json(weights)) == rounded(weights)


def test_every_value_of_the_table_and_the_halfway_cases() -> None:
    edges = torch.tensor([0.0, 1.0, 0.00005, 0.00015, 0.99995, 0.123449999, 0.12345, 1e-9])
    everything = torch.cat([torch.arange(10_001, dtype=torch.float64) / 10_000, edges.double()])
    assert json.loads(weights_json(everything)) == rounded(everything)
    assert weights_json(torch.tensor([0.0, 1.0, 0.25])) == b"[0.0000,1.0000,0.2500]"


def test_empty_dimensions_are_empty_arrays() -> None:
    assert weights_json(torch.zeros(2, 0, 3)) == b"[[],[]]"
    assert weights_json(torch.zeros(0)) == b"[]"
    assert weights_json(torch.zeros(1, 2, 0)) == b"[[[],[]]]"


def test_values_outside_the_table_are_still_written() -> None:
    written = json.loads(weights_json(torch.tensor([[0.5, float("nan")], [1.5, -0.25]])))
    assert written == [[0.5, None], [1.5, -0.25]]


def site(weights: AttentionWeights | list) -> AttentionMap:
    return AttentionMap(
        name="decoder.0.self",
        stack="decoder",
        layer=0,
        kind="self",
        query_tokens=["<s>", "猫"],
        key_tokens=["<s>", "猫"],
        weights=weights,
    )


def test_a_map_reads_the_same_through_as_json_and_through_pydantic() -> None:
    probs = torch.tensor([[[1.0, 0.0], [0.123456, 0.876544]], [[1.0, 0.0], [0.5, 0.5]]])
    attention_map = site(AttentionWeights(probs))
    assert json.loads(as_json(attention_map)) == json.loads(attention_map.model_dump_json())
    assert json.loads(as_json(attention_map))["weights"][0][1] == [0.1235, 0.8765]


def test_weights_given_as_lists_are_checked_and_kept() -> None:
    attention_map = site([[[1.0, 0.0], [0.25, 0.75]]])
    assert attention_map.weights.shape == (1, 2, 2)
    assert json.loads(attention_map.model_dump_json())["weights"] == [[[1.0, 0.0], [0.25, 0.75]]]
    with pytest.raises(ValueError, match="do not match the token lists"):
        site([[[1.0], [1.0]]])
    with pytest.raises(ValueError, match="as many"):
        site([[[1.0, 0.0], [1.0]]])


def test_the_schema_still_says_nested_lists_of_numbers() -> None:
    for mode in ("validation", "serialization"):
        schema = AttentionMap.model_json_schema(mode=mode)["properties"]["weights"]
        assert schema["items"]["items"]["items"] == {"type": "number"}


def test_rows_of_a_long_answer_still_sum_to_one() -> None:
    probs = torch.randn(4, 40, 40).softmax(-1)
    for head in json.loads(weights_json(probs)):
        assert all(math.isclose(sum(row), 1.0, abs_tol=40 * 5e-5) for row in head)
