"""The reward model's score of an answer: one forward pass over the request and the answer in
the chat template, with its attention traced so its heads can be looked at like any model's.

The number comes from model/ (`score_answer`); this module checks the request, runs it under the
same admission and deadline as any decoding, and shapes the answer.
"""

import time

from app.admission import ServerBusy
from app.inference import ClientGone, Inference, TooLongError
from app.responses import as_json
from app.schemas import AttentionMap, RewardRequest, RewardResponse
from app.weights import AttentionWeights
from model import AttentionTrace, ChatTemplate, Checkpoint, encode_chat, score_answer

Parts = tuple[str, str | None, str]  # the instruction, the input (if any), the answer


def parts_of(request: RewardRequest) -> Parts:
    """Stripped, as /api/generate strips a prompt before laying it out."""
    given = None if request.input is None else request.input.strip()
    return request.prompt.strip(), given, request.answer.strip()


def template_of(checkpoint: Checkpoint) -> ChatTemplate:
    """The template the reward model was trained to read (training saves the sft model's), or
    the default layout for a checkpoint that records none."""
    return checkpoint.template or ChatTemplate()


def checked(inference: Inference, request: RewardRequest) -> Checkpoint:
    """The reward model asked for, with the request and answer checked to fit its positions."""
    checkpoint = inference.registry.reward(request.model)
    chat = encode_chat(checkpoint.tgt_tokenizer, template_of(checkpoint), *parts_of(request))
    limit = checkpoint.config.max_len
    if len(chat.ids) > limit:
        raise TooLongError(
            f"the request and answer are {len(chat.ids)} tokens with <s> and </s>; "
            f"'{checkpoint.name}' reads at most {limit}: shorten them"
        )
    return checkpoint


def reward(
    inference: Inference,
    request: RewardRequest,
    checkpoint: Checkpoint,
    deadline: float | None = None,
) -> RewardResponse:
    """Score on the calling thread: one forward pass, so the deadline (a time.monotonic()
    value) is checked before it, and there is nothing to stop midway."""
    limit_s = inference.settings.request_timeout_s
    if deadline is not None and time.monotonic() > deadline:
        raise ServerBusy(
            f"the server is busy: this request waited in line past its {limit_s:g} s "
            "limit; try again in a moment"
        )
    started = time.perf_counter()
    trace = AttentionTrace()
    tok = checkpoint.tgt_tokenizer
    template = template_of(checkpoint)
    value, chat = score_answer(checkpoint.model, tok, template, *parts_of(request), trace)
    tokens = tok.tokens(chat.ids)
    attention = [
        AttentionMap(
            name=name,
            stack="decoder",
            layer=int(name.split(".")[1]),
            kind="self",
            query_tokens=tokens,
            key_tokens=tokens,
            weights=AttentionWeights(probs),
        )
        for name, probs in trace.probs.items()
    ]
    return RewardResponse(
        model=checkpoint.name,
        reward=value,
        tokens=tokens,
        roles=chat.roles,
        attention=attention,
        timing_ms={"total": round((time.perf_counter() - started) * 1000, 2)},
    )


async def reward_json(
    inference: Inference, request: RewardRequest, client_gone: ClientGone | None = None
) -> bytes:
    """As translate_json: checked before it takes a place in line, then scored under admission
    within the deadline, and serialized on the inference thread."""
    checkpoint = checked(inference, request)
    deadline = time.monotonic() + inference.settings.request_timeout_s
    return await inference.admitted(
        lambda _stop: as_json(reward(inference, request, checkpoint, deadline)),
        client_gone,
    )
