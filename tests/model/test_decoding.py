"""Decoding: step records, one traced pass equal to every step, strategies as defined."""

import threading
import time

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn import functional as F

from model.cache import KVCache
from model.decoding import (
    MIN_TEMPERATURE,
    DeadlineExceeded,
    DecodingOptions,
    Stopped,
    decode,
    filter_logits,
    trace_pass,
)
from model.trace import AttentionTrace
from model.transformer import GPT, Transformer
from tests.conftest import tiny_config

SRC = [5, 6, 7, 8, 9, 10]
BOS = [1]


def test_final_traced_pass_equals_every_step(transformer: Transformer) -> None:
    """Row i of each matrix and logits row i equal what cached step i computed on its own."""
    decoded = decode(transformer, SRC, BOS, DecodingOptions(max_new_tokens=8))
    inputs = decoded.decoder_input_ids
    _, full_logits = trace_pass(transformer, SRC, inputs)
    with torch.no_grad():
        memory, memory_mask = transformer.encode(torch.tensor([SRC]))
        cache = KVCache()
        for i, token in enumerate(inputs):
            step_trace = AttentionTrace()
            logits = transformer.decode(
                torch.tensor([[token]]), memory, memory_mask, step_trace, cache
            )
            torch.testing.assert_close(logits[0, -1], full_logits[0, i], atol=1e-5, rtol=1e-5)
            for name, probs in step_trace.probs.items():
                row = decoded.trace[name][:, i]  # (H, Tk): what the final pass says step i saw
                torch.testing.assert_close(
                    probs[:, 0], row[:, : probs.size(-1)], atol=1e-5, rtol=1e-5
                )
                assert torch.all(row[:, probs.size(-1) :] == 0)  # the future stays hidden
            assert F.softmax(logits[0, -1], -1)[decoded.output_ids[i]].item() == pytest.approx(
                decoded.steps[i].prob, abs=1e-5
            )


@pytest.mark.parametrize("strategy", ["greedy", "sample", "beam"])
@pytest.mark.parametrize("architecture", ["encoder-decoder", "decoder-only"])
def test_recorded_steps_equal_one_traced_pass(
    transformer: Transformer, gpt: GPT, strategy: str, architecture: str
) -> None:
    """Greedy and sampling join the attention of their cached steps; beam search makes a traced
    pass. Either way the trace must equal one traced pass over what the decoder was fed."""
    model, src, prefix = (
        (transformer, SRC, BOS) if architecture == "encoder-decoder" else (gpt, [], [1, 5, 6, 7])
    )
    options = DecodingOptions(strategy, max_new_tokens=9, temperature=2.0, seed=5)
    decoded = decode(model, src, prefix, options)
    reference, _ = trace_pass(model, src, decoded.decoder_input_ids)
    assert decoded.trace.names() == reference.names()
    for name in reference.names():
        torch.testing.assert_close(decoded.trace[name], reference[name], atol=1e-5, rtol=1e-5)


def test_step_records(transformer: Transformer) -> None:
    decoded = decode(transformer, SRC, BOS, DecodingOptions(max_new_tokens=6, top_n=3))
    assert len(decoded.steps) == len(decoded.output_ids) <= 6
    for i, step in enumerate(decoded.steps):
        assert step.index == i and step.token_id == decoded.output_ids[i]
        assert len(step.candidates) == 3
        probs = [p for _, p in step.candidates]
        assert probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6
        assert step.candidates[0] == (step.token_id, pytest.approx(step.prob))  # greedy: the top
    # Shapes match tokens: queries are what the decoder was fed, keys the source.
    rows = len(decoded.decoder_input_ids)
    assert decoded.trace["decoder.1.cross"].shape == (4, rows, len(SRC))
    assert decoded.trace["decoder.0.self"].shape == (4, rows, rows)


