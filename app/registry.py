"""The loaded models: loaded once at start-up, found by name or by kind, described for the API."""

import logging
import time
from pathlib import Path

import torch

from app.schemas import ModelInfo
from app.settings import Settings
from model import Architecture, Checkpoint, DemonstrationPool, load_checkpoint, parameter_count

log = logging.getLogger("attnscope.registry")


class UnknownModelError(LookupError):
    """No loaded model has that name, or none of the kind asked for (a 404)."""


class Registry:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.checkpoints: dict[str, Checkpoint] = {}
        self.pools: dict[str, DemonstrationPool] = {}  # indexed once, for the GPTs that ship one

    def load(self) -> None:
        torch.set_num_threads(self.settings.torch_threads)
        for name in self.settings.models:
            started = time.perf_counter()
            checkpoint = load_checkpoint(self.settings.model_dir / name, name)
            self.checkpoints[name] = checkpoint
            if checkpoint.pool:
                self.pools[name] = DemonstrationPool(checkpoint.pool)
            log.info("loaded %s in %.2f s", name, time.perf_counter() - started)

    @property
    def ready(self) -> bool:
        return bool(self.checkpoints)

    def get(
        self, name: str | None, architecture: Architecture | None = None, reward: bool = False
    ) -> Checkpoint:
        """The named model, or without a name the first loaded of `architecture` that is (with
        `reward`) or is not a reward model."""
        if name is None:
            for checkpoint in self.checkpoints.values():
                if architecture in (None, checkpoint.config.architecture) and reward == (
                    checkpoint.stage == "reward"
                ):
                    return checkpoint
            raise UnknownModelError(f"no {'reward' if reward else architecture} model is loaded")
        if name not in self.checkpoints:
            available = ", ".join(self.checkpoints)
            raise UnknownModelError(f"there is no model '{name}'; available: {available}")
        return self.checkpoints[name]

    def translator(self, name: str | None) -> Checkpoint:
        """An encoder-decoder: the named one, or the first loaded."""
        checkpoint = self.get(name, "encoder-decoder")
        if checkpoint.stage == "reward":
            raise UnknownModelError(f"'{checkpoint.name}' is a reward model; use /api/reward")
        if checkpoint.src_tokenizer is None:
            raise UnknownModelError(f"'{checkpoint.name}' is a GPT; use /api/generate")
        return checkpoint

    def gpt(self, name: str | None, hint: str = "use /api/translate") -> Checkpoint:
        """A decoder-only model: the named one, or the first loaded. `hint` says what to do
        when the name is a translation model's."""
        checkpoint = self.get(name, "decoder-only")
        if checkpoint.config.architecture != "decoder-only":
            raise UnknownModelError(f"'{checkpoint.name}' translates; {hint}")
        if checkpoint.stage == "reward":
            raise UnknownModelError(
                f"'{checkpoint.name}' is a reward model: it scores answers and writes none; "
                "use /api/reward"
            )
        return checkpoint

    def reward(self, name: str | None) -> Checkpoint:
        """A reward model (stage "reward"): the named one, or the first loaded."""
        checkpoint = self.get(name, "decoder-only", reward=True)
        if checkpoint.stage != "reward":
            kind = (
                "a translation model" if checkpoint.src_tokenizer else f"a {checkpoint.stage} GPT"
            )
            raise UnknownModelError(
                f"'{checkpoint.name}' is {kind}, not a reward model (stage reward)"
            )
        return checkpoint

    def translators_from(self, language: str) -> list[str]:
        """Names of the loaded translation models that read `language`."""
        return [
            c.name
            for c in self.checkpoints.values()
            if c.meta.get("source_language") == language and c.src_tokenizer is not None
        ]

    def models(self) -> list[ModelInfo]:
        return [describe(checkpoint, self.settings) for checkpoint in self.checkpoints.values()]


def trained_from(checkpoint: Checkpoint) -> str | None:
    """The checkpoint a stage after pre-training started from (its directory's name, as its
    recipe recorded it); None for a base model."""
    start = checkpoint.meta.get("init_from")
    return Path(start).name if checkpoint.stage != "base" and start else None


def describe(checkpoint: Checkpoint, settings: Settings) -> ModelInfo:
    c = checkpoint.config
    metrics = {k: v for k, v in checkpoint.metrics.items() if isinstance(v, int | float | str)}
    return ModelInfo(
        name=checkpoint.name,
        architecture=c.architecture,
        stage=checkpoint.stage,
        trained_from=trained_from(checkpoint),
        source_language=checkpoint.meta.get("source_language"),
        target_language=checkpoint.meta.get("target_language", ""),
        n_layers=c.n_decoder_layers,
        n_heads=c.n_heads,
        d_model=c.d_model,
        parameters=parameter_count(checkpoint.model),
        metrics=metrics,
        max_text_chars=settings.max_text_chars,
        max_prompt_chars=settings.max_prompt_chars,
        max_new_tokens=settings.max_new_tokens,
        max_beam_size=settings.max_beam_size,
    )
