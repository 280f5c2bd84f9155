"""The prompt a GPT reads: the request's own, or with demonstrations the server picks from the
pool of training pairs that ships with the checkpoint."""

import random

from app.schemas import GenerateRequest
from model import CUE, DemonstrationPool, prompt_text


class NoPoolError(ValueError):
    """Demonstrations were asked of a model that ships no pool (a 422)."""


def built_prompt(request: GenerateRequest, name: str, pool: DemonstrationPool | None) -> str:
    """The prompt as the model will read it. With `demonstrations`, the prompt's last line is
    the query (`=>` added when missing), its earlier lines stay, and the picked demonstrations
    come first: the most similar nearest the query, or random ones seeded by `seed`."""
    wanted = request.demonstrations
    if wanted is None:
        return request.prompt
    if pool is None:
        raise NoPoolError(f"'{name}' ships no demonstration pool; send the prompt without them")
    *own, last = request.prompt.strip().split("\n")
    query = last.strip().removesuffix(CUE).strip()
    if wanted.kind == "similar":
        shown = pool.similar(query, wanted.count)
    else:
        shown = pool.random(wanted.count, random.Random(request.seed))
    lines = prompt_text(shown, query).split("\n")
    return "\n".join([*lines[:-1], *own, lines[-1]]) if shown else "\n".join([*own, lines[-1]])
