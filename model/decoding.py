"""Decoding with a record of every step: greedy, beam search and sampling.

Each loop uses a key/value cache, so a step feeds only its newest token. Greedy decoding and
sampling record each step's attention as they go and join the rows at the end; beam search makes
one traced pass over its winner instead. Both give the same matrices: causal masking makes row i
of each decoder matrix exactly what step i saw (a test checks that the two agree).
"""

import threading
import time
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch.nn import functional as F

from model.cache import KVCache
from model.trace import AttentionTrace
from model.transformer import Seq2Seq

Strategy = Literal["greedy", "beam", "sample"]
# Below this, logits / temperature can overflow float32 (a temperature of 1e-79 gives inf, then
# NaN probabilities); sampling this cold is greedy decoding in all but name anyway.
MIN_TEMPERATURE = 0.05
MAX_BEAM_SIZE = 8  # the widest beam search the decoder runs; settings may offer fewer


@dataclass(frozen=True)
class DecodingOptions:
    strategy: Strategy = "greedy"
    max_new_tokens: int = 64  # includes the closing </s>
    beam_size: int = 4  # 1-8, beam search only
    length_penalty: float = 0.6  # GNMT's alpha: larger favours longer beams
    temperature: float = 1.0  # sampling only; < 1 sharpens, > 1 flattens
    top_k: int = 0  # sampling only; 0 keeps every token
    top_p: float = 1.0  # sampling only; nucleus mass to keep
    seed: int = 0  # sampling only; seeds this call's own torch.Generator
    top_n: int = 5  # candidates recorded per step
    deadline: float | None = None  # a time.monotonic() value; decoding stops past it
    stop: threading.Event | None = None  # set by the caller to stop (its client went away)
    stop_ids: tuple[int, ...] = ()  # tokens that end the output like </s> (GPT: the line break)

    def __post_init__(self) -> None:
        if self.strategy not in ("greedy", "beam", "sample"):
            raise ValueError(f"unknown strategy {self.strategy!r}")
        if self.max_new_tokens < 1:
            raise ValueError("max_new_tokens must be at least 1")
        if not 1 <= self.beam_size <= MAX_BEAM_SIZE:
            raise ValueError(f"beam_size must be between 1 and {MAX_BEAM_SIZE}")
        if not self.temperature >= MIN_TEMPERATURE:
            raise ValueError(f"temperature must be at least {MIN_TEMPERATURE}")
        if self.top_k < 0 or not 0 < self.top_p <= 1 or self.top_n < 1:
            raise ValueError("top_k >= 0, 0 < top_p <= 1 and top_n >= 1 are required")


class DeadlineExceeded(TimeoutError):
    """Decoding passed its deadline; what it had produced is dropped."""


class Stopped(RuntimeError):
    """The caller set `stop`: nobody waits for the answer any more; it is dropped."""


def check_in(options: DecodingOptions) -> None:
    """Between steps: give up when the caller said stop, or past the deadline."""
    if options.stop is not None and options.stop.is_set():
        raise Stopped("decoding was stopped by its caller")
    if options.deadline is not None and time.monotonic() > options.deadline:
        raise DeadlineExceeded("decoding passed its deadline")


@dataclass
class Step:
    """One decoding step: the token chosen, its probability, and the best alternatives."""

    index: int
    token_id: int
    prob: float
    candidates: list[tuple[int, float]]  # (token id, probability), most probable first


@dataclass
class Decoded:
    src_ids: list[int]  # what the encoder read (empty for a decoder-only model)
    prefix_ids: list[int]  # what the decoder started from: <s> (then the prompt, for GPT)
    output_ids: list[int]  # tokens produced, ending in </s> (or a stop id) unless cut short
    steps: list[Step]
    trace: AttentionTrace = field(default_factory=AttentionTrace)

    @property
    def decoder_input_ids(self) -> list[int]:
        """Tokens the decoder was fed: every step's query row in the trace."""
        return self.prefix_ids + self.output_ids[:-1]


