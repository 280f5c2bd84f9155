"""`python -m app.healthcheck`: exit 0 when the local server answers /healthz, else 1.

The container's HEALTHCHECK runs this every 30 s. It uses the standard library only, because
importing the app (and torch) would cost seconds of CPU on every check. It reads the same
ATTNSCOPE_HOST and ATTNSCOPE_PORT variables as the server.
"""

import os
import sys
import urllib.request

ANY_ADDRESS = {"", "0.0.0.0", "::"}


def healthz_url(environ: dict[str, str]) -> str:
    host = environ.get("ATTNSCOPE_HOST", "127.0.0.1")
    if host in ANY_ADDRESS:
        host = "127.0.0.1"  # a server bound to every address answers on loopback
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal
    return f"http://{host}:{environ.get('ATTNSCOPE_PORT', '8000')}/healthz"


def main() -> int:
    url = healthz_url(dict(os.environ))
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            healthy = response.status == 200
    except OSError as err:  # refused, timed out, or an HTTP error status
        print(f"unhealthy: {url}: {err}", file=sys.stderr)  # noqa: T201
        return 1
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
