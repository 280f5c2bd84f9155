"""Settings from the environment (prefix ATTNSCOPE_), so deployments change nothing in code."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from model.checkpoint import CHECKPOINTS_DIR


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATTNSCOPE_")

    host: str = "127.0.0.1"
    port: int = 8000
    model_dir: Path = CHECKPOINTS_DIR  # holds one sub-directory per model
    models: list[str] = ["zh-en", "en-zh"]  # loaded at start-up; the first is the default
    max_concurrent: int = 2  # inferences running at once (the rest wait in the threadpool)
    torch_threads: int = 1  # per inference; concurrency comes from max_concurrent