def filter_logits(logits: torch.Tensor, top_k: int = 0, top_p: float = 1.0) -> torch.Tensor:
    """Set to -inf every logit outside the top-k and outside the top-p nucleus (last dim).

    The nucleus is the smallest set of most probable tokens whose mass reaches top_p.
    """
    if top_k > 0:
        kth = torch.topk(logits, min(top_k, logits.size(-1))).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True)
        sorted_probs = F.softmax(sorted_logits, dim=-1)
        mass_before = sorted_probs.cumsum(-1) - sorted_probs
        drop_sorted = mass_before >= top_p
        # The most probable token always stays, even where top_p rounds to 0 in float32.
        drop_sorted[..., 0] = False
        drop = drop_sorted.scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def next_token_probs(logits: torch.Tensor, options: DecodingOptions) -> torch.Tensor:
    """The distribution a greedy or sampling step chooses from, and records (last dim): for
    sampling, after the temperature, top-k and top-p."""
    if options.strategy == "sample":
        logits = filter_logits(logits / options.temperature, options.top_k, options.top_p)
    return F.softmax(logits, dim=-1)


def device_of(model: Seq2Seq) -> torch.device:
    """Where the model's weights are: every tensor decoding makes goes there too."""
    return next(model.parameters()).device


def _record(index: int, token_id: int, probs: torch.Tensor, top_n: int) -> Step:
    """Step record from a (V,) distribution."""
    top = torch.topk(probs, min(top_n, probs.numel()))
    candidates = list(zip(top.indices.tolist(), top.values.tolist(), strict=True))
    return Step(index, token_id, probs[token_id].item(), candidates)


def _start(model: Seq2Seq, src_ids: list[int], prefix_ids: list[int], traces: list[AttentionTrace]):
    """Encode the source (if any), feed the prefix, and return (memory, memory_mask, cache,
    first logits (1, V)). The encoder's and the prefix's attention are appended to `traces`."""
    memory = memory_mask = None
    device = device_of(model)
    encoder_trace, prefix_trace = AttentionTrace(), AttentionTrace()
    if src_ids:
        memory, memory_mask = model.encode(torch.tensor([src_ids], device=device), encoder_trace)
    cache = KVCache()
    prefix = torch.tensor([prefix_ids], device=device)
    logits = model.decode(prefix, memory, memory_mask, prefix_trace, cache)
    traces += [encoder_trace, prefix_trace]
    return memory, memory_mask, cache, logits[:, -1]


def _greedy_or_sample(
    model: Seq2Seq, src_ids: list[int], prefix_ids: list[int], options: DecodingOptions
) -> tuple[list[int], list[Step], AttentionTrace]:
    """One sequence, token by token. Each step's attention is recorded as it is computed, and
    the steps' rows are joined at the end: no second pass over the sequence."""
    eos = model.config.eos_id
    device = device_of(model)
    generator = torch.Generator(device=device).manual_seed(options.seed)
    traces: list[AttentionTrace] = []
    memory, memory_mask, cache, logits = _start(model, src_ids, prefix_ids, traces)
    output: list[int] = []
    steps: list[Step] = []
    for index in range(options.max_new_tokens):
        check_in(options)
        probs = next_token_probs(logits[0], options)
        if options.strategy == "sample":
            token = int(torch.multinomial(probs, 1, generator=generator).item())
        else:
            token = int(probs.argmax().item())
        steps.append(_record(index, token, probs, options.top_n))
        output.append(token)
        if token == eos or token in options.stop_ids or index + 1 == options.max_new_tokens:
            break
        traces.append(AttentionTrace())
        fed = torch.tensor([[token]], device=device)
        logits = model.decode(fed, memory, memory_mask, traces[-1], cache)[:, -1]
    return output, steps, AttentionTrace.joined(traces)


