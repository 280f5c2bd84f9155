"""GPT prompts: translation written as text, `中文 => English`, one pair per line.

A zero-shot prompt is the query line alone (`我有一只猫。 =>`); a few-shot prompt puts one to
three demonstration pairs first, so the model can copy the pattern from its context. Training
also mixes in sequences that repeat a random span of tokens: predicting the second copy is only
possible by looking back at the first, which is what makes induction heads form.
"""

import random
from dataclasses import dataclass

from model.tokenizer import ARROW, FIRST_ORDINARY_ID, NEWLINE, Tokenizer

Pair = tuple[str, str]  # (Chinese, English)


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


def training_sequence(
    tok: Tokenizer, pair: Pair, pool: list[Pair], rng: random.Random, few_shot_share: float
) -> list[int]:
    """<s> prompt answer </s>: zero-shot, or with 1-3 demonstrations drawn from `pool`."""
    shots = rng.randint(1, 3) if rng.random() < few_shot_share else 0
    demonstrations = rng.sample(pool, shots)
    prompt = encode_prompt(tok, demonstrations, pair[0])
    return [tok.bos_id, *prompt.ids, *tok.encode(pair[1]), tok.eos_id]


def repeated_span_sequence(tok: Tokenizer, rng: random.Random, length: int) -> list[int]:
    """<s> span span </s> for a span of `length` random ordinary tokens."""
    span = [rng.randrange(FIRST_ORDINARY_ID, tok.vocab_size) for _ in range(length)]
    return [tok.bos_id, *span, *span, tok.eos_id]
