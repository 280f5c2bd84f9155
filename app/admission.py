"""Admission control: a request waits in line while its expected wait fits its time limit, and
the requests that wait together for one model run together, as one batch.

Inference is CPU-bound: running more of it at once than there are cores only makes every request
slower. So `running` workers run the line, each on a thread of one small pool of its own. A
worker takes the request at the head of the line, and with it every request waiting for the same
group (decodings of the same model), up to `batch_size`: one batched decoding costs a fraction
of decoding each alone. Work that cannot share (beam search, a reward, a lesson) runs alone.
While a group of some key runs, the requests of that key that arrive meanwhile are held until
they fill half a batch or that run ends: a batch of one beside a running batch of the same model
costs a worker nearly what a full batch costs (bench/serving.py: with 16 clients most batches
were single requests, and the server answered a fifth fewer than it does holding them).

A request is admitted while the work ahead of it, at the measured seconds per request of each
kind, fits within its time limit; otherwise it gets a 503 at once, with a Retry-After of the
time the line needs to shrink enough, not after a wait that ends in a timeout. However cheap the
estimate, at most `running + waiting` requests are admitted at once (a bound on memory).

The pool matters for memory too: torch keeps allocator state per thread, so running inference on
a few threads of its own keeps the process's memory flat under load (bench/load.py measures it),
where the server's many general threads would each grow their own.
"""

import asyncio
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
P = TypeVar("P")
FIRST_GUESS_S = 0.1  # seconds per request of a kind not measured yet
SMOOTHING = 0.3  # weight of the newest measurement in the running average


