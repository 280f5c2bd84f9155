"""Refuse request bodies over a size limit with a 413, before the app reads or parses them.

A body over the limit, declared by its Content-Length or found while reading a chunked one, is
refused; the app never sees it and the server never holds more than the limit. The rest of
such a body is read and thrown away first, up to `drain_bytes` and for `drain_s` at most: a
server that answers and closes while the client is still sending makes the client's kernel
reset the connection, and the client never reads its 413. Past those bounds the server answers
and closes at once. A body within the limit reaches the app as usual (replayed from here).
"""

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DRAIN_S = 5.0  # the longest a refused body is read for


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, drain_bytes: int = 4 * 1024 * 1024) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.drain_bytes = drain_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            # A client that waits for "100 Continue" has sent nothing yet: refuse it unread.
            waits = headers.get(b"expect", b"").lower() == b"100-continue"
            if declared.isdigit() and int(declared) <= self.drain_bytes and not waits:
                await self.drain(receive, 0)
            await self.refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left before sending its body
            chunk = message.get("body", b"")
            size += len(chunk)
            more = message.get("more_body", False)
            if size > self.max_bytes:
                if more:
                    await self.drain(receive, size)
                await self.refuse(send)
                return
            chunks.append(chunk)
            if not more:
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: a disconnect, when it comes
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def drain(self, receive: Receive, read: int) -> None:
        """Read and drop the rest of a body, `read` bytes of which are in, within the bounds."""

        async def read_rest() -> None:
            size = read
            while size <= self.drain_bytes:
                message = await receive()
                size += len(message.get("body", b""))
                if message["type"] == "http.disconnect" or not message.get("more_body", False):
                    return

        try:
            await asyncio.wait_for(read_rest(), DRAIN_S)
        except TimeoutError:
            pass  # a client this slow is answered and closed on

    async def refuse(self, send: Send) -> None:
        detail = f"the request body is over the {self.max_bytes:,}-byte limit; send a shorter text"
        body = json.dumps({"detail": detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
