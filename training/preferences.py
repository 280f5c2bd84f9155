"""Preference pairs for the reward model, built from the data, with no people to ask.

InstructGPT's reward model learned from people who ranked answers. There are none here, so each
pair says how it was made (`kind`), and the preferred answer is always what the data says is
right: the human translation, the sentence itself, the true yes/no or language. The other one is
- a damaged copy of it: words (Chinese: characters) dropped, a span repeated (a loop), the
  words shuffled, the answer in the other language (the untranslated sentence, or for repeat
  its translation), the wrong yes/no or language, or the answer to another task; or
- an answer the instruction-tuned model sampled that is worse (training/reward.py: further from
  the reference by chrF, or a loop); a sample can be a fair paraphrase that chrF scores low,
  which is the honest limit of a reference standing in for a person.
"""

import random
from dataclasses import dataclass
from typing import Literal

from training.instructions import LANGUAGE_NAMES, YES_NO, Request, language_of

Kind = Literal[
    "dropped", "repeated", "shuffled", "other_language", "wrong_answer", "wrong_task", "sft_sample"
]
DAMAGES: tuple[Kind, ...] = (
    "dropped",
    "repeated",
    "shuffled",
    "other_language",
    "wrong_answer",
    "wrong_task",
)
SENTENCE_TASKS = ("to_english", "to_chinese", "repeat")  # answers long enough to damage


@dataclass(frozen=True)
class Preference:
    request: Request
    chosen: str  # what the data says is right
    rejected: str  # worse, made as `kind` says
    kind: Kind


def units(text: str) -> tuple[list[str], str]:
    """The pieces a damage moves (Chinese: characters; English: words) and how they join."""
    return (list(text), "") if language_of(text) == "zh" else (text.split(), " ")


def dropped(text: str, rng: random.Random) -> str:
    """Up to a third of the pieces (at least one) left out."""
    pieces, joiner = units(text)
    if len(pieces) < 2:
        return text
    gone = set(rng.sample(range(len(pieces)), rng.randint(1, max(1, len(pieces) // 3))))
    return joiner.join(p for i, p in enumerate(pieces) if i not in gone)


def repeated(text: str, rng: random.Random) -> str:
    """A span of 1-3 pieces said 2-3 more times where it stands: a loop."""
    pieces, joiner = units(text)
    if not pieces:
        return text
    length = rng.randint(1, min(3, len(pieces)))
    start = rng.randrange(len(pieces) - length + 1)
    span = pieces[start : start + length]
    looped = pieces[: start + length] + span * rng.randint(2, 3) + pieces[start + length :]
    return joiner.join(looped)


def shuffled(text: str, rng: random.Random) -> str:
    """The pieces in a random order (the final punctuation stays last)."""
    pieces, joiner = units(text)
    body, end = (pieces[:-1], pieces[-1:]) if len(pieces) > 2 else (pieces, [])
    mixed = body[:]
    for _ in range(5):
        rng.shuffle(mixed)
        if mixed != body:
            break
    return joiner.join(mixed + end)


def flipped(request: Request) -> str:
    """The other yes/no, or the other language's name."""
    if request.task == "is_question":
        yes, no = YES_NO[request.language]
        return no if request.answer == yes else yes
    names = LANGUAGE_NAMES[request.language]
    return names["en"] if request.answer == names["zh"] else names["zh"]


def other_task_answer(request: Request, rng: random.Random) -> str:
    """A right answer to a different task about the same sentence (never another yes/no or
    another language name, which would be a wrong answer to this task, not another task's)."""
    options = [request.sentence, request.other]
    if request.task != "is_question":
        options += YES_NO[request.language]
    if request.task != "language":
        options += LANGUAGE_NAMES[request.language].values()
    return rng.choice([option for option in options if option != request.answer])


def damaged(request: Request, kind: Kind, rng: random.Random) -> str:
    """`request`'s answer damaged as `kind` says (may equal the answer: the caller checks)."""
    if kind == "dropped":
        return dropped(request.answer, rng)
    if kind == "repeated":
        return repeated(request.answer, rng)
    if kind == "shuffled":
        return shuffled(request.answer, rng)
    if kind == "other_language":
        return request.sentence if request.task != "repeat" else request.other
    if kind == "wrong_answer":
        return flipped(request)
    if kind == "wrong_task":
        return other_task_answer(request, rng)
    raise ValueError(f"{kind!r} is not a damage")


def kinds_for(request: Request) -> tuple[Kind, ...]:
    if request.task in SENTENCE_TASKS:
        return ("dropped", "repeated", "shuffled", "other_language", "wrong_task")
    return ("wrong_answer", "wrong_task")


def damaged_preferences(requests: list[Request], rng: random.Random) -> list[Preference]:
    """One pair per request: its right answer against a damaged copy (a damage drawn from those
    that apply; a request whose damage changed nothing is skipped)."""
    pairs = []
    for request in requests:
        kind = rng.choice(kinds_for(request))
        worse = damaged(request, kind, rng)
        if worse.strip() and worse != request.answer:
            pairs.append(Preference(request, request.answer, worse, kind))
    return pairs
