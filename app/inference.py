"""Inference: a request in, a traced response out, under admission and within a deadline.

Inference runs on the admission pool's few threads (it is CPU-bound); admission lets a request
wait while its expected wait fits its time limit. Translations and generations that wait
together for one model are decoded as one batch (app/batching.py), each answered as if decoded
alone. Each request has a deadline, waiting included, and its decoding stops when the deadline
passes, or at the next step once its client has gone.
"""

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel

from app.admission import Admission, ServerBusy
from app.batching import Pending, decode_alone, decode_group, options_of
from app.notes import input_notes, prompt_notes
from app.prompting import built_prompt, chat_prompt, template_notes, templated
from app.registry import Registry, UnknownModelError
from app.responses import (
    as_json,
    generate_response,
    head_scores_response,
    positional_encoding_response,
    timed_response,
)
from app.schemas import (
    DecodingFields,
    GenerateRequest,
    GenerateResponse,
    HeadScores,
    PositionalEncoding,
    TranslateRequest,
    TranslateResponse,
    limited,
)
from app.settings import Settings
from model import (
    NEWLINE,
    ChatIds,
    Checkpoint,
    Decoded,
    DecodingOptions,
    answer_stop_ids,
    head_score_table,
    head_scores_on,
    prompt_roles,
    text_spans,
)

log = logging.getLogger("attnscope.inference")
T = TypeVar("T")
ClientGone = Callable[[], Awaitable[None]]  # returns once the client has gone (routes/api.py)
Checked = tuple[Checkpoint, list[int]]  # the model and the request's tokens, checked to fit
# The GPT, the prompt it reads, its tokens (after <s>), and their chat roles when templated.
Prompted = tuple[Checkpoint, str, list[int], ChatIds | None]
SEED_TEXT = "我有一只猫。"  # the textbook example: the page opens with it already translated


class TooLongError(ValueError):
    """A text or prompt longer, in tokens, than the model's positions allow (a 422)."""