def _beam_search(
    model: Seq2Seq, src_ids: list[int], prefix_ids: list[int], options: DecodingOptions
) -> tuple[list[int], list[Step], AttentionTrace]:
    """Keep the `beam_size` best partial outputs by total log-probability; rank finished ones
    by log-probability / length-penalty so short outputs are not favoured just for being short.

    Beams branch and die, so their steps' attention is not kept: one traced pass over the
    winner gives its attention at the end."""
    eos, k = model.config.eos_id, options.beam_size
    device = device_of(model)
    memory, memory_mask, cache, logits = _start(model, src_ids, prefix_ids, [])
    beams: list[tuple[list[int], list[Step]]] = [([], [])]
    scores = torch.zeros(1, device=device)  # (beams,) summed log-probabilities
    finished: list[tuple[float, list[int], list[Step]]] = []

    def penalty(length: int) -> float:
        return ((5 + length) / 6) ** options.length_penalty

    for index in range(options.max_new_tokens):
        check_in(options)
        log_probs = F.log_softmax(logits, dim=-1)  # (beams, V)
        probs = log_probs.exp()
        totals = (scores[:, None] + log_probs).flatten()  # (beams * V,)
        best = torch.topk(totals, min(2 * k, totals.numel()))
        vocab = log_probs.size(-1)
        keep_rows: list[int] = []
        next_beams: list[tuple[list[int], list[Step]]] = []
        next_scores: list[float] = []
        last = index + 1 == options.max_new_tokens
        for total, flat in zip(best.values.tolist(), best.indices.tolist(), strict=True):
            row, token = divmod(flat, vocab)
            tokens, steps = beams[row]
            ends = token == eos or token in options.stop_ids or last
            if not ends and len(next_beams) == k:
                continue  # a surplus candidate: no beam left for it, so no record either
            step = _record(index, token, probs[row], options.top_n)
            if ends:
                finished.append((total / penalty(index + 1), tokens + [token], steps + [step]))
            else:
                keep_rows.append(row)
                next_beams.append((tokens + [token], steps + [step]))
                next_scores.append(total)
            if len(next_beams) == k and len(finished) >= k:
                break
        if len(finished) >= k or last or not next_beams:
            break
        beams, scores = next_beams, torch.tensor(next_scores, device=device)
        cache.reorder(torch.tensor(keep_rows, device=device))
        new_tokens = torch.tensor([[tokens[-1]] for tokens, _ in beams], device=device)
        logits = model.decode(new_tokens, memory, memory_mask, cache=cache)[:, -1]
    _, output, steps = max(finished, key=lambda item: item[0])
    trace, _ = trace_pass(model, src_ids, prefix_ids + output[:-1])
    return output, steps, trace


def trace_pass(
    model: Seq2Seq,
    src_ids: list[int],
    decoder_input_ids: list[int],
    trace: AttentionTrace | None = None,
) -> tuple[AttentionTrace, torch.Tensor]:
    """One forward pass with a trace (a new one, or `trace`); returns it with the logits
    (1, T, V) of every position."""
    trace = AttentionTrace() if trace is None else trace
    memory = memory_mask = None
    device = device_of(model)
    if src_ids:
        memory, memory_mask = model.encode(torch.tensor([src_ids], device=device), trace)
    decoder_input = torch.tensor([decoder_input_ids], device=device)
    logits = model.decode(decoder_input, memory, memory_mask, trace)
    return trace, logits


def fitted(
    model: Seq2Seq, src_ids: list[int], prefix_ids: list[int], options: DecodingOptions
) -> DecodingOptions:
    """The options, with max_new_tokens cut to the positions the prefix leaves; ValueError for
    an input the model cannot read."""
    if model.config.architecture == "encoder-decoder" and not src_ids:
        raise ValueError("an encoder-decoder model needs a non-empty source")
    room = model.config.max_len - len(prefix_ids) + 1  # the last token produced is never fed
    if room < 1 or len(src_ids) > model.config.max_len:
        raise ValueError(f"input is longer than the model's {model.config.max_len} positions")
    if options.max_new_tokens > room:
        options = DecodingOptions(**{**options.__dict__, "max_new_tokens": room})
    return options


@torch.inference_mode()
def decode(
    model: Seq2Seq, src_ids: list[int], prefix_ids: list[int], options: DecodingOptions
) -> Decoded:
    """Decode one sequence and trace its attention.

    src_ids: the source for an encoder-decoder model ([] for GPT).
    prefix_ids: the decoder's start, `[<s>]` (GPT: `[<s>] + prompt`).
    """
    options = fitted(model, src_ids, prefix_ids, options)
    check_in(options)  # a request that waited in line may have no one left to answer
    search = _beam_search if options.strategy == "beam" else _greedy_or_sample
    output, steps, trace = search(model, src_ids, prefix_ids, options)
    return Decoded(src_ids, prefix_ids, output, steps, trace)