class ServerBusy(Exception):
    """The server cannot take this request now; the client should retry after `retry_after` s."""

    def __init__(self, detail: str, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


GroupRun = Callable[[list[Any]], Sequence[Any]]  # payloads -> one result or exception each


@dataclass(frozen=True)
class _Run:
    """A group a worker is running."""

    start: float  # time.monotonic() when it started
    expected_s: float  # what it should take, at the measured cost of its kind
    key: Hashable | None


@dataclass
class _Entry:
    """One admitted request in line: what runs it, and where its answer goes."""

    run: GroupRun
    payload: Any
    key: Hashable | None  # entries with one key run together; None runs alone
    kind: str  # whose measured cost estimates this one
    future: asyncio.Future = field(repr=False)


class Admission:
    def __init__(
        self, running: int, waiting: int, limit_s: float = 10.0, batch_size: int = 16
    ) -> None:
        self.running = running
        self.waiting = waiting
        self.limit_s = limit_s
        self.batch_size = batch_size
        self.pool = ThreadPoolExecutor(max_workers=running, thread_name_prefix="inference")
        self.admitted = 0  # running plus waiting; only the event loop's thread changes it
        self.line: deque[_Entry] = deque()
        self.started: dict[int, _Run] = {}  # group id -> its run
        self.seconds: dict[str, float] = {}  # kind -> running average of seconds per request

    async def run(self, work: Callable[[], T], kind: str = "alone") -> T:
        """Run `work` alone on the inference pool, or raise ServerBusy at once when it would
        not fit. `work` should check its own deadline when it starts, since it may have waited."""
        return await self._admit(lambda _: [work()], None, None, kind)

    async def join(self, key: Hashable, payload: P, run_group: GroupRun, kind: str) -> Any:
        """Queue `payload` to run as one of a group: `run_group(payloads)` gets every payload of
        `key` waiting when a worker takes the first, and returns one result (or exception) for
        each. Raises this payload's exception, or ServerBusy at once when it would not fit."""
        return await self._admit(run_group, payload, key, kind)

    def cost(self, kind: str) -> float:
        """Expected seconds per request of this kind."""
        return self.seconds.get(kind, max(self.seconds.values(), default=FIRST_GUESS_S))

    def measured(self, kind: str, seconds: float, requests: int) -> None:
        """Fold a run of `requests` requests that took `seconds` into the kind's average."""
        each = seconds / max(requests, 1)
        old = self.seconds.get(kind)
        self.seconds[kind] = each if old is None else (1 - SMOOTHING) * old + SMOOTHING * each

    def expected_wait(self) -> float:
        """Seconds until a worker takes a request joining the line now: the work ahead of it
        (what runs, less what it has done; what waits), shared by the workers."""
        now = time.monotonic()
        running = sum(max(0.0, r.expected_s - (now - r.start)) for r in self.started.values())
        waiting = sum(self.cost(entry.kind) for entry in self.line)
        return (running + waiting) / self.running

    def _refusal(self, kind: str) -> ServerBusy | None:
        """Why a request of this kind cannot join the line now, if it cannot."""
        wait = self.expected_wait()
        retry_after = max(1, math.ceil(wait + self.cost(kind) - self.limit_s))
        if self.admitted >= self.running + self.waiting:  # a place frees when a run ends
            now = time.monotonic()
            soonest = min(
                (r.expected_s - (now - r.start) for r in self.started.values()), default=0.0
            )
            return ServerBusy(
                f"the server is busy: {self.admitted} requests are running or waiting, its "
                "limit; try again in a moment",
                max(1, math.ceil(soonest)),
            )
        # With nothing ahead a request runs at once, whatever the estimate: it is how a wrong
        # estimate gets measured again.
        if (self.started or self.line) and wait + self.cost(kind) > self.limit_s:
            return ServerBusy(
                f"the server is busy: the requests ahead of this one need about {wait:.1f} s, "
                f"and an answer must come within {self.limit_s:g} s; try again in "
                f"{retry_after} s",
                retry_after,
            )
        return None

    async def _admit(self, run: GroupRun, payload: Any, key: Hashable | None, kind: str) -> Any:
        refusal = self._refusal(kind)
        if refusal is not None:
            raise refusal
        future = asyncio.get_running_loop().create_future()
        self.line.append(_Entry(run, payload, key, kind, future))
        self.admitted += 1
        try:
            self._dispatch()
            return await future
        finally:
            self.admitted -= 1

    def _next_head(self) -> _Entry | None:
        """The first entry of the line that is not held. An entry is held while a group of its
        key runs and fewer than half a batch of its key wait; the run's end dispatches them,
        however few."""
        running = {run.key for run in self.started.values()}
        waiting = Counter(entry.key for entry in self.line)
        for entry in self.line:
            if entry.key is None or entry.key not in running:
                return entry
            if waiting[entry.key] >= self.batch_size // 2:
                return entry
        return None

    def _dispatch(self) -> None:
        """Give each idle worker the first entry of the line that is not held, and the entries
        of the same key behind it."""
        while len(self.started) < self.running:
            head = self._next_head()
            if head is None:
                return
            self.line.remove(head)
            if head.future.done():  # its request was cancelled while it waited
                continue
            group = [head]
            if head.key is not None:
                for entry in list(self.line):
                    if len(group) == self.batch_size:
                        break
                    if entry.key == head.key:
                        self.line.remove(entry)
                        if not entry.future.done():
                            group.append(entry)
            self._start(group)

    def _start(self, group: list[_Entry]) -> None:
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        expected = self.cost(group[0].kind) * len(group)
        self.started[id(group)] = _Run(started, expected, group[0].key)
        payloads = [entry.payload for entry in group]
        done = loop.run_in_executor(self.pool, group[0].run, payloads)

        def finish(outcome: asyncio.Future) -> None:
            del self.started[id(group)]
            self.measured(group[0].kind, time.monotonic() - started, len(group))
            for entry, result in zip(group, _results(outcome, len(group)), strict=True):
                if entry.future.done():
                    continue
                if outcome.cancelled():
                    entry.future.cancel()
                elif isinstance(result, BaseException):
                    entry.future.set_exception(result)
                else:
                    entry.future.set_result(result)
            self._dispatch()

        done.add_done_callback(finish)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _results(outcome: asyncio.Future, count: int) -> list[Any]:
    """One result or exception per entry of a group that has run: its run's exception for all
    of them, when the run itself failed."""
    if outcome.cancelled():
        return [None] * count
    error = outcome.exception()
    results = list(outcome.result()) if error is None else [error] * count
    if len(results) != count:
        results = [RuntimeError(f"a group of {count} gave {len(results)} results")] * count
    return results