class Inference:
    def __init__(self, registry: Registry, settings: Settings) -> None:
        self.registry = registry
        self.settings = settings
        self.limit_s = settings.request_timeout_s  # each request's, waiting included
        s = settings
        self.admission = Admission(s.max_concurrent, s.max_queue, self.limit_s, s.max_batch)
        self.cached_seed: TranslateResponse | None = None  # the page's first paint
        self.head_scores_by_model: dict[str, HeadScores] = {}  # fixed for given weights
        # The decoding fields' defaults under this deployment's limits, for the page.
        self.decoding_defaults = limited(DecodingFields, settings)().model_dump(exclude={"model"})

    def warm_up(self) -> None:
        """Translate the seed sentence once: the page's first paint, torch's first run, and
        admission's first measure of what a translation costs."""
        try:
            request = TranslateRequest(text=SEED_TEXT)
            started = time.monotonic()
            self.cached_seed = self.translate(request)
            model = self.source_ids(request)[0].name
            self.admission.measured(model, time.monotonic() - started, 1)
        except (ServerBusy, UnknownModelError) as err:  # a tiny deadline, or only a GPT loaded
            log.warning("warm-up skipped: %s", err)

    async def translate_json(
        self, request: TranslateRequest, client_gone: ClientGone | None = None
    ) -> bytes:
        """Translate under admission control, and serialize on the inference thread too, so the
        event loop only moves bytes. Raises UnknownModelError and TooLongError before the
        request takes a place in line, ServerBusy when there is none or the deadline passes,
        and Stopped once `client_gone()` returns: decoding stops rather than run for nobody."""
        checked = self.source_ids(request)  # tokenized once: the thread reuses it
        deadline = time.monotonic() + self.settings.request_timeout_s
        return await self.watched(
            lambda stop: self.in_line(self.translation(request, deadline, stop, checked)),
            client_gone,
        )

    async def generate_json(
        self, request: GenerateRequest, client_gone: ClientGone | None = None
    ) -> bytes:
        """As translate_json, for a GPT continuing a prompt."""
        checked = self.prompt_ids(request)
        deadline = time.monotonic() + self.settings.request_timeout_s
        return await self.watched(
            lambda stop: self.in_line(self.generation(request, deadline, stop, checked)),
            client_gone,
        )

    async def in_line(self, pending: Pending[BaseModel]) -> bytes:
        """The response as JSON, decoded in a batch with the requests for the same model that
        wait with it (beam search: alone), and serialized on the inference thread too."""
        if not pending.batched():
            return await self.admission.run(lambda: as_json(decode_alone(pending)), "beam")
        name = pending.checkpoint.name
        return await self.admission.join(name, pending, decode_group, name)

    async def admitted(
        self, work: Callable[[threading.Event], T], client_gone: ClientGone | None
    ) -> T:
        """Run `work(stop)` alone under admission; `stop` is set if the client goes away."""
        return await self.watched(lambda stop: self.admission.run(lambda: work(stop)), client_gone)

    async def watched(
        self, admit: Callable[[threading.Event], Awaitable[T]], client_gone: ClientGone | None
    ) -> T:
        """Await `admit(stop)`, setting `stop` if the client goes away meanwhile."""
        stop = threading.Event()
        watcher = asyncio.create_task(watch(client_gone, stop)) if client_gone else None
        try:
            return await admit(stop)
        finally:
            if watcher is not None:
                watcher.cancel()

    async def head_scores(self, name: str | None) -> HeadScores:
        """Each GPT head's induction and previous-token scores, computed once per model."""
        checkpoint = self.registry.gpt(name, hint="head scores are for a GPT")
        if checkpoint.name not in self.head_scores_by_model:
            span, samples = min(20, (checkpoint.config.max_len - 1) // 2), 16
            vocab = checkpoint.config.tgt_vocab_size
            tok = checkpoint.tgt_tokenizer

            def measure() -> HeadScores:
                table = head_score_table(checkpoint.model, vocab, span, samples)
                on_text = {}
                for language, side in (("zh", 0), ("en", 1)):
                    ids = [tok.encode(pair[side]) for pair in checkpoint.pool[: 4 * samples]]
                    spans = text_spans(ids, span, samples)
                    if spans:
                        on_text[language] = head_scores_on(checkpoint.model, spans)
                return head_scores_response(checkpoint.name, table, span, samples, on_text)

            self.head_scores_by_model[checkpoint.name] = await self.admission.run(measure)
        return self.head_scores_by_model[checkpoint.name]

    def positional_encoding(self, name: str | None, length: int) -> PositionalEncoding:
        return positional_encoding_response(self.registry.get(name).config.d_model, length)

    def source_ids(self, request: TranslateRequest) -> Checked:
        """The translation model asked for and the text's tokens, checked: all of them fit."""
        checkpoint = self.registry.translator(request.model)
        src_ids = checkpoint.src_tokenizer.encode(request.text.strip())
        limit = checkpoint.config.max_len
        if len(src_ids) > limit:  # cutting it would translate a sentence nobody typed
            raise TooLongError(
                f"the text is {len(src_ids)} tokens; '{checkpoint.name}' reads at most {limit}: "
                "shorten it or split it into sentences"
            )
        return checkpoint, src_ids

    def prompt_ids(self, request: GenerateRequest) -> Prompted:
        """The GPT asked for, the prompt it reads (demonstrations included, in its chat
        template when it has one) and its tokens, checked: they fit with room to answer."""
        checkpoint = self.registry.gpt(request.model)
        pool = self.registry.pools.get(checkpoint.name)
        chat, in_template = None, templated(request, checkpoint)
        prompt = built_prompt(request, checkpoint.name, pool, in_template)
        if in_template:
            prompt, chat = chat_prompt(request, checkpoint, prompt)
            prompt_ids = chat.prompt_ids[1:]
        else:
            prompt_ids = checkpoint.tgt_tokenizer.encode(prompt.strip())
        limit = checkpoint.config.max_len - 2  # <s>, the prompt, and room for one answer token
        if len(prompt_ids) > limit:
            raise TooLongError(
                f"the prompt is {len(prompt_ids)} tokens; '{checkpoint.name}' reads at most "
                f"{limit} with room to answer: shorten it or use fewer demonstrations"
            )
        return checkpoint, prompt, prompt_ids, chat

    def translate(
        self,
        request: TranslateRequest,
        deadline: float | None = None,
        stop: threading.Event | None = None,
        checked: Checked | None = None,
    ) -> TranslateResponse:
        """Decode and trace alone, on the calling thread; `deadline` is a time.monotonic()
        value; `checked` is source_ids(request), when the caller has it already."""
        return decode_alone(self.translation(request, deadline, stop, checked))

    def generate(
        self,
        request: GenerateRequest,
        deadline: float | None = None,
        stop: threading.Event | None = None,
        checked: Prompted | None = None,
    ) -> GenerateResponse:
        """As translate; `checked` is prompt_ids(request), when the caller has it already."""
        return decode_alone(self.generation(request, deadline, stop, checked))

    def translation(
        self,
        request: TranslateRequest,
        deadline: float | None,
        stop: threading.Event | None,
        checked: Checked | None = None,
    ) -> Pending[TranslateResponse]:
        """A translation ready to decode, alone or in a batch, and how it is answered."""
        checkpoint, src_ids = checked or self.source_ids(request)
        options = options_of(request, deadline, (), stop)
        most = self.settings.max_new_tokens
        source = checkpoint.meta.get("source_language", "")
        better = self.registry.translators_from({"zh": "en", "en": "zh"}.get(source, ""))

        def respond(decoded: Decoded, started: float, decoded_ms: float) -> TranslateResponse:
            response = timed_response(checkpoint, decoded, options, started, decoded_ms, most)
            response.notes = [
                *input_notes(checkpoint, request.text, src_ids, better),
                *response.notes,
            ]
            return response

        prefix_ids = [checkpoint.config.bos_id]
        return Pending(checkpoint, src_ids, prefix_ids, options, self.limit_s, respond)

    def generation(
        self,
        request: GenerateRequest,
        deadline: float | None,
        stop: threading.Event | None,
        checked: Prompted | None = None,
    ) -> Pending[GenerateResponse]:
        """As translation, for a GPT continuing a prompt."""
        checkpoint, prompt, prompt_ids, chat = checked or self.prompt_ids(request)
        tok = checkpoint.tgt_tokenizer
        stop_ids = answer_stop_ids(tok) if request.stop_at_line_end else ()
        options = options_of(request, deadline, stop_ids, stop)
        most = self.settings.max_new_tokens

        def respond(decoded: Decoded, started: float, decoded_ms: float) -> GenerateResponse:
            response = timed_response(checkpoint, decoded, options, started, decoded_ms, most)
            if decoded.output_ids and decoded.output_ids[-1] in stop_ids:  # a line break ends it
                response.translation = tok.decode(decoded.output_ids[:-1])
            positions = len(decoded.decoder_input_ids)
            if chat is None:
                asked = [*template_notes(request, checkpoint), *prompt_notes(prompt)]
                response.notes = [*asked, *response.notes]
                roles = prompt_roles(prompt_ids, tok.hf.token_to_id(NEWLINE), positions)
            else:
                roles = chat.roles_for(positions)
            return generate_response(response, checkpoint, decoded, prompt, roles)

        prefix_ids = [checkpoint.config.bos_id, *prompt_ids]
        return Pending(checkpoint, [], prefix_ids, options, self.limit_s, respond)

    def decoded(
        self,
        checkpoint: Checkpoint,
        request: DecodingFields,
        src_ids: list[int],
        prefix_ids: list[int],
        deadline: float | None,
        stop_ids: tuple[int, ...] = (),
        stop: threading.Event | None = None,
    ) -> tuple[Decoded, DecodingOptions]:
        """Decode alone within the deadline (ServerBusy past it), with the options it decoded
        by: for what opens up a decoding (app/inside.py)."""
        options = options_of(request, deadline, stop_ids, stop)
        pending = Pending(checkpoint, src_ids, prefix_ids, options, self.limit_s, lambda d, *_: d)
        return decode_alone(pending), options


async def watch(client_gone: ClientGone, stop: threading.Event) -> None:
    """Set `stop` once the client has gone; cancelled when the work ends first."""
    await client_gone()
    stop.set()
