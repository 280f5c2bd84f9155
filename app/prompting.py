"""The prompt a GPT reads: the request's own, or with demonstrations the server picks from the
pool of training pairs that ships with the checkpoint; laid out in the model's chat template
when it has one (after instruction tuning) and the request does not say `template: false`.

A model without a template reads the prompt as it is whatever `template` says, and an `input`
sent without a template becomes the prompt's last line; the response's notes say so. A request
the schema accepts is never refused for the model it names.
"""

import random

from app.schemas import GenerateRequest
from model import CUE, ChatIds, Checkpoint, DemonstrationPool, encode_chat, prompt_text


class NoPoolError(ValueError):
    """Demonstrations were asked of a model that ships no pool (a 422)."""


def templated(request: GenerateRequest, checkpoint: Checkpoint) -> bool:
    """Whether the prompt is laid out in the model's chat template."""
    return checkpoint.template is not None and request.template is not False


def built_prompt(
    request: GenerateRequest, name: str, pool: DemonstrationPool | None, chat: bool = False
) -> str:
    """The prompt as the model will read it (before any chat template). With `demonstrations`,
    the prompt's last line is the query (`=>` added when missing), its earlier lines stay, and
    the picked demonstrations come first: the most similar nearest the query, or random ones
    seeded by `seed`. Without a template (`chat` false), an `input` is the last line."""
    own_prompt = request.prompt
    if request.input is not None and not chat:
        own_prompt = f"{request.prompt.rstrip()}\n{request.input.strip()}"
    wanted = request.demonstrations
    if wanted is None:
        return own_prompt
    if pool is None:
        raise NoPoolError(f"'{name}' ships no demonstration pool; send the prompt without them")
    *own, last = own_prompt.strip().split("\n")
    query = last.strip().removesuffix(CUE).strip()
    if wanted.kind == "similar":
        shown = pool.similar(query, wanted.count)
    else:
        shown = pool.random(wanted.count, random.Random(request.seed))
    lines = prompt_text(shown, query).split("\n")
    return "\n".join([*lines[:-1], *own, lines[-1]]) if shown else "\n".join([*own, lines[-1]])


def chat_prompt(
    request: GenerateRequest, checkpoint: Checkpoint, prompt: str
) -> tuple[str, ChatIds]:
    """The prompt in the model's chat template (`prompt` is the instruction): its text, and its
    ids and roles from <s>."""
    assert checkpoint.template is not None
    instruction = prompt.strip()
    given = None if request.input is None else request.input.strip()
    chat = encode_chat(checkpoint.tgt_tokenizer, checkpoint.template, instruction, given)
    return checkpoint.template.text(instruction, given), chat


def template_notes(request: GenerateRequest, checkpoint: Checkpoint) -> list[str]:
    """What became of the request's `template` and `input` when the prompt was read without a
    template."""
    notes = []
    if request.template and checkpoint.template is None:
        notes.append(
            f"'{checkpoint.name}' ({checkpoint.stage}) has no chat template: "
            "the prompt was read as it is"
        )
    if request.input is not None:
        notes.append("without a chat template, the input was read as the prompt's last line")
    return notes
