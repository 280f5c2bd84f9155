"""The model service: loads the checkpoints once and turns a request into a traced response.

Routes call it from the threadpool (inference is CPU-bound); a semaphore bounds how many
inferences run at once, so a burst queues instead of oversubscribing the cores.
"""

import logging
import threading
import time
from dataclasses import fields

import torch

from app.schemas import (
    AttentionMap,
    Candidate,
    ModelInfo,
    PositionalEncoding,
    Step,
    TranslateRequest,
    TranslateResponse,
)
from app.settings import Settings
from model.checkpoint import Checkpoint, load_checkpoint
from model.decoding import Decoded, DecodingOptions, decode
from model.layers import positional_encoding
from model.transformer import parameter_count

log = logging.getLogger("attnscope.service")
DECODING_FIELDS = {field.name for field in fields(DecodingOptions)}
DECIMALS = 4  # weights are rounded: 4 decimals are more than a heatmap can show


class UnknownModelError(LookupError):
    pass


class ModelService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.checkpoints: dict[str, Checkpoint] = {}
        self.gate = threading.BoundedSemaphore(settings.max_concurrent)
        self.cached_seed: TranslateResponse | None = None  # the page's first paint

    def load(self) -> None:
        torch.set_num_threads(self.settings.torch_threads)
        for name in self.settings.models:
            started = time.perf_counter()
            self.checkpoints[name] = load_checkpoint(self.settings.model_dir / name, name)
            log.info("loaded %s in %.2f s", name, time.perf_counter() - started)

    @property
    def ready(self) -> bool:
        return bool(self.checkpoints)

    def get(self, name: str | None) -> Checkpoint:
        if name is None:
            return next(iter(self.checkpoints.values()))
        if name not in self.checkpoints:
            available = ", ".join(self.checkpoints)
            raise UnknownModelError(f"there is no model '{name}'; available: {available}")
        return self.checkpoints[name]

    def models(self) -> list[ModelInfo]:
        return [describe(checkpoint) for checkpoint in self.checkpoints.values()]

    def positional_encoding(self, name: str | None, length: int) -> PositionalEncoding:
        d_model = self.get(name).config.d_model
        table = positional_encoding(length, d_model).double().round(decimals=DECIMALS)
        return PositionalEncoding(d_model=d_model, values=table.tolist())

    def translate(self, request: TranslateRequest) -> TranslateResponse:
        checkpoint = self.get(request.model)
        if checkpoint.src_tokenizer is None:
            raise UnknownModelError(f"'{checkpoint.name}' is not a translation model")
        started = time.perf_counter()
        src_ids = checkpoint.src_tokenizer.encode(request.text.strip())[: checkpoint.config.max_len]
        # The request's decoding fields carry the same names as DecodingOptions.
        options = DecodingOptions(**request.model_dump(include=DECODING_FIELDS))
        with self.gate:
            decoded = decode(checkpoint.model, src_ids, [checkpoint.config.bos_id], options)
        decoded_ms = (time.perf_counter() - started) * 1000
        response = build_response(checkpoint, decoded)
        response.timing_ms = {
            "decode_and_trace": round(decoded_ms, 2),
            "total": round((time.perf_counter() - started) * 1000, 2),
        }
        return response


def describe(checkpoint: Checkpoint) -> ModelInfo:
    c = checkpoint.config
    metrics = {k: v for k, v in checkpoint.metrics.items() if isinstance(v, int | float | str)}
    return ModelInfo(
        name=checkpoint.name,
        architecture=c.architecture,
        source_language=checkpoint.meta.get("source_language"),
        target_language=checkpoint.meta.get("target_language", ""),
        n_layers=c.n_decoder_layers,
        n_heads=c.n_heads,
        d_model=c.d_model,
        parameters=parameter_count(checkpoint.model),
        metrics=metrics,
    )


def build_response(checkpoint: Checkpoint, decoded: Decoded) -> TranslateResponse:
    tgt = checkpoint.tgt_tokenizer
    source_tokens = checkpoint.src_tokenizer.tokens(decoded.src_ids) if decoded.src_ids else []
    query_tokens = tgt.tokens(decoded.decoder_input_ids)
    steps = [
        Step(
            index=s.index,
            token=tgt.tokens([s.token_id])[0],
            token_id=s.token_id,
            prob=round(s.prob, DECIMALS),
            candidates=[
                Candidate(token=tgt.tokens([t])[0], prob=round(p, DECIMALS))
                for t, p in s.candidates
            ],
        )
        for s in decoded.steps
    ]
    attention = []
    for name, probs in decoded.trace.probs.items():
        stack, layer, kind = name.split(".")
        attention.append(
            AttentionMap(
                name=name,
                stack=stack,
                layer=int(layer),
                kind=kind,
                query_tokens=source_tokens if stack == "encoder" else query_tokens,
                key_tokens=query_tokens if (stack, kind) == ("decoder", "self") else source_tokens,
                weights=probs.double().round(decimals=DECIMALS).tolist(),
            )
        )
    return TranslateResponse(
        model=checkpoint.name,
        source_tokens=source_tokens,
        target_tokens=tgt.tokens(decoded.output_ids),
        translation=tgt.decode(decoded.output_ids),
        steps=steps,
        attention=attention,
        timing_ms={},
    )
