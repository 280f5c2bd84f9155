"""Gzip for the API's JSON answers, made on a worker thread rather than on the event loop.

An answer of /api/translate carries every attention map: about 200 KB for a long sentence.
Starlette's GZipMiddleware compresses on the event loop, where each compression holds up every
other request. zlib lets go of the GIL while it compresses, so on a worker thread it runs
beside the Python work of the other requests; it still takes a core, which on a busy server is
time taken from decoding, hence level 1. The
middleware passes a response that already names its Content-Encoding through untouched, and
still compresses the pages and the small answers, at the same settings.
"""

import gzip

import anyio
from fastapi import Request, Response

MINIMUM_SIZE = 1000  # bytes: below this, gzip saves too little to be worth its time
# On a 200 KB answer level 1 takes 1.1 ms and gives 61 KB; level 5 takes 3.7 ms for 54 KB, and
# Starlette's 9 takes 70 ms for 8% less again (bench/latency.py).
LEVEL = 1


def accepts_gzip(request: Request) -> bool:
    """As GZipMiddleware decides: the client names gzip in Accept-Encoding."""
    return "gzip" in request.headers.get("accept-encoding", "")


async def json_response(content: bytes, request: Request) -> Response:
    """`content` (JSON) as the response, gzipped on a worker thread when the client takes gzip
    and it is at least MINIMUM_SIZE bytes. Otherwise GZipMiddleware sees it, and adds the
    Vary header itself."""
    if len(content) < MINIMUM_SIZE or not accepts_gzip(request):
        return Response(content, media_type="application/json")
    zipped = await anyio.to_thread.run_sync(gzip.compress, content, LEVEL)
    headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    return Response(zipped, media_type="application/json", headers=headers)
