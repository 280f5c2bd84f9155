"""Inside one attention head, and the logit lens: a sentence or a prompt decoded as /api/translate
or /api/generate would decode it, then one forward pass over what was decoded, opened up.

The numbers come from model/ (`inside_head`, `logit_lens`); this module only checks the request,
runs it under the same admission and deadline as any decoding, and shapes the answer.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.batching import DECODING_FIELDS
from app.inference import ClientGone, Inference
from app.responses import inside_response, lens_response
from app.schemas import (
    GenerateRequest,
    InsideRequest,
    InsideResponse,
    LensRequest,
    LogitLensResponse,
    TranslateRequest,
)
from model import (
    Checkpoint,
    Decoded,
    DecodingOptions,
    answer_stop_ids,
    check_site,
    inside_head,
    logit_lens,
)


@dataclass(frozen=True)
class Subject:
    """A checked request: the model, and what its encoder and decoder start from."""

    checkpoint: Checkpoint
    src_ids: list[int]
    prefix_ids: list[int]
    stop_ids: tuple[int, ...]


def subject_of(inference: Inference, request: LensRequest) -> Subject:
    """The model and the tokens, checked as /api/translate (`text`) or /api/generate (`prompt`)
    checks them. The fields were checked by the route already: they are not validated again."""
    decoding = request.model_dump(include={"model", *DECODING_FIELDS})
    if request.text is not None:
        text = TranslateRequest.model_construct(text=request.text, **decoding)
        checkpoint, src_ids = inference.source_ids(text)
        return Subject(checkpoint, src_ids, [checkpoint.config.bos_id], ())
    prompt = GenerateRequest.model_construct(
        prompt=request.prompt,
        demonstrations=request.demonstrations,
        stop_at_line_end=request.stop_at_line_end,
        template=request.template,
        input=request.input,
        **decoding,
    )
    checkpoint, _, prompt_ids, _ = inference.prompt_ids(prompt)
    tok = checkpoint.tgt_tokenizer
    stop_ids = answer_stop_ids(tok) if request.stop_at_line_end else ()
    return Subject(checkpoint, [], [checkpoint.config.bos_id, *prompt_ids], stop_ids)


def decoded_for(
    inference: Inference,
    request: LensRequest,
    subject: Subject,
    deadline: float | None,
    stop: threading.Event | None,
) -> tuple[Decoded, DecodingOptions, float]:
    """Decode as /api/translate or /api/generate would; with the options it decoded by and
    when it started (a perf_counter value)."""
    started = time.perf_counter()
    decoded, options = inference.decoded(
        subject.checkpoint,
        request,
        subject.src_ids,
        subject.prefix_ids,
        deadline,
        subject.stop_ids,
        stop,
    )
    return decoded, options, started


def inside(
    inference: Inference,
    request: InsideRequest,
    subject: Subject,
    deadline: float | None = None,
    stop: threading.Event | None = None,
) -> InsideResponse:
    """Decode, then open the cell (site, head, query) of one pass over what was decoded."""
    decoded, _, started = decoded_for(inference, request, subject, deadline, stop)
    model = subject.checkpoint.model
    parts = inside_head(model, decoded, request.site, request.head, request.query)
    response = inside_response(
        subject.checkpoint, decoded, request.site, request.head, request.query, parts
    )
    response.timing_ms = {"total": round((time.perf_counter() - started) * 1000, 2)}
    return response


def lens(
    inference: Inference,
    request: LensRequest,
    subject: Subject,
    deadline: float | None = None,
    stop: threading.Event | None = None,
) -> LogitLensResponse:
    """Decode, then read every layer's output through the output layer at every step."""
    decoded, options, started = decoded_for(inference, request, subject, deadline, stop)
    read = logit_lens(subject.checkpoint.model, decoded, options)
    response = lens_response(subject.checkpoint, decoded, read)
    response.timing_ms = {"total": round((time.perf_counter() - started) * 1000, 2)}
    return response


async def admitted_json(
    inference: Inference,
    work: Callable[[float, threading.Event], InsideResponse | LogitLensResponse],
    client_gone: ClientGone | None,
) -> bytes:
    deadline = time.monotonic() + inference.settings.request_timeout_s
    return await inference.admitted(
        lambda stop: work(deadline, stop).model_dump_json().encode(), client_gone
    )


async def inside_json(
    inference: Inference, request: InsideRequest, client_gone: ClientGone | None = None
) -> bytes:
    """Checked (the model, its tokens, the site and the head) before it takes a place in line;
    the query's range is known once the answer is decoded."""
    subject = subject_of(inference, request)
    check_site(subject.checkpoint.model, request.site, request.head)
    return await admitted_json(
        inference,
        lambda deadline, stop: inside(inference, request, subject, deadline, stop),
        client_gone,
    )


async def lens_json(
    inference: Inference, request: LensRequest, client_gone: ClientGone | None = None
) -> bytes:
    subject = subject_of(inference, request)
    return await admitted_json(
        inference,
        lambda deadline, stop: lens(inference, request, subject, deadline, stop),
        client_gone,
    )
