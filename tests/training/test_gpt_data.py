"""The GPT's training sequences: every kind is what it says."""

import random

from model import ARROW, NEWLINE, DemonstrationPool, train_mixed_tokenizer
from training.gpt_data import Mix, SequenceMaker, neighbours_of
from training.names import TRANSLITERATION, corpus_words

PAIRS = [
    ("汤姆在安慰玛丽。", "Tom is consoling Mary."),
    ("汤姆抢了家银行。", "Tom robbed a bank."),
    ("我有一只猫。", "I have a cat."),
    ("我有一只狗。", "I have a dog."),
    ("我养了一只狗。", "I have a dog."),  # another translation of the same sentence
    ("今天天气很好。", "It's a nice day."),
]


def maker(mix: Mix) -> SequenceMaker:
    letters = " ".join("abcdefghijklmnopqrstuvwxyz" + "abcdefghijklmnopqrstuvwxyz".upper())
    texts = [zh for zh, _ in PAIRS] + [en for _, en in PAIRS] * 3 + [TRANSLITERATION, letters]
    tok = train_mixed_tokenizer(texts, 300)
    pool = DemonstrationPool(PAIRS)
    return SequenceMaker(tok, pool, neighbours_of(pool), mix, corpus_words(PAIRS))


def lines(make: SequenceMaker, ids: list[int]) -> list[str]:
    """A sequence's text, one prompt line each (without <s> and </s>)."""
    tok = make.tok
    newline = tok.hf.token_to_id(NEWLINE)
    out, line = [], []
    for token in ids[1:-1]:
        if token == newline:
            out.append(tok.decode(line))
            line = []
        else:
            line.append(token)
    return [*out, tok.decode(line)]


def test_neighbours_leave_out_the_pair_and_other_translations_of_it() -> None:
    neighbours = neighbours_of(DemonstrationPool(PAIRS))
    assert 3 not in neighbours[3] and 4 not in neighbours[3] and 3 not in neighbours[4]
    assert neighbours[2][-1] in (3, 4)  # 我有一只狗 is the most like 我有一只猫


def test_a_name_prompt_uses_one_new_name_in_a_demonstration_and_the_answer() -> None:
    make = maker(Mix())
    rng = random.Random(0)
    for _ in range(10):
        text = lines(make, make.name_prompt(0, rng))
        query, answer = text[-1].split(ARROW)
        names = {w for w in answer.split() if w[0].isupper() and w not in ("Mary.", "Tom")}
        assert "Tom" not in answer and "汤姆" not in query and len(names) == 1
        name = names.pop()
        assert any(name in line for line in text[:-1])  # a demonstration spells it


def test_similar_prompts_show_neighbours_and_zero_shot_shows_none() -> None:
    make = maker(Mix(zero_shot=0, random=0, similar=1))
    text = lines(make, make.translation(2, random.Random(0)))
    shown = {line.split(ARROW)[0].replace(" ", "") for line in text[:-1]}
    assert shown and shown <= {PAIRS[i][0] for i in make.neighbours[2]}
    alone = maker(Mix(zero_shot=1, random=0, similar=0))
    assert len(lines(alone, alone.translation(2, random.Random(0)))) == 1


def test_repeated_spans_repeat_and_an_epoch_keeps_to_the_length() -> None:
    make = maker(Mix(spans=1, real_spans=1, extra_names=1))
    rng = random.Random(0)
    for ids in (make.random_span(rng), make.real_span(rng)):
        body = ids[1:-1]
        assert body[: len(body) // 2] == body[len(body) // 2 :]
    sequences = make.epoch(rng, max_len=30)
    assert sequences and all(len(ids) <= 30 for ids in sequences)
