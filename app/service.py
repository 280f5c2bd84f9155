"""The model service: loads the checkpoints once and turns a request into a traced response.

Translation runs on the admission pool's few threads (inference is CPU-bound); admission bounds
how many run and wait at once. Each request has a deadline, waiting included, and its decoding
stops when the deadline passes.
"""

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import fields
from typing import TypeVar

import torch

from app.admission import Admission, ServerBusy
from app.notes import LANGUAGES, SCRIPTS
from app.schemas import (
    AttentionMap,
    Candidate,
    DecodingFields,
    GenerateRequest,
    GenerateResponse,
    HeadScores,
    ModelInfo,
    PositionalEncoding,
    Role,
    Step,
    TranslateRequest,
    TranslateResponse,
)
from app.settings import Settings
from model.checkpoint import Checkpoint, load_checkpoint
from model.decoding import DeadlineExceeded, Decoded, DecodingOptions, decode
from model.layers import positional_encoding
from model.scores import head_score_table, share_on_keys
from model.tokenizer import ARROW, NEWLINE
from model.transformer import parameter_count

log = logging.getLogger("attnscope.service")
T = TypeVar("T")
ClientGone = Callable[[], Awaitable[bool]]  # e.g. Starlette's request.is_disconnected
CLIENT_CHECK_S = 0.1  # how often a request's connection is checked while it is decoded
DECODING_FIELDS = {field.name for field in fields(DecodingOptions)}
DECIMALS = 4  # weights are rounded: 4 decimals are more than a heatmap can show
SEED_TEXT = "我有一只猫。"  # the textbook example: the page opens with it already translated


class UnknownModelError(LookupError):
    pass


class TooLongError(ValueError):
    """A text or prompt longer, in tokens, than the model's positions allow (a 422)."""


