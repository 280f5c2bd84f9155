"""Settings from the environment (prefix ATTNSCOPE_), so deployments change nothing in code.

Every limit a request can meet lives here, and the README lists them. A request beyond a limit
gets a 4xx (or a 503 when the server is full) whose `detail` names the limit.
"""

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from model import CHECKPOINTS_DIR, MAX_BEAM_SIZE, MIN_TEMPERATURE, SHIPPED_MODELS


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATTNSCOPE_")

    host: str = "127.0.0.1"
    port: int = 8000
    model_dir: Path = CHECKPOINTS_DIR  # holds one sub-directory per model
    models: list[str] = list(SHIPPED_MODELS)  # loaded at start-up; first of a kind: default

    # What one request may ask for.
    max_text_chars: int = Field(200, ge=1, le=1000)
    max_prompt_chars: int = Field(600, ge=1, le=2000)  # a GPT prompt: up to three pairs and a query
    max_body_bytes: int = Field(16 * 1024, ge=1024)  # a larger body gets a 413
    # A body over the limit but within this is read and dropped before its 413, so the client,
    # still sending, can read the answer; a larger one is answered and closed on at once.
    max_drain_bytes: int = Field(4 * 1024 * 1024, ge=0)
    max_new_tokens: int = Field(128, ge=1, le=256)
    max_beam_size: int = Field(MAX_BEAM_SIZE, ge=1, le=MAX_BEAM_SIZE)
    # Sampling: the range of temperature, the largest top-k, and the smallest top-p (0, 1].
    min_temperature: float = Field(MIN_TEMPERATURE, ge=MIN_TEMPERATURE)
    max_temperature: float = Field(5.0, ge=MIN_TEMPERATURE, le=100)
    max_top_k: int = Field(1000, ge=1)
    min_top_p: float = Field(0.01, gt=0, le=1)

    # How much work runs at once. `max_concurrent` workers run the line; a request waits while
    # the work ahead of it (at its measured cost) leaves it time to finish within
    # `request_timeout_s`, and gets a 503 with Retry-After at once otherwise, or when
    # `max_concurrent + max_queue` requests are in already (a bound on memory). One that does
    # not finish in time (waiting included) gets a 503 too, and its decoding stops.
    max_concurrent: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    max_queue: int = Field(256, ge=0)
    request_timeout_s: float = Field(10.0, gt=0)
    # Translations and generations waiting for one model are decoded together, this many at most.
    max_batch: int = Field(16, ge=1, le=64)
    torch_threads: int = Field(1, ge=1)  # per inference; concurrency comes from max_concurrent

    # Origins allowed to call the API from their own pages; none by default (CORS off).
    cors_origins: list[str] = []

    def decoding_limits(self) -> dict[str, float]:
        """The ranges of the decoding fields, as the schema, the page and the CLI use them."""
        return {
            "max_new_tokens": self.max_new_tokens,
            "max_beam_size": self.max_beam_size,
            "min_temperature": self.min_temperature,
            "max_temperature": self.max_temperature,
            "max_top_k": self.max_top_k,
            "min_top_p": self.min_top_p,
            "max_text_chars": self.max_text_chars,
            "max_prompt_chars": self.max_prompt_chars,
        }
