"""Batched traced decoding against decode() alone: every row's tokens, steps and attention equal
what the same job gives decoded on its own, whatever else is in its batch."""

import threading
import time

import pytest
import torch

from model.batch_decoding import DecodingJob, decode_many
from model.decoding import DeadlineExceeded, Decoded, DecodingOptions, Stopped, decode
from model.layers import Embedding
from model.transformer import GPT, Transformer
from tests.conftest import tiny_config
from tests.model.test_decoding import BOS, SRC

SOURCES = [SRC, [7, 8], [9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19], [3]]  # padding: mixed lengths
PROMPTS = [[1, 5], [1, 7, 8, 9, 10, 11, 12, 13, 14], [1, 3, 4, 5, 6], [1, 11, 12, 13]]


def assert_same(batched: Decoded | Exception, alone: Decoded) -> None:
    """Tokens identical; probabilities, candidates and every attention matrix within 1e-5."""
    assert isinstance(batched, Decoded), batched
    assert batched.src_ids == alone.src_ids and batched.prefix_ids == alone.prefix_ids
    assert batched.output_ids == alone.output_ids
    for ours, theirs in zip(batched.steps, alone.steps, strict=True):
        assert (ours.index, ours.token_id) == (theirs.index, theirs.token_id)
        assert ours.prob == pytest.approx(theirs.prob, abs=1e-5)
        assert [t for t, _ in ours.candidates] == [t for t, _ in theirs.candidates]
        assert [p for _, p in ours.candidates] == pytest.approx(
            [p for _, p in theirs.candidates], abs=1e-5
        )
    assert batched.trace.names() == alone.trace.names()
    for name in alone.trace.names():
        torch.testing.assert_close(batched.trace[name], alone.trace[name], atol=1e-5, rtol=0)


def assert_each_as_alone(
    model: Transformer | GPT, jobs: list[DecodingJob]
) -> list[Decoded | Exception]:
    """decode_many's result for each job equals decode() of that job alone."""
    results = decode_many(model, jobs)
    assert len(results) == len(jobs)
    for job, result in zip(jobs, results, strict=True):
        assert_same(result, decode(model, *job))
    return results


@pytest.fixture
def en_zh() -> Transformer:
    """The other direction: source and target vocabularies swapped, other weights."""
    torch.manual_seed(1)
    return Transformer(tiny_config(src_vocab_size=19, tgt_vocab_size=23)).eval()


@pytest.mark.parametrize("direction", ["zh-en", "en-zh"])
def test_translations_of_mixed_lengths_equal_each_alone(
    transformer: Transformer, en_zh: Transformer, direction: str
) -> None:
    model = transformer if direction == "zh-en" else en_zh
    sources = [[t % 16 + 3 for t in src] for src in SOURCES] if direction == "en-zh" else SOURCES
    jobs = [(src, BOS, DecodingOptions(max_new_tokens=12)) for src in sources]
    assert_each_as_alone(model, jobs)


def test_gpt_prompts_of_different_lengths_equal_each_alone(gpt: GPT) -> None:
    jobs = [([], prompt, DecodingOptions(max_new_tokens=15, top_n=3)) for prompt in PROMPTS]
    assert_each_as_alone(gpt, jobs)


@pytest.mark.parametrize("architecture", ["encoder-decoder", "decoder-only"])
def test_sampling_rows_keep_their_own_generator_and_options(
    transformer: Transformer, gpt: GPT, architecture: str
) -> None:
    """Each row samples with its own seed, temperature, top-k, top-p and top-n, beside greedy
    rows: the same tokens as alone."""
    options = [
        DecodingOptions("sample", max_new_tokens=14, temperature=2.0, seed=3),
        DecodingOptions("sample", max_new_tokens=9, temperature=1.5, top_k=4, seed=3, top_n=2),
        DecodingOptions("greedy", max_new_tokens=11, top_n=7),
        DecodingOptions("sample", max_new_tokens=20, temperature=3.0, top_p=0.8, seed=11),
    ]
    if architecture == "encoder-decoder":
        jobs = [(src, BOS, o) for src, o in zip(SOURCES, options, strict=True)]
        model: Transformer | GPT = transformer
    else:
        jobs = [([], prompt, o) for prompt, o in zip(PROMPTS, options, strict=True)]
        model = gpt
    assert_each_as_alone(model, jobs)


def test_rows_finish_at_different_steps(gpt: GPT) -> None:
    limits = [1, 3, 9, 20]
    jobs = [
        ([], prompt, DecodingOptions("sample", max_new_tokens=limit, temperature=2.0, seed=limit))
        for prompt, limit in zip(PROMPTS, limits, strict=True)
    ]
    results = assert_each_as_alone(gpt, jobs)
    lengths = [len(r.output_ids) for r in results if isinstance(r, Decoded)]
    assert len(set(lengths)) > 2
    assert all(n <= limit for n, limit in zip(lengths, limits, strict=True))


