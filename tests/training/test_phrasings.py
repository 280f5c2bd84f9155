"""Instruction phrasings: dozens per task and language, and held-out ones never trained on."""

import random

import pytest

from training.instructions import (
    TaskMix,
    answer_for,
    draw_requests,
    evaluation_requests,
    hard_repeats,
    is_question,
    make_request,
    says_a_word_twice,
)
from training.phrasings import SLOT, TASKS, Phrasing, all_phrasings, phrasings

PAIRS = [("我有一只猫。", "I have a cat."), ("你有猫吗？", "Do you have a cat?")] * 10


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("language", ["zh", "en"])
def test_dozens_of_phrasings_and_held_out_ones_never_trained_on(task, language) -> None:
    train, held_out = phrasings(task, language)
    assert len(train) >= 36 and len(held_out) >= 36
    assert {p.template for p in train}.isdisjoint(p.template for p in held_out)
    for sentence in ("我有一只猫。", "I have a cat."):
        trained = {p.request(sentence) for p in train}
        assert trained.isdisjoint(p.request(sentence) for p in held_out)
    assert {(p.task, p.language) for p in train + held_out} == {(task, language)}


def test_every_held_out_phrasing_has_words_no_training_phrasing_has() -> None:
    """Held out by its parts, not only by their combination: some piece of each held-out
    wording (a run of 2 characters or a word pair) appears in no training phrasing."""
    train, held_out = all_phrasings()

    def pieces(phrasing: Phrasing) -> set[str]:
        text = phrasing.template.replace(SLOT, " ")
        words = text.split()
        pairs = {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)}
        return {text[i : i + 2] for i in range(len(text) - 1)} | pairs

    trained = set().union(*(pieces(p) for p in train))
    assert all(pieces(p) - trained for p in held_out)


def test_the_sentence_is_in_the_request_once() -> None:
    train, held_out = all_phrasings()
    for phrasing in train + held_out:
        instruction, given = phrasing.request("我有一只猫。")
        assert (instruction + (given or "")).count("我有一只猫。") == 1
        assert (given is None) == (SLOT in phrasing.template)


def test_answers_come_from_the_data() -> None:
    assert answer_for("to_english", "zh", "我有一只猫。", "I have a cat.") == "I have a cat."
    assert answer_for("repeat", "en", "I have a cat.", "我有一只猫。") == "I have a cat."
    assert answer_for("is_question", "zh", "你有猫吗？", "Do you have a cat?") == "是"
    assert answer_for("is_question", "en", "I have a cat.", "我有一只猫。") == "no"
    assert answer_for("language", "zh", "I have a cat.", "我有一只猫。") == "英文"
    assert answer_for("language", "en", "我有一只猫。", "I have a cat.") == "Chinese"
    assert is_question("Do you have a cat?") and not is_question("我有一只猫。")


def test_translations_take_the_source_side() -> None:
    train, _ = phrasings("to_chinese", "en")
    request = make_request(train[0], ("我有一只猫。", "I have a cat."), "zh")
    assert request.sentence == "I have a cat." and request.answer == "我有一只猫。"


def test_training_requests_use_training_phrasings_only() -> None:
    train, held_out = all_phrasings()
    requests = draw_requests(PAIRS * 5, train, TaskMix(), random.Random(0))
    sentences = {r.sentence for r in requests}
    texts = {p.request(sentence) for p in held_out for sentence in sentences}
    assert all((r.instruction, r.input) not in texts for r in requests)
    assert {r.task for r in requests} == set(TASKS)


def test_evaluation_asks_half_questions() -> None:
    _, held_out = all_phrasings()
    requests = evaluation_requests(PAIRS, held_out, "is_question", 8, seed=1)
    assert len(requests) == 8
    assert sum(is_question(r.sentence) for r in requests) == 4
    assert {r.answer for r in requests} <= {"是", "不是", "yes", "no"}


def test_a_word_said_twice() -> None:
    assert says_a_word_twice("我找不到我的眼镜。") and not says_a_word_twice("我有一只猫。")
    assert says_a_word_twice("The manager of the team.")  # case does not matter
    assert not says_a_word_twice("I see you.")


def test_hard_repeats_are_repeats_of_such_sentences_in_training_wordings() -> None:
    train, held_out = all_phrasings()
    pairs = [*PAIRS, ("我找不到我的眼镜。", "I can't find my glasses.")]
    requests = hard_repeats(pairs, train, 20, random.Random(0))
    assert len(requests) == 20
    assert {(r.task, r.sentence, r.answer) for r in requests} == {
        ("repeat", "我找不到我的眼镜。", "我找不到我的眼镜。")
    }
    held = {p.request("我找不到我的眼镜。") for p in held_out}
    assert all((r.instruction, r.input) not in held for r in requests)
    assert hard_repeats(PAIRS, train, 20, random.Random(0)) == []  # none says a word twice
