"""Admission control: a few inferences run, a short line waits, and the rest are refused at once.

Inference is CPU-bound: running more of it at once than there are cores only makes every request
slower. So `running` inferences run, each on a thread of one small pool of its own, up to
`waiting` more wait in line, and a request beyond those gets a 503 with Retry-After straight away,
not after a long wait that ends in a timeout.

The pool matters for memory too: torch keeps allocator state per thread, so running inference on
a few threads of its own keeps the process's memory flat under load (bench/load.py measures it),
where the server's many general threads would each grow their own.
"""

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class ServerBusy(Exception):
    """The server cannot take this request now; the client should retry after `retry_after` s."""

    def __init__(self, detail: str, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class Admission:
    def __init__(self, running: int, waiting: int) -> None:
        self.running = running
        self.waiting = waiting
        self.pool = ThreadPoolExecutor(max_workers=running, thread_name_prefix="inference")
        self.admitted = 0  # running plus waiting; only the event loop's thread changes it

    async def run(self, work: Callable[[], T]) -> T:
        """Run `work` on the inference pool, or raise ServerBusy at once when the line is full.

        `work` should check its own deadline when it starts, since it may have waited."""
        if self.admitted >= self.running + self.waiting:
            raise ServerBusy(
                f"the server is busy: {self.running} requests are running and {self.waiting} "
                "are waiting; try again in a moment"
            )
        self.admitted += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, work)
        finally:
            self.admitted -= 1

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
