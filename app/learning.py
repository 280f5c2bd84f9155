"""Learning in the prompt against learning in the weights, for one few-shot prompt.

The prompt's demonstration lines are read two ways: as context (the GPT answers the whole
prompt), and as training data for a few gradient steps on a copy of the GPT, which then answers
the query line alone. Both run on the inference thread, under the same admission and deadline
as any generation; the copy is dropped with the response.
"""

import dataclasses
import re
import threading
import time
from dataclasses import dataclass

from app.admission import ServerBusy
from app.inference import ClientGone, Inference, Prompted, TooLongError
from app.schemas import GenerateRequest, LearnRequest, LearnResponse
from app.schemas.requests import FEW_SHOT
from model import CUE, Pair, Stopped, Tokenizer, adapted, encode_prompt


class NoDemonstrationsError(ValueError):
    """A prompt with nothing to learn from (a 422)."""


@dataclass(frozen=True)
class Lesson:
    """A checked request: its demonstrations, and the whole prompt and the query alone, each
    as a generation request with its checked tokens."""

    pairs: list[Pair]
    whole: GenerateRequest
    alone: GenerateRequest
    whole_ids: Prompted
    alone_ids: Prompted


def demonstrations_and_query(prompt: str) -> tuple[list[Pair], str]:
    """The `中文 => English` pairs of a prompt's lines before the last, and its query line.
    A prompt is taken when it matches the schema's FEW_SHOT pattern, and only then."""
    *lines, query = prompt.removesuffix("\n").split("\n")
    if not lines:
        raise NoDemonstrationsError(
            f"there is nothing to learn from: put demonstration lines `中文 {CUE} English` "
            "before the query"
        )
    for number, line in enumerate(lines, 1):
        zh, cue, en = line.partition(CUE)
        if not cue or not zh.strip() or not en.strip():
            raise NoDemonstrationsError(
                f"line {number} is not a demonstration `中文 {CUE} English`: {line[:40]!r}"
            )
    if not re.search(FEW_SHOT, prompt):
        raise NoDemonstrationsError(f"the query line is empty: end with `中文 {CUE}`")
    pairs = [tuple(part.strip() for part in line.partition(CUE)[::2]) for line in lines]
    query = query.strip()
    return pairs, query if query.endswith(CUE) else f"{query} {CUE}"


def check(inference: Inference, request: LearnRequest) -> Lesson:
    """Everything that can refuse the request, before it takes a place in line. The two
    generation requests are built from fields the route has already checked against this
    deployment's limits, so they are not validated again."""
    pairs, query = demonstrations_and_query(request.prompt)
    # Both read the few-shot lines as they are, as the weights are taught them: no template.
    decoding = {
        **request.model_dump(exclude={"prompt", "steps", "learning_rate"}),
        "template": False,
    }
    demonstration_lines = request.prompt.removesuffix("\n").split("\n")[:-1]
    whole_prompt = "\n".join([*demonstration_lines, query])  # the cue added in both
    whole = GenerateRequest.model_construct(prompt=whole_prompt, **decoding)
    alone = GenerateRequest.model_construct(prompt=query, **decoding)
    lesson = Lesson(pairs, whole, alone, inference.prompt_ids(whole), inference.prompt_ids(alone))
    checkpoint = lesson.whole_ids[0]
    for zh, en in pairs:
        if len(sequence_of(checkpoint.tgt_tokenizer, zh, en)) > checkpoint.config.max_len:
            raise TooLongError(f"the demonstration {zh!r} is longer than the model's positions")
    return lesson


async def learn_json(
    inference: Inference, request: LearnRequest, client_gone: ClientGone | None = None
) -> bytes:
    """Checked, then run under admission with the request's deadline (see Inference)."""
    lesson = check(inference, request)
    deadline = time.monotonic() + inference.settings.request_timeout_s
    return await inference.admitted(
        lambda stop: learn(inference, request, lesson, deadline, stop).model_dump_json().encode(),
        client_gone,
    )


def learn(
    inference: Inference,
    request: LearnRequest,
    lesson: Lesson,
    deadline: float | None = None,
    stop: threading.Event | None = None,
) -> LearnResponse:
    """The prompt's answer, then a copy's answer to the query after learning the lesson."""
    started = time.perf_counter()
    checkpoint = lesson.whole_ids[0]
    in_prompt = inference.generate(lesson.whole, deadline, stop, lesson.whole_ids)
    tok = checkpoint.tgt_tokenizer
    sequences = [sequence_of(tok, zh, en) for zh, en in lesson.pairs]
    learned_at = time.perf_counter()
    limit_s = inference.settings.request_timeout_s

    def before_step() -> None:
        if stop is not None and stop.is_set():
            raise Stopped("learning was stopped: the client has gone")
        if deadline is not None and time.monotonic() > deadline:
            raise ServerBusy(
                f"learning in the weights took longer than the {limit_s:g} s limit; "
                "try fewer steps or shorter demonstrations"
            )

    learner, losses = adapted(
        checkpoint.model, sequences, request.steps, request.learning_rate, before_step
    )
    learned_ms = (time.perf_counter() - learned_at) * 1000
    taught = dataclasses.replace(checkpoint, model=learner)
    in_weights = inference.generate(lesson.alone, deadline, stop, (taught, *lesson.alone_ids[1:]))
    return LearnResponse(
        in_prompt=in_prompt,
        in_weights=in_weights,
        steps=request.steps,
        learning_rate=request.learning_rate,
        losses=[round(loss, 4) for loss in losses],
        timing_ms={
            "learning": round(learned_ms, 2),
            "total": round((time.perf_counter() - started) * 1000, 2),
        },
    )


def sequence_of(tok: Tokenizer, zh: str, en: str) -> list[int]:
    """A demonstration as a training sequence, `<s> 中文 => English </s>`."""
    return [tok.bos_id, *encode_prompt(tok, [], zh).ids, *tok.encode(en), tok.eos_id]
