"""Instruction data: requests about the corpus's own sentences, with answers the data gives.

Every request is a phrasing (training/phrasings.py) filled with one sentence of a pair:
- to_english / to_chinese: the answer is the pair's human translation;
- repeat: the sentence itself, exactly;
- is_question: 是 / 不是 for a Chinese instruction, yes / no for an English one (a sentence is
  a question when it ends with a question mark, which the corpus's questions all do);
- language: which language the sentence is in, named in the instruction's language.
No answer is made up, so a model is never taught something the data does not say. Training
requests come from the training pairs and training phrasings; evaluation requests from dev
pairs and held-out phrasings only.
"""

import random
import re
from dataclasses import dataclass

from model import ChatIds, ChatTemplate, Pair, Tokenizer, encode_chat
from training.phrasings import TASKS, Language, Phrasing, Task

YES_NO: dict[Language, tuple[str, str]] = {"zh": ("是", "不是"), "en": ("yes", "no")}
LANGUAGE_NAMES: dict[Language, dict[Language, str]] = {
    "zh": {"zh": "中文", "en": "英文"},
    "en": {"zh": "Chinese", "en": "English"},
}


@dataclass(frozen=True)
class Request:
    task: Task
    language: Language  # the instruction's
    instruction: str
    input: str | None
    answer: str  # the correct answer, from the data
    sentence: str  # the sentence the request is about
    other: str  # the same sentence in the other language (its pair's other side)


@dataclass(frozen=True)
class TaskMix:
    """How often each task is drawn for a training pair."""

    to_english: float = 0.3
    to_chinese: float = 0.3
    repeat: float = 0.15
    is_question: float = 0.15
    language: float = 0.1

    def draw(self, rng: random.Random) -> Task:
        return rng.choices(TASKS, [getattr(self, task) for task in TASKS])[0]


def is_question(sentence: str) -> bool:
    return sentence.rstrip().endswith(("？", "?"))


def language_of(sentence: str) -> Language:
    """Chinese when any character is a CJK ideograph (the corpus's English has none)."""
    return "zh" if any("\u4e00" <= c <= "\u9fff" for c in sentence) else "en"


def answer_for(task: Task, language: Language, sentence: str, other: str) -> str:
    if task in ("to_english", "to_chinese"):
        return other
    if task == "repeat":
        return sentence
    if task == "is_question":
        yes, no = YES_NO[language]
        return yes if is_question(sentence) else no
    return LANGUAGE_NAMES[language][language_of(sentence)]


def make_request(phrasing: Phrasing, pair: Pair, side: Language) -> Request:
    """A request about one side of `pair` (translations always take the source side)."""
    zh, en = pair
    if phrasing.task == "to_english":
        side = "zh"
    elif phrasing.task == "to_chinese":
        side = "en"
    sentence, other = (zh, en) if side == "zh" else (en, zh)
    instruction, given = phrasing.request(sentence)
    answer = answer_for(phrasing.task, phrasing.language, sentence, other)
    return Request(phrasing.task, phrasing.language, instruction, given, answer, sentence, other)


def by_task(phrasings: list[Phrasing]) -> dict[Task, list[Phrasing]]:
    grouped: dict[Task, list[Phrasing]] = {task: [] for task in TASKS}
    for phrasing in phrasings:
        grouped[phrasing.task].append(phrasing)
    return grouped


def draw_requests(
    pairs: list[Pair], phrasings: list[Phrasing], mix: TaskMix, rng: random.Random
) -> list[Request]:
    """One request per pair, its task drawn from `mix`, its phrasing and side at random. Half
    of the is_question requests are about questions (the corpus has one in seven), so that
    always answering "no" is only right half the time."""
    grouped = by_task(phrasings)
    questions = [pair for pair in pairs if is_question(pair[0])]
    requests = []
    for pair in pairs:
        task = mix.draw(rng)
        if not grouped[task]:
            continue
        if task == "is_question" and questions and rng.random() < 0.5:
            pair = rng.choice(questions)
        side: Language = rng.choice(("zh", "en"))
        requests.append(make_request(rng.choice(grouped[task]), pair, side))
    return requests


def evaluation_requests(
    pairs: list[Pair], phrasings: list[Phrasing], task: Task, limit: int, seed: int
) -> list[Request]:
    """Up to `limit` requests of one task on `pairs` (dev), the phrasings drawn with `seed` from
    `phrasings` (held out), sides alternating; for is_question, half questions and half not."""
    rng = random.Random(seed)
    options = by_task(phrasings)[task]
    chosen = pairs[:limit]
    if task == "is_question":
        asked = [pair for pair in pairs if is_question(pair[0])]
        told = [pair for pair in pairs if not is_question(pair[0])]
        half = min(len(asked), len(told), limit // 2)
        chosen = [pair for both in zip(asked[:half], told[:half], strict=True) for pair in both]
    sides: tuple[Language, Language] = ("zh", "en")
    return [make_request(rng.choice(options), pair, sides[i % 2]) for i, pair in enumerate(chosen)]


def says_a_word_twice(sentence: str) -> bool:
    """Some Chinese character, or some English word, twice: where a copy that follows the last
    occurrence of the current token jumps back to the first one and loops."""
    chars = [c for c in sentence if "\u4e00" <= c <= "\u9fff"]
    words = chars or re.findall(r"[a-z']+", sentence.lower())
    return len(set(words)) < len(words)


def hard_repeats(
    pairs: list[Pair], phrasings: list[Phrasing], count: int, rng: random.Random
) -> list[Request]:
    """`count` repeat requests about sentences of `pairs` that say a word twice (in the corpus,
    19% of the Chinese sides and 10% of the English), for the copying that single-token
    matching gets wrong."""
    options = by_task(phrasings)["repeat"]
    sides: tuple[Language, Language] = ("zh", "en")
    hard = [(p, side) for p in pairs for i, side in enumerate(sides) if says_a_word_twice(p[i])]
    if not hard or not options:
        return []
    return [make_request(rng.choice(options), *rng.choice(hard)) for _ in range(count)]


def encode_request(
    tok: Tokenizer, template: ChatTemplate, request: Request, answer: str | None = None
) -> ChatIds:
    """The request's ids through the template; with `answer`, that answer follows."""
    return encode_chat(tok, template, request.instruction, request.input, answer)
