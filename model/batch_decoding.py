"""Many sequences decoded as one batch, each with its own options, stop and trace, and each equal
to the same sequence decoded alone by `decode()` (tests/model/test_batch_decoding.py).

Sources are padded and the memory mask hides the padding, as in `greedy_batch`. Prefixes (GPT
prompts) are padded on the right, so a short row's cache holds junk columns between its prefix
and its first generated token: its key mask hides them, its positions go on from its own
prefix, and its trace leaves them out. A row leaves the batch when it ends (</s>, a stop id, its
limit) or when its caller gives up (its deadline, its `stop`), and the others go on without it:
its cache, memory and masks are dropped, so it costs nothing more. Beam search runs alone.
"""

import itertools
from dataclasses import dataclass, field

import torch
from torch.nn import functional as F

from model.cache import KVCache
from model.decoding import (
    DeadlineExceeded,
    Decoded,
    DecodingOptions,
    Step,
    Stopped,
    check_in,
    decode,
    device_of,
    fitted,
    next_token_probs,
)
from model.trace import AttentionTrace, BatchTrace
from model.transformer import Seq2Seq

DecodingJob = tuple[list[int], list[int], DecodingOptions]  # decode()'s arguments after model
GIVEN_UP = (DeadlineExceeded, Stopped)  # a caller's reasons to drop its own row


@dataclass
class _Row:
    """One job in the batch: its inputs, its own generator, and what it has produced so far."""

    job: int  # its place in the list of jobs
    src_ids: list[int]
    prefix_ids: list[int]
    options: DecodingOptions
    generator: torch.Generator | None  # sampling only
    output: list[int] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    def ended(self, eos_id: int) -> bool:
        """Its last token ends it, or its limit is reached."""
        last = self.output[-1]
        full = len(self.output) == self.options.max_new_tokens
        return last == eos_id or last in self.options.stop_ids or full


@dataclass
class _Batch:
    """The tensors of the rows still decoding: row b of each belongs to rows[active[b]]."""

    active: list[int]
    cache: KVCache
    memory: torch.Tensor | None  # (B, Ts, D)
    memory_mask: torch.Tensor | None  # (B, 1, 1, Ts); None without source padding
    key_mask: torch.Tensor | None  # (B, S) cached keys a row may see; None without junk
    lengths: torch.Tensor  # (B, 1) prefix lengths: each row's first generated position
    logits: torch.Tensor  # (B, V) for each row's next token

    def keep(self, positions: list[int]) -> None:
        """Only the rows at these batch positions go on."""
        index = torch.tensor(positions, dtype=torch.long, device=self.logits.device)
        self.active = [self.active[b] for b in positions]
        self.cache.reorder(index)
        if self.memory is not None:
            self.memory = self.memory.index_select(0, index)
        if self.memory_mask is not None:
            self.memory_mask = self.memory_mask.index_select(0, index)
        if self.key_mask is not None:
            self.key_mask = self.key_mask.index_select(0, index)
        self.lengths = self.lengths.index_select(0, index)
        self.logits = self.logits.index_select(0, index)

    def feed(self, model: Seq2Seq, tokens: torch.Tensor, index: int, trace: BatchTrace) -> None:
        """Feed each row's newest token (B, 1), produced at step `index`."""
        start = None
        if self.key_mask is not None:  # rows at different positions
            fresh = torch.ones_like(self.key_mask[:, :1])
            self.key_mask = torch.cat([self.key_mask, fresh], dim=1)  # (B, S + 1)
            start = self.lengths + index  # (B, 1)
        logits = model.decode(
            tokens, self.memory, self.memory_mask, trace, self.cache, start, self.key_mask
        )
        self.logits = logits[:, -1]  # (B, V)


def _padded(seqs: list[list[int]], pad_id: int, device: torch.device) -> torch.Tensor:
    """(B, longest) ids, each row padded on the right."""
    longest = max(len(seq) for seq in seqs)
    return torch.tensor([seq + [pad_id] * (longest - len(seq)) for seq in seqs], device=device)


def _choose(logits: torch.Tensor, rows: list[_Row], index: int) -> None:
    """Each row's next token by its own options, recorded as decode() records it."""
    probs = F.softmax(logits, dim=-1)  # (B, V): greedy rows choose from this
    for b, row in enumerate(rows):
        if row.generator is not None:
            probs[b] = next_token_probs(logits[b], row.options)
    tokens = probs.argmax(-1)  # (B,)
    for b, row in enumerate(rows):
        if row.generator is not None:
            tokens[b] = torch.multinomial(probs[b], 1, generator=row.generator)[0]
    top = torch.topk(probs, min(max(row.options.top_n for row in rows), probs.size(-1)))
    chosen = probs.gather(1, tokens[:, None])[:, 0]  # (B,)
    columns = (tokens.tolist(), chosen.tolist(), top.indices.tolist(), top.values.tolist())
    for row, token, prob, ids, values in zip(rows, *columns, strict=True):
        n = row.options.top_n
        row.steps.append(Step(index, token, prob, list(zip(ids[:n], values[:n], strict=True))))
        row.output.append(token)


