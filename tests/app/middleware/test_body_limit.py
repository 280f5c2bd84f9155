"""Over-limit bodies against a live uvicorn: the client always reads its 413."""

import http.client
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI, Request

from app.middleware.body_limit import BodyLimit

LIMIT = 16 * 1024


def echo_app(drain_bytes: int) -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict:
        return {"bytes": len(await request.body())}

    app.add_middleware(BodyLimit, max_bytes=LIMIT, drain_bytes=drain_bytes)
    return app


def serve(app: FastAPI) -> Iterator[int]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    yield server.servers[0].sockets[0].getsockname()[1]
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    yield from serve(echo_app(drain_bytes=4 * 1024 * 1024))


def post(port: int, body: bytes, chunked: bool = False) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        if chunked:
            connection.request("POST", "/echo", body=iter([body]), encode_chunked=True)
        else:
            connection.request("POST", "/echo", body=body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_thirty_bodies_of_two_megabytes_in_a_row_each_get_their_413(port: int) -> None:
    body = b"x" * (2 * 1024 * 1024)
    answers = [post(port, body) for _ in range(30)]
    assert [status for status, _ in answers] == [413] * 30
    assert all(b"over the 16,384-byte limit" in content for _, content in answers)


def test_a_chunked_body_over_the_limit_gets_its_413_too(port: int) -> None:
    status, content = post(port, b"x" * (1024 * 1024), chunked=True)
    assert status == 413 and b"over the 16,384-byte limit" in content


def test_a_body_under_the_limit_is_read_as_usual(port: int) -> None:
    assert post(port, b"x" * 1000) == (200, b'{"bytes":1000}')
