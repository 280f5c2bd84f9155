"""Many wordings of each instruction, in Chinese and in English, and the ones kept for testing.

A model that has seen one wording per task learns the wording, not the task. So each task's
instructions are generated from parts and their combinations: a core (the verb phrase, with a
slot for the sentence: "把{obj}翻译成英文", "translate {obj} into English"), a mood around it
(bare, polite, a question: "请{c}。", "Could you {c}?"), or for yes/no tasks also a direct
question ("{obj}是问句吗？"); and a frame that says where the sentence goes: in the input line,
in quotes inside the instruction, after a colon, or before the instruction.

The last third of every list of cores, moods and direct questions is held out: a phrasing that
uses any held-out part is a held-out phrasing, used only to evaluate, and a training phrasing
uses none. So every held-out phrasing has words that no training instruction has, and the two
sets are disjoint by construction (tests/training/test_phrasings.py checks the texts too).
"""

from dataclasses import dataclass
from typing import Literal

Task = Literal["to_english", "to_chinese", "repeat", "is_question", "language"]
TASKS: tuple[Task, ...] = ("to_english", "to_chinese", "repeat", "is_question", "language")
Language = Literal["zh", "en"]  # the language of an instruction
SLOT = "{s}"  # where a phrasing puts the sentence; a phrasing without it takes it as input


@dataclass(frozen=True)
class Phrasing:
    """One wording of one task's instruction."""

    task: Task
    language: Language
    template: str  # the instruction, with SLOT where the sentence goes (if it goes there)

    def request(self, sentence: str) -> tuple[str, str | None]:
        """(instruction, input): the sentence inside the instruction, or as its input."""
        if SLOT in self.template:
            return self.template.replace(SLOT, sentence), None
        return self.template, sentence


@dataclass(frozen=True)
class Parts:
    cores: tuple[str, ...]  # with {obj}; wrapped by a mood
    directs: tuple[str, ...] = ()  # whole questions with {obj}; no mood


MOODS: dict[Language, tuple[str, ...]] = {
    "zh": ("{c}。", "请{c}。", "麻烦你{c}。", "你能{c}吗？", "帮我{c}，谢谢。", "劳驾{c}。"),
    "en": ("{C}.", "Please {c}.", "Could you {c}?", "I'd like you to {c}.", "Now {c}.")
    + ("Kindly {c}.",),
}

# (obj, frame): what {obj} becomes, and where the instruction text {i} and the sentence go.
FRAMES: dict[Language, tuple[tuple[str, str], ...]] = {
    "zh": (
        ("下面这句话", "{i}"),
        ("“{s}”", "{i}"),
        ("这句话", "{i:-1}：{s}"),
        ("这句话", "{s}{i}"),
    ),
    "en": (
        ("the following sentence", "{i}"),
        ('"{s}"', "{i}"),
        ("this sentence", "{i:-1}: {s}"),
        ("this sentence", "{s} {i}"),
    ),
}

PARTS: dict[tuple[Task, Language], Parts] = {
    ("to_english", "zh"): Parts(
        ("把{obj}翻译成英文", "把{obj}译成英语", "把{obj}翻成英文", "用英语说{obj}")
        + ("把{obj}换成英文", "将{obj}翻译为英语")
    ),
    ("to_english", "en"): Parts(
        ("translate {obj} into English", "put {obj} into English", "give me {obj} in English")
        + ("say {obj} in English", "render {obj} in English", "turn {obj} into English")
    ),
    ("to_chinese", "zh"): Parts(
        ("把{obj}翻译成中文", "把{obj}译成汉语", "把{obj}翻成中文", "用中文说{obj}")
        + ("把{obj}换成中文", "将{obj}翻译为汉语")
    ),
    ("to_chinese", "en"): Parts(
        ("translate {obj} into Chinese", "put {obj} into Chinese", "give me {obj} in Chinese")
        + ("say {obj} in Chinese", "render {obj} in Chinese", "turn {obj} into Chinese")
    ),
    ("repeat", "zh"): Parts(
        ("重复{obj}", "把{obj}原样写一遍", "照抄{obj}", "把{obj}再写一遍")
        + ("原封不动地重复{obj}", "把{obj}一字不差地抄一遍")
    ),
    ("repeat", "en"): Parts(
        ("repeat {obj}", "copy {obj} exactly", "write {obj} again", "say {obj} back to me")
        + ("echo {obj}", "repeat {obj} word for word")
    ),
    ("is_question", "zh"): Parts(
        ("判断{obj}是不是问句", "说说{obj}是不是疑问句", "看看{obj}是否是问句"),
        ("{obj}是问句吗？", "{obj}是不是一个问题？", "{obj}是疑问句吗？请回答是或不是。"),
    ),
    ("is_question", "en"): Parts(
        ("tell me whether {obj} is a question", "say if {obj} is a question")
        + ("decide whether {obj} asks something",),
        ("Is {obj} a question?", "Does {obj} ask a question?", "Is {obj} a question? Yes or no."),
    ),
    ("language", "zh"): Parts(
        ("说出{obj}是什么语言", "判断{obj}是中文还是英文", "说一下{obj}用的是哪种语言"),
        ("{obj}是什么语言？", "{obj}是中文还是英文？", "{obj}是用哪种语言写的？"),
    ),
    ("language", "en"): Parts(
        ("tell me which language {obj} is in", "say whether {obj} is Chinese or English")
        + ("name the language of {obj}",),
        ("Which language is {obj} in?", "Is {obj} Chinese or English?")
        + ("What language is {obj} written in?",),
    ),
}


def held_out(items: tuple[str, ...]) -> set[str]:
    """The last third (at least one) of a list of parts."""
    return set(items[len(items) - max(1, len(items) // 3) :])


def framed(instruction: str, obj: str, frame: str) -> str:
    """Put the sentence's stand-in `obj` and the instruction into a frame."""
    text = instruction.replace("{obj}", obj)
    text = frame.replace("{i:-1}", text[:-1]).replace("{i}", text)
    return text[0].upper() + text[1:] if text[0].isascii() and text[0].isalpha() else text


def phrasings(task: Task, language: Language) -> tuple[list[Phrasing], list[Phrasing]]:
    """(training phrasings, held-out phrasings) of one task in one language."""
    parts, moods = PARTS[(task, language)], MOODS[language]
    held = held_out(parts.cores) | held_out(moods) | held_out(parts.directs)
    worded: list[tuple[str, bool]] = []  # (instruction with {obj}, held out)
    for core in parts.cores:
        for mood in moods:
            text = mood.replace("{c}", core).replace("{C}", core[0].upper() + core[1:])
            worded.append((text, core in held or mood in held))
    worded += [(direct, direct in held) for direct in parts.directs]
    train: list[Phrasing] = []
    test: list[Phrasing] = []
    for text, is_held in worded:
        for obj, frame in FRAMES[language]:
            phrasing = Phrasing(task, language, framed(text, obj, frame))
            (test if is_held else train).append(phrasing)
    return train, test


def all_phrasings() -> tuple[list[Phrasing], list[Phrasing]]:
    """Every task's (training, held-out) phrasings, in both languages."""
    train: list[Phrasing] = []
    test: list[Phrasing] = []
    for task in TASKS:
        for language in ("zh", "en"):
            more_train, more_test = phrasings(task, language)
            train += more_train
            test += more_test
    return train, test
