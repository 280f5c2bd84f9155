"""ASGI middleware: body size limits, HTTP habits FastAPI refuses, and security headers."""
