"""Two things ordinary HTTP clients do that FastAPI's routes refuse on their own.

- HEAD: uptime checkers and proxies probe with it, and RFC 9110 says a server answers HEAD
  wherever it answers GET, with the same headers and no body. FastAPI's routes answer 405.
- `curl -X POST /api/translate -d '{"text": "我有一只猫。"}'`, the call in the design, labels
  its JSON body `application/x-www-form-urlencoded`, and FastAPI reads only bodies labelled as
  JSON (it would answer a 422 about a "dictionary"). Every POST under /api takes a JSON body and
  nothing else, so the body is read as JSON whatever its label says; a body that is not JSON
  still gets a 422 that says so. (The strict label check guards against cross-site form posts;
  here such a post could only ask for inference, a translation or a few learning steps on a
  throw-away copy: the API has no state, no cookies and no side effects, and admission and the
  deadline bound the work.)
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON = b"application/json"


class HeadAsGet:
    """Answer HEAD as GET, and send the headers without the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


class JsonBodies:
    """Label every POST body under /api as JSON, which is the only kind the API reads (the
    label the client sent is replaced, not added to)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].startswith("/api/")
        ):
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
            scope = {**scope, "headers": [*headers, (b"content-type", JSON)]}
        await self.app(scope, receive, send)