def _split(
    rows: dict[int, _Row],
    encoder: BatchTrace,
    prefix: BatchTrace,
    steps: list[tuple[list[int], BatchTrace]],
    width: int,
) -> dict[int, AttentionTrace]:
    """Each row's trace as decode() joins it: the encoder's, the prefix pass's and one row per
    step, cropped to the row's own lengths and without its junk columns.

    rows: by batch row; steps: each step's batch rows and trace; width: the padded prefix's."""
    traces = {b: AttentionTrace() for b in rows}
    for name in encoder.probs:
        for b, row in rows.items():
            traces[b].probs[name] = encoder.crop(name, b, len(row.src_ids), len(row.src_ids))
    device = next(iter(prefix.probs.values())).device
    owners = torch.tensor([b for active, _ in steps for b in active], device=device)
    keys = width + len(steps)  # every column the cache held
    for name in prefix.probs:
        own = name.endswith(".self")
        pieces = [trace.probs[name][:, :, 0] for _, trace in steps]  # each (B_s, H, Tk_s)
        if own:
            pieces = [F.pad(piece, (0, keys - piece.size(-1))) for piece in pieces]
        stacked = torch.cat(pieces) if pieces else None  # (Σ B_s, H, Tk): every step's rows
        for b, row in rows.items():
            fed, p, s = len(row.output) - 1, len(row.prefix_ids), len(row.src_ids)
            head = prefix.crop(name, b, p, p if own else s)  # (H, p, p or s)
            if stacked is None or fed == 0:
                traces[b].probs[name] = head
                continue
            tail = stacked[owners == b].transpose(0, 1)  # (H, fed, Tk)
            if own:
                columns = torch.cat([torch.arange(p), torch.arange(width, width + fed)])
                tail = tail.index_select(-1, columns.to(device))  # (H, fed, p + fed)
                head = F.pad(head, (0, fed))  # the causal mask's zeros
            else:
                tail = tail[..., :s]
            traces[b].probs[name] = torch.cat([head, tail], dim=1)
    return traces


def _decode_batch(model: Seq2Seq, rows: list[_Row]) -> list[Decoded | Exception]:
    """Greedy and sampling rows, decoded together with a key/value cache."""
    c, device = model.config, device_of(model)
    encoder_trace, prefix_trace = BatchTrace(), BatchTrace()
    memory = memory_mask = None
    if c.architecture == "encoder-decoder":
        src = _padded([row.src_ids for row in rows], c.pad_id, device)
        memory, memory_mask = model.encode(src, encoder_trace)
    prefix = _padded([row.prefix_ids for row in rows], c.pad_id, device)  # (B, P)
    lengths = torch.tensor([[len(row.prefix_ids)] for row in rows], device=device)  # (B, 1)
    width = prefix.size(1)
    key_mask = None
    if bool((lengths != width).any()):  # a shorter prefix leaves junk columns in its row
        key_mask = torch.arange(width, device=device)[None] < lengths  # (B, P)
    cache = KVCache()
    logits = model.decode(prefix, memory, memory_mask, prefix_trace, cache, key_mask=key_mask)
    logits = logits[torch.arange(len(rows), device=device), lengths[:, 0] - 1]  # (B, V)
    batch = _Batch(list(range(len(rows))), cache, memory, memory_mask, key_mask, lengths, logits)
    steps: list[tuple[list[int], BatchTrace]] = []
    errors: dict[int, Exception] = {}
    for index in itertools.count():
        going = []
        for b, r in enumerate(batch.active):
            try:
                check_in(rows[r].options)
                going.append(b)
            except GIVEN_UP as err:
                errors[r] = err
        if not going:
            break
        if len(going) < len(batch.active):
            batch.keep(going)
        _choose(batch.logits, [rows[r] for r in batch.active], index)
        going = [b for b, r in enumerate(batch.active) if not rows[r].ended(c.eos_id)]
        if not going:
            break
        if len(going) < len(batch.active):
            batch.keep(going)
        tokens = torch.tensor([[rows[r].output[-1]] for r in batch.active], device=device)
        steps.append((list(batch.active), BatchTrace()))
        batch.feed(model, tokens, index, steps[-1][1])
    finished = {b: row for b, row in enumerate(rows) if b not in errors}
    traces = _split(finished, encoder_trace, prefix_trace, steps, width)
    return [
        errors[b]
        if b in errors
        else Decoded(row.src_ids, row.prefix_ids, row.output, row.steps, traces[b])
        for b, row in enumerate(rows)
    ]


@torch.inference_mode()
def decode_many(model: Seq2Seq, jobs: list[DecodingJob]) -> list[Decoded | Exception]:
    """Decode every job as `decode(model, *job)` would alone; greedy and sampling jobs as one
    batch, beam search jobs one at a time after it.

    Each result is the job's Decoded, or the exception that ended that job alone: ValueError
    (an input the model cannot read), DeadlineExceeded or Stopped.
    """
    results: dict[int, Decoded | Exception] = {}
    rows: list[_Row] = []
    alone: list[int] = []
    device = device_of(model)
    for job, (src_ids, prefix_ids, options) in enumerate(jobs):
        try:
            options = fitted(model, src_ids, prefix_ids, options)
            check_in(options)
        except (ValueError, *GIVEN_UP) as err:
            results[job] = err
            continue
        if options.strategy == "beam":
            alone.append(job)
            continue
        sample = options.strategy == "sample"
        generator = torch.Generator(device=device).manual_seed(options.seed) if sample else None
        rows.append(_Row(job, src_ids, prefix_ids, options, generator))
    if len(rows) == 1:  # a batch of one is decode() with extra steps
        alone.insert(0, rows.pop().job)
    if rows:
        for row, result in zip(rows, _decode_batch(model, rows), strict=True):
            results[row.job] = result
    for job in alone:
        try:
            results[job] = decode(model, *jobs[job])
        except (ValueError, *GIVEN_UP) as err:
            results[job] = err
    return [results[job] for job in range(len(jobs))]