def test_a_stop_id_ends_its_own_row(gpt: GPT) -> None:
    free = decode(gpt, [], PROMPTS[1], DecodingOptions(max_new_tokens=12))
    stop = free.output_ids[2]
    assert stop != gpt.config.eos_id
    jobs = [
        ([], PROMPTS[0], DecodingOptions(max_new_tokens=12)),
        ([], PROMPTS[1], DecodingOptions(max_new_tokens=12, stop_ids=(stop,))),
        ([], PROMPTS[2], DecodingOptions(max_new_tokens=12)),
    ]
    results = assert_each_as_alone(gpt, jobs)
    stopped = results[1]
    assert isinstance(stopped, Decoded) and stopped.output_ids[-1] == stop
    assert len(stopped.output_ids) <= 3


def test_a_row_past_its_deadline_or_stopped_fails_alone(transformer: Transformer) -> None:
    told = threading.Event()
    told.set()
    jobs = [
        (SOURCES[0], BOS, DecodingOptions(max_new_tokens=10)),
        (SOURCES[1], BOS, DecodingOptions(max_new_tokens=10, deadline=time.monotonic() - 1)),
        (SOURCES[2], BOS, DecodingOptions(max_new_tokens=10, stop=told)),
        (SOURCES[3], BOS, DecodingOptions("sample", max_new_tokens=10, temperature=2.0)),
    ]
    results = decode_many(transformer, jobs)
    assert isinstance(results[1], DeadlineExceeded) and isinstance(results[2], Stopped)
    for i in (0, 3):
        assert_same(results[i], decode(transformer, *jobs[i]))


@pytest.mark.parametrize("architecture", ["encoder-decoder", "decoder-only"])
def test_a_row_stopped_midway_leaves_the_others_unchanged(
    transformer: Transformer, gpt: GPT, architecture: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caller of one row gives up after a few steps: that row gets Stopped, and the rows
    still running (after it, in a smaller batch) equal themselves alone."""
    model: Transformer | GPT = transformer if architecture == "encoder-decoder" else gpt
    inputs = [(src, BOS) for src in SOURCES] if model is transformer else [([], p) for p in PROMPTS]
    told = threading.Event()
    jobs: list[DecodingJob] = [
        (src, prefix, DecodingOptions(max_new_tokens=25, stop=told if i == 1 else None))
        for i, (src, prefix) in enumerate(inputs)
    ]
    real_decode, calls = model.decode, []

    def counting_decode(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            told.set()  # as the server does when one client hangs up
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(model, "decode", counting_decode)
    results = decode_many(model, jobs)
    monkeypatch.undo()
    assert isinstance(results[1], Stopped) and len(calls) > 5
    for i in (0, 2, 3):
        job = jobs[i]
        assert_same(results[i], decode(model, *job))


def test_beam_and_unreadable_jobs_are_handled_alone(transformer: Transformer) -> None:
    jobs = [
        (SOURCES[0], BOS, DecodingOptions("beam", max_new_tokens=8, beam_size=3)),
        ([], BOS, DecodingOptions()),  # an encoder-decoder model needs a source
        (SOURCES[1], BOS, DecodingOptions(max_new_tokens=8)),
        (SOURCES[2], BOS, DecodingOptions(max_new_tokens=8)),
    ]
    results = decode_many(transformer, jobs)
    assert isinstance(results[1], ValueError)
    for i in (0, 2, 3):
        assert_same(results[i], decode(transformer, *jobs[i]))
    assert decode_many(transformer, []) == []


def test_limits_are_cut_to_each_rows_room(gpt: GPT) -> None:
    """A long prompt leaves fewer positions: its row stops there, the others go on."""
    long_prompt = [1, *range(3, 19)] * 2  # 33 of the model's 40 positions
    jobs = [
        ([], long_prompt, DecodingOptions(max_new_tokens=30)),
        ([], PROMPTS[0], DecodingOptions(max_new_tokens=30)),
    ]
    results = assert_each_as_alone(gpt, jobs)
    first = results[0]
    assert isinstance(first, Decoded) and len(first.decoder_input_ids) <= gpt.config.max_len


def test_embedding_starts_per_row_equal_one_start() -> None:
    torch.manual_seed(0)
    embed = Embedding(11, 8, 20, 0.0).eval()
    ids = torch.tensor([[3, 4, 5], [6, 7, 8]])
    per_row = embed(ids, torch.tensor([[0], [5]]))
    torch.testing.assert_close(per_row[0], embed(ids[:1], 0)[0])
    torch.testing.assert_close(per_row[1], embed(ids[1:], 5)[0])
    with pytest.raises(ValueError, match="longer than max_len"):
        embed(ids, torch.tensor([[0], [18]]))


def test_every_row_stopped_at_once_ends_the_batch(
    transformer: Transformer, monkeypatch: pytest.MonkeyPatch
) -> None:
    told, calls = threading.Event(), []
    real_decode = transformer.decode

    def counting_decode(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            told.set()
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(transformer, "decode", counting_decode)
    jobs = [(src, BOS, DecodingOptions(max_new_tokens=30, stop=told)) for src in SOURCES]
    results = decode_many(transformer, jobs)
    stopped = [result for result in results if isinstance(result, Stopped)]
    ended = [result for result in results if isinstance(result, Decoded)]
    assert stopped and len(stopped) + len(ended) == len(jobs) and len(calls) == 3
    assert all(len(result.output_ids) <= 3 for result in ended)  # ended before the stop
