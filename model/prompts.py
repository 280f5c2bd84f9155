"""The one definition of a GPT prompt: translation written as text, `中文 => English`.

A zero-shot prompt is the query line alone (`我有一只猫。 =>`); a few-shot prompt puts
demonstration pairs first, one per line, so the model can copy the pattern from its context.
Each position the model reads has a role (<s>, a demonstration, the query, the answer), and an
answer ends with its line.
"""

from dataclasses import dataclass
from typing import Literal

from model.tokenizer import ARROW, NEWLINE, Tokenizer

Pair = tuple[str, str]  # (Chinese, English)
Role = Literal["start", "demonstration", "query", "answer"]
CUE = ARROW  # a prompt's last line ends with it: what follows is the answer


def prompt_text(demonstrations: list[Pair], query: str) -> str:
    lines = [f"{zh} {ARROW} {en}" for zh, en in demonstrations] + [f"{query} {ARROW}"]
    return NEWLINE.join(lines)


@dataclass
class PromptIds:
    """A prompt's ids (after <s>) and which of them belong to the demonstrations."""

    ids: list[int]
    demonstration_length: int  # ids[:demonstration_length] are the demonstrations (and \n)


def encode_prompt(tok: Tokenizer, demonstrations: list[Pair], query: str) -> PromptIds:
    """Ids of prompt_text(), built pair by pair so the demonstrations' extent is exact."""
    arrow, newline = tok.hf.token_to_id(ARROW), tok.hf.token_to_id(NEWLINE)
    ids: list[int] = []
    for zh, en in demonstrations:
        ids += [*tok.encode(zh), arrow, *tok.encode(en), newline]
    shown = len(ids)
    return PromptIds([*ids, *tok.encode(query), arrow], shown)


def answer_stop_ids(tok: Tokenizer) -> tuple[int, ...]:
    """The tokens that end an answer besides </s>: the line break (a GPT would go on to write
    a new prompt line of its own)."""
    newline = tok.hf.token_to_id(NEWLINE)
    return () if newline is None else (newline,)


def asks_for_answer(prompt: str) -> bool:
    """True when the prompt's last line ends with the cue, so the model is asked to answer."""
    return prompt.strip().endswith(CUE)


def prompt_roles(prompt_ids: list[int], newline_id: int | None, positions: int) -> list[Role]:
    """The role of each decoder position: <s>, then the prompt's demonstration lines (up to its
    last line break), its query line, then the answer."""
    last_break = max((i for i, t in enumerate(prompt_ids) if t == newline_id), default=-1)
    roles: list[Role] = ["start"]
    roles += ["demonstration" if i <= last_break else "query" for i in range(len(prompt_ids))]
    roles += ["answer"] * (positions - len(roles))
    return roles[:positions]
