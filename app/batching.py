"""Translations and generations that wait together for one model, decoded as one batch.

A request becomes a `Pending`: the model's inputs, its own decoding options (its deadline and
its client's `stop` included) and how its Decoded becomes its response. The admission line
groups the pendings of one model (app/admission.py); `decode_group` decodes them with
`decode_many`, whose every row equals the same request decoded alone, then answers each on its
own: one request past its deadline, or whose client has gone, fails alone.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Generic, TypeVar

from pydantic import BaseModel

from app.admission import ServerBusy
from app.responses import as_json
from app.schemas import DecodingFields
from model import Checkpoint, DeadlineExceeded, Decoded, DecodingOptions, decode, decode_many

R = TypeVar("R")
DECODING_FIELDS = {field.name for field in fields(DecodingOptions)}
# (decoded, when decoding started (a perf_counter value), milliseconds it took) -> the response
Respond = Callable[[Decoded, float, float], R]


@dataclass(frozen=True)
class Pending(Generic[R]):
    """A translation or generation ready to decode."""

    checkpoint: Checkpoint
    src_ids: list[int]
    prefix_ids: list[int]
    options: DecodingOptions  # the request's own: deadline, stop and stop ids included
    limit_s: float  # the request's time limit, named in its 503
    respond: Respond[R]

    def batched(self) -> bool:
        """Greedy decoding and sampling share a batch; beam search runs alone."""
        return self.options.strategy != "beam"

    def waited_too_long(self) -> ServerBusy | None:
        """A ServerBusy if the deadline passed while the request waited in line."""
        deadline = self.options.deadline
        if deadline is None or time.monotonic() <= deadline:
            return None
        return ServerBusy(
            f"the server is busy: this request waited in line past its {self.limit_s:g} s "
            "limit; try again in a moment"
        )

    def took_too_long(self) -> ServerBusy:
        return ServerBusy(
            f"the answer took longer than the {self.limit_s:g} s limit; "
            "try again, or ask for fewer tokens or a smaller beam"
        )


def options_of(
    request: DecodingFields,
    deadline: float | None,
    stop_ids: tuple[int, ...] = (),
    stop: threading.Event | None = None,
) -> DecodingOptions:
    """A request's decoding options, its deadline and its client's `stop` included."""
    # The request's decoding fields carry the same names as DecodingOptions.
    return DecodingOptions(
        **request.model_dump(include=DECODING_FIELDS),
        deadline=deadline,
        stop_ids=stop_ids,
        stop=stop,
    )


def decode_alone(pending: Pending[R]) -> R:
    """Decode one request on the calling thread and make its response."""
    started = time.perf_counter()
    busy = pending.waited_too_long()
    if busy is not None:
        raise busy
    try:
        decoded = decode(
            pending.checkpoint.model, pending.src_ids, pending.prefix_ids, pending.options
        )
    except DeadlineExceeded as err:
        raise pending.took_too_long() from err
    return pending.respond(decoded, started, (time.perf_counter() - started) * 1000)


def decode_group(pendings: list[Pending[BaseModel]]) -> list[bytes | Exception]:
    """Decode the pendings of one model as one batch; each one's response as JSON, or the
    exception that ended it (ServerBusy past its deadline, Stopped once its client has gone)."""
    started = time.perf_counter()
    results: list[bytes | Exception] = [b""] * len(pendings)
    ready: list[int] = []
    for i, pending in enumerate(pendings):
        busy = pending.waited_too_long()
        if busy is None:
            ready.append(i)
        else:
            results[i] = busy
    model = pendings[0].checkpoint.model
    jobs = [(pendings[i].src_ids, pendings[i].prefix_ids, pendings[i].options) for i in ready]
    decoded = decode_many(model, jobs)
    decoded_ms = (time.perf_counter() - started) * 1000
    for i, outcome in zip(ready, decoded, strict=True):
        pending = pendings[i]
        if isinstance(outcome, DeadlineExceeded):
            results[i] = pending.took_too_long()
        elif isinstance(outcome, Exception):
            results[i] = outcome
        else:
            try:
                results[i] = as_json(pending.respond(outcome, started, decoded_ms))
            except Exception as err:  # one response's failure is its own
                results[i] = err
    return results