def test_greedy_equals_beam_of_one(transformer: Transformer) -> None:
    greedy = decode(transformer, SRC, BOS, DecodingOptions(max_new_tokens=10))
    beam = decode(transformer, SRC, BOS, DecodingOptions("beam", max_new_tokens=10, beam_size=1))
    assert beam.output_ids == greedy.output_ids
    for ours, reference in zip(beam.steps, greedy.steps, strict=True):
        assert [t for t, _ in ours.candidates] == [t for t, _ in reference.candidates]
        assert [p for _, p in ours.candidates] == pytest.approx(
            [p for _, p in reference.candidates]
        )


def test_beam_search_keeps_a_consistent_record(transformer: Transformer) -> None:
    decoded = decode(transformer, SRC, BOS, DecodingOptions("beam", max_new_tokens=10, beam_size=4))
    assert [s.token_id for s in decoded.steps] == decoded.output_ids
    _, logits = trace_pass(transformer, SRC, decoded.decoder_input_ids)
    probs = F.softmax(logits[0], -1)
    for i, step in enumerate(decoded.steps):  # each recorded prob is the model's own
        assert probs[i, step.token_id].item() == pytest.approx(step.prob, abs=1e-5)


def test_seeded_sampling_is_reproducible(transformer: Transformer) -> None:
    options = DecodingOptions("sample", max_new_tokens=12, temperature=2.0, seed=7)
    first = decode(transformer, SRC, BOS, options)
    again = decode(transformer, SRC, BOS, options)
    assert first.output_ids == again.output_ids
    others = {
        tuple(
            decode(
                transformer,
                SRC,
                BOS,
                DecodingOptions("sample", max_new_tokens=12, temperature=2.0, seed=s),
            ).output_ids
        )
        for s in range(8)
    }
    assert len(others) > 1  # the seed matters


def test_top_k_keeps_exactly_k() -> None:
    logits = torch.tensor([1.0, 5.0, 3.0, 4.0, 2.0])
    kept = filter_logits(logits, top_k=2)
    assert torch.isfinite(kept).tolist() == [False, True, False, True, False]


def test_top_p_keeps_the_smallest_nucleus() -> None:
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    logits = probs.log()
    assert torch.isfinite(filter_logits(logits, top_p=0.5)).tolist() == [True, False, False, False]
    assert torch.isfinite(filter_logits(logits, top_p=0.75)).tolist() == [True, True, False, False]
    assert torch.isfinite(filter_logits(logits, top_p=0.96)).tolist() == [True, True, True, True]
    # Scrambled order gives the same set.
    order = torch.tensor([2, 0, 3, 1])
    assert torch.isfinite(filter_logits(logits[order], top_p=0.75)).tolist() == [
        False,
        True,
        False,
        True,
    ]


@pytest.mark.parametrize("top_p", [5e-324, 1e-45, 1e-9])
def test_a_vanishing_top_p_still_keeps_the_most_probable_token(top_p: float) -> None:
    # Found by schemathesis: 5e-324 rounds to 0 in float32, and every token was dropped.
    logits = torch.tensor([[0.1, 2.0, -1.0], [30.0, -30.0, 0.0]])
    kept = torch.isfinite(filter_logits(logits, top_p=top_p))
    assert kept.tolist() == [[False, True, False], [True, False, False]]


options_strategy = st.builds(
    DecodingOptions,
    strategy=st.sampled_from(["greedy", "beam", "sample"]),
    max_new_tokens=st.integers(1, 12),
    beam_size=st.integers(1, 8),
    temperature=st.floats(MIN_TEMPERATURE, 5.0),
    top_k=st.integers(0, 40),
    top_p=st.floats(0.0, 1.0, exclude_min=True),
    seed=st.integers(0, 2**31 - 1),
    top_n=st.integers(1, 20),
)