class ModelService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.checkpoints: dict[str, Checkpoint] = {}
        self.admission = Admission(settings.max_concurrent, settings.max_queue)
        self.cached_seed: TranslateResponse | None = None  # the page's first paint
        self.head_scores_by_model: dict[str, HeadScores] = {}  # fixed for given weights

    def load(self) -> None:
        torch.set_num_threads(self.settings.torch_threads)
        for name in self.settings.models:
            started = time.perf_counter()
            self.checkpoints[name] = load_checkpoint(self.settings.model_dir / name, name)
            log.info("loaded %s in %.2f s", name, time.perf_counter() - started)

    def warm_up(self) -> None:
        """Translate the seed sentence once: the page's first paint, and torch's first run."""
        try:
            self.cached_seed = self.translate(TranslateRequest(text=SEED_TEXT))
        except (ServerBusy, UnknownModelError) as err:  # a tiny deadline, or only a GPT loaded
            log.warning("warm-up skipped: %s", err)

    @property
    def ready(self) -> bool:
        return bool(self.checkpoints)

    def get(self, name: str | None, architecture: str | None = None) -> Checkpoint:
        """The named model, or without a name the first loaded of `architecture`."""
        if name is None:
            for checkpoint in self.checkpoints.values():
                if architecture in (None, checkpoint.config.architecture):
                    return checkpoint
            raise UnknownModelError(f"no {architecture} model is loaded")
        if name not in self.checkpoints:
            available = ", ".join(self.checkpoints)
            raise UnknownModelError(f"there is no model '{name}'; available: {available}")
        return self.checkpoints[name]

    def models(self) -> list[ModelInfo]:
        return [describe(checkpoint, self.settings) for checkpoint in self.checkpoints.values()]

    def positional_encoding(self, name: str | None, length: int) -> PositionalEncoding:
        d_model = self.get(name).config.d_model
        table = positional_encoding(length, d_model).double().round(decimals=DECIMALS)
        return PositionalEncoding(d_model=d_model, values=table.tolist())

    async def translate_json(
        self, request: TranslateRequest, client_gone: ClientGone | None = None
    ) -> bytes:
        """Translate under admission control, and serialize on the inference thread too, so the
        event loop only moves bytes. Raises ServerBusy (503), UnknownModelError (404) and
        TooLongError (422), the last two before the request takes a place in line; and Stopped
        once `client_gone()` is true: decoding stops rather than run for nobody."""
        checked = self.source_ids(request)  # tokenized once: the thread reuses it
        deadline = time.monotonic() + self.settings.request_timeout_s
        return await self.admitted(
            lambda stop: as_json(self.translate(request, deadline, stop, checked)),
            client_gone,
        )

    async def generate_json(
        self, request: GenerateRequest, client_gone: ClientGone | None = None
    ) -> bytes:
        """As translate_json, for a GPT continuing a prompt."""
        checked = self.prompt_ids(request)
        deadline = time.monotonic() + self.settings.request_timeout_s
        return await self.admitted(
            lambda stop: as_json(self.generate(request, deadline, stop, checked)),
            client_gone,
        )

    async def admitted(
        self, work: Callable[[threading.Event], T], client_gone: ClientGone | None
    ) -> T:
        """Run `work(stop)` under admission; `stop` is set if the client goes away meanwhile.

        Ten clients that gave up after 0.3 s used to keep both cores busy for five seconds."""
        stop = threading.Event()
        watcher = asyncio.create_task(watch(client_gone, stop)) if client_gone else None
        try:
            return await self.admission.run(lambda: work(stop))
        finally:
            if watcher is not None:
                watcher.cancel()

    async def head_scores(self, name: str | None) -> HeadScores:
        """Each GPT head's induction and previous-token scores, computed once per model."""
        checkpoint = self.get(name, "decoder-only")
        if checkpoint.config.architecture != "decoder-only":
            raise UnknownModelError(f"'{checkpoint.name}' translates; head scores are for a GPT")
        if checkpoint.name not in self.head_scores_by_model:
            span, samples = min(20, (checkpoint.config.max_len - 1) // 2), 16
            vocab = checkpoint.config.tgt_vocab_size
            table = await self.admission.run(
                lambda: head_score_table(checkpoint.model, vocab, span, samples)
            )
            self.head_scores_by_model[checkpoint.name] = HeadScores(
                model=checkpoint.name,
                span_length=span,
                samples=samples,
                **{
                    kind: {
                        site: [round(v, DECIMALS) for v in row[kind]] for site, row in table.items()
                    }
                    for kind in ("induction", "previous_token")
                },
            )
        return self.head_scores_by_model[checkpoint.name]

    def source_ids(self, request: TranslateRequest) -> tuple[Checkpoint, list[int]]:
        """The translation model asked for and the text's tokens, checked: all of them fit."""
        checkpoint = self.get(request.model, "encoder-decoder")
        if checkpoint.src_tokenizer is None:
            raise UnknownModelError(f"'{checkpoint.name}' is a GPT; use /api/generate")
        src_ids = checkpoint.src_tokenizer.encode(request.text.strip())
        limit = checkpoint.config.max_len
        if len(src_ids) > limit:  # cutting it would translate a sentence nobody typed
            raise TooLongError(
                f"the text is {len(src_ids)} tokens; '{checkpoint.name}' reads at most {limit}: "
                "shorten it or split it into sentences"
            )
        return checkpoint, src_ids

    def prompt_ids(self, request: GenerateRequest) -> tuple[Checkpoint, list[int]]:
        """The GPT asked for and the prompt's tokens, checked: they fit with room to answer."""
        checkpoint = self.get(request.model, "decoder-only")
        if checkpoint.config.architecture != "decoder-only":
            raise UnknownModelError(f"'{checkpoint.name}' translates; use /api/translate")
        prompt_ids = checkpoint.tgt_tokenizer.encode(request.prompt.strip())
        limit = checkpoint.config.max_len - 2  # <s>, the prompt, and room for one answer token
        if len(prompt_ids) > limit:
            raise TooLongError(
                f"the prompt is {len(prompt_ids)} tokens; '{checkpoint.name}' reads at most "
                f"{limit} with room to answer: shorten it or use fewer demonstrations"
            )
        return checkpoint, prompt_ids

    def translate(
        self,
        request: TranslateRequest,
        deadline: float | None = None,
        stop: threading.Event | None = None,
        checked: tuple[Checkpoint, list[int]] | None = None,
    ) -> TranslateResponse:
        """Decode and trace on the calling thread; `deadline` is a time.monotonic() value;
        `checked` is source_ids(request), when the caller has it already."""
        checkpoint, src_ids = checked or self.source_ids(request)
        bos = [checkpoint.config.bos_id]
        response = self.run(checkpoint, request, src_ids, bos, deadline, stop=stop)[0]
        response.notes = [*self.input_notes(checkpoint, request.text, src_ids), *response.notes]
        return response

    def input_notes(self, checkpoint: Checkpoint, text: str, src_ids: list[int]) -> list[str]:
        """What a reader should know before trusting the translation: the text is in the other
        language, or the model has never seen most of its characters. Empty when all is well."""
        notes = []
        source = checkpoint.meta.get("source_language", "")
        other = {"zh": "en", "en": "zh"}.get(source)
        if other and not SCRIPTS[source].search(text) and SCRIPTS[other].search(text):
            better = [
                c.name
                for c in self.checkpoints.values()
                if c.meta.get("source_language") == other and c.src_tokenizer is not None
            ]
            advice = f": try '{better[0]}'" if better else ""
            notes.append(
                f"the text looks like {LANGUAGES[other]}, and '{checkpoint.name}' translates "
                f"from {LANGUAGES[source]}{advice}"
            )
        unknown = src_ids.count(checkpoint.src_tokenizer.unk_id)
        if src_ids and unknown * 2 >= len(src_ids):
            notes.append(
                f"{unknown} of the text's {len(src_ids)} tokens are unknown to "
                f"'{checkpoint.name}' (shown as <unk>): the model never saw them in training, "
                "so its translation is mostly a guess"
            )
        return notes

    def generate(
        self,
        request: GenerateRequest,
        deadline: float | None = None,
        stop: threading.Event | None = None,
        checked: tuple[Checkpoint, list[int]] | None = None,
    ) -> GenerateResponse:
        """As translate; `checked` is prompt_ids(request), when the caller has it already."""
        checkpoint, prompt_ids = checked or self.prompt_ids(request)
        tok = checkpoint.tgt_tokenizer
        newline = tok.hf.token_to_id(NEWLINE)
        stop_ids = (newline,) if request.stop_at_line_end and newline is not None else ()
        prefix_ids = [checkpoint.config.bos_id, *prompt_ids]
        response, decoded = self.run(checkpoint, request, [], prefix_ids, deadline, stop_ids, stop)
        if decoded.output_ids and decoded.output_ids[-1] in stop_ids:  # the line break ends it
            response.translation = tok.decode(decoded.output_ids[:-1])
        if not request.prompt.strip().endswith(ARROW):
            response.notes.insert(
                0,
                f"the prompt's last line does not end with {ARROW}, so nothing asks for a "
                f"translation: the GPT just goes on writing (try `中文 {ARROW}`)",
            )
        positions = len(decoded.decoder_input_ids)
        roles = prompt_roles(prompt_ids, newline, positions)
        demonstrations = [i for i, role in enumerate(roles) if role == "demonstration"]
        answering = list(range(len(prompt_ids), positions))  # rows that produced the answer
        shares = {
            name: (
                share_on_keys(probs, answering, demonstrations).double().round(decimals=DECIMALS)
                if demonstrations
                else torch.zeros(probs.size(0))
            ).tolist()
            for name, probs in decoded.trace.probs.items()
        }
        return GenerateResponse(
            **dict(response),
            prompt_tokens=tok.tokens(prompt_ids),
            roles=roles,
            demonstration_share=shares,
        )

    def run(
        self,
        checkpoint: Checkpoint,
        request: DecodingFields,
        src_ids: list[int],
        prefix_ids: list[int],
        deadline: float | None,
        stop_ids: tuple[int, ...] = (),
        stop: threading.Event | None = None,
    ) -> tuple[TranslateResponse, Decoded]:
        """Decode and trace `prefix_ids` (after `src_ids`, for a translation model)."""
        limit_s = self.settings.request_timeout_s
        if deadline is not None and time.monotonic() > deadline:
            raise ServerBusy(
                f"the server is busy: this request waited in line past its {limit_s:g} s "
                "limit; try again in a moment"
            )
        started = time.perf_counter()
        # The request's decoding fields carry the same names as DecodingOptions.
        options = DecodingOptions(
            **request.model_dump(include=DECODING_FIELDS),
            deadline=deadline,
            stop_ids=stop_ids,
            stop=stop,
        )
        try:
            decoded = decode(checkpoint.model, src_ids, prefix_ids, options)
        except DeadlineExceeded as err:
            raise ServerBusy(
                f"the answer took longer than the {limit_s:g} s limit; "
                "try again, or ask for fewer tokens or a smaller beam"
            ) from err
        decoded_ms = (time.perf_counter() - started) * 1000
        response = build_response(checkpoint, decoded)
        response.timing_ms = {
            "decode_and_trace": round(decoded_ms, 2),
            "total": round((time.perf_counter() - started) * 1000, 2),
        }
        response.notes += cut_note(checkpoint, decoded, options, self.settings.max_new_tokens)
        return response, decoded


def as_json(response: TranslateResponse) -> bytes:
    return response.model_dump_json().encode()


def cut_note(
    checkpoint: Checkpoint, decoded: Decoded, options: DecodingOptions, most: int
) -> list[str]:
    """A note when the answer stopped at a limit before it ended, saying which limit: asking
    for more tokens helps only below the server's `most` and the model's positions."""
    c, cut = checkpoint.config, len(decoded.output_ids)
    if not decoded.output_ids or decoded.output_ids[-1] in (c.eos_id, *options.stop_ids):
        return []
    room = c.max_len - len(decoded.prefix_ids) + 1  # positions left after the prefix
    tokens = f"{cut} token{'s' * (cut != 1)}"
    if cut >= room and c.architecture == "decoder-only":
        return [
            f"the answer was cut at {tokens}, before it ended: '{checkpoint.name}' has "
            f"{c.max_len} positions, and the prompt took the rest; shorten the prompt"
        ]
    if cut >= min(room, most):
        return [
            f"the answer was cut at {tokens}, before it ended: that is the most "
            f"'{checkpoint.name}' writes here, so it may be repeating itself"
        ]
    return [
        f"the answer was cut at {tokens}, before it ended: ask for more tokens "
        f"(max_new_tokens, up to {most}), or it may be repeating itself"
    ]


async def watch(client_gone: ClientGone, stop: threading.Event) -> None:
    """Set `stop` once the client has gone; cancelled when the work ends first."""
    while not await client_gone():
        await asyncio.sleep(CLIENT_CHECK_S)
    stop.set()


def prompt_roles(prompt_ids: list[int], newline_id: int | None, positions: int) -> list[Role]:
    """The role of each decoder position: <s>, then the prompt's demonstration lines (up to its
    last line break), its query line, then the answer."""
    last_break = max((i for i, t in enumerate(prompt_ids) if t == newline_id), default=-1)
    roles: list[Role] = ["start"]
    roles += ["demonstration" if i <= last_break else "query" for i in range(len(prompt_ids))]
    roles += ["answer"] * (positions - len(roles))
    return roles[:positions]


def describe(checkpoint: Checkpoint, settings: Settings) -> ModelInfo:
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
        max_text_chars=settings.max_text_chars,
        max_prompt_chars=settings.max_prompt_chars,
        max_new_tokens=settings.max_new_tokens,
        max_beam_size=settings.max_beam_size,
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