@settings(max_examples=60, deadline=None)
@given(options=options_strategy)
def test_any_valid_options_give_a_well_formed_record(options: DecodingOptions) -> None:
    torch.manual_seed(0)
    model = Transformer(tiny_config()).eval()
    decoded = decode(model, SRC, BOS, options)
    vocab = model.config.tgt_vocab_size
    assert 1 <= len(decoded.output_ids) <= options.max_new_tokens
    assert len(decoded.steps) == len(decoded.output_ids)
    for step in decoded.steps:
        assert 0 <= step.token_id < vocab and 0.0 <= step.prob <= 1.0
        probs = [p for _, p in step.candidates]
        assert len(probs) == min(options.top_n, vocab) and all(0.0 <= p <= 1.0 for p in probs)
        assert probs == sorted(probs, reverse=True)
    for name, weights in decoded.trace.probs.items():
        assert torch.isfinite(weights).all(), name
        assert torch.allclose(weights.sum(-1), torch.ones(()), atol=1e-5), name


def test_decoding_stops_at_its_deadline(transformer: Transformer) -> None:
    with pytest.raises(DeadlineExceeded):
        decode(transformer, SRC, BOS, DecodingOptions(deadline=time.monotonic() - 1))
    later = DecodingOptions(max_new_tokens=4, deadline=time.monotonic() + 60)
    assert decode(transformer, SRC, BOS, later).output_ids


def test_sampling_never_picks_outside_top_k(transformer: Transformer) -> None:
    decoded = decode(
        transformer,
        SRC,
        BOS,
        DecodingOptions("sample", max_new_tokens=10, temperature=3.0, top_k=2, seed=3),
    )
    for step in decoded.steps:
        nonzero = [t for t, p in step.candidates if p > 0]
        assert len(nonzero) <= 2 and step.token_id in nonzero


@pytest.mark.parametrize("strategy", ["greedy", "beam", "sample"])
def test_decoding_stops_at_the_next_step_once_told(
    transformer: Transformer, strategy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stop, calls = threading.Event(), []
    real_decode = transformer.decode

    def counting_decode(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            stop.set()  # as the server does when the client hangs up
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(transformer, "decode", counting_decode)
    options = DecodingOptions(strategy=strategy, max_new_tokens=30, stop=stop)
    with pytest.raises(Stopped):
        decode(transformer, SRC, BOS, options)
    assert len(calls) == 3


def test_gpt_decodes_from_a_prompt(gpt: GPT) -> None:
    prompt = [1, 5, 6, 7]
    decoded = decode(gpt, [], prompt, DecodingOptions(max_new_tokens=5))
    assert decoded.trace.names() == ["decoder.0.self", "decoder.1.self"]
    rows = len(prompt) + len(decoded.output_ids) - 1
    assert decoded.trace["decoder.1.self"].shape == (4, rows, rows)


@pytest.mark.parametrize("strategy", ["greedy", "beam", "sample"])
def test_a_stop_id_ends_the_output_like_eos(gpt: GPT, strategy: str) -> None:
    free = decode(gpt, [], [1, 7, 8], DecodingOptions(strategy=strategy, max_new_tokens=12))
    stop = free.output_ids[2]  # a token this model writes third, when nothing stops it
    assert stop != gpt.config.eos_id
    stopped = decode(
        gpt, [], [1, 7, 8], DecodingOptions(strategy=strategy, max_new_tokens=12, stop_ids=(stop,))
    )
    first = free.output_ids.index(stop)
    assert stopped.output_ids == free.output_ids[: first + 1]  # the same path, cut at the stop
    assert len(stopped.steps) == len(stopped.output_ids)


def test_bad_options_and_inputs_are_clear_errors(transformer: Transformer) -> None:
    with pytest.raises(ValueError, match="beam_size"):
        DecodingOptions(beam_size=9)
    with pytest.raises(ValueError, match="temperature"):
        DecodingOptions(temperature=0)
    with pytest.raises(ValueError, match="temperature"):
        DecodingOptions(temperature=1e-79)  # logits / temperature would overflow to inf
    with pytest.raises(ValueError, match="non-empty source"):
        decode(transformer, [], BOS, DecodingOptions())
    with pytest.raises(ValueError, match="longer than"):
        decode(transformer, list(range(4, 50)), BOS, DecodingOptions())
    # max_new_tokens beyond the positional table is capped, not an error.
    decoded = decode(transformer, SRC, BOS, DecodingOptions(max_new_tokens=500))
    assert len(decoded.output_ids) <= 40
