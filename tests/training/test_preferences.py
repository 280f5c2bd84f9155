"""Preference pairs built from the data: each damage makes a worse answer of its kind."""

import random
from collections import Counter

from training.instructions import make_request
from training.phrasings import phrasings
from training.preferences import (
    damaged,
    damaged_preferences,
    dropped,
    repeated,
    shuffled,
)
from training.probes import loops

SENTENCE = "The little boy is afraid of the dark."


def test_damages_change_the_answer_as_they_say() -> None:
    rng = random.Random(0)
    for _ in range(20):
        short = dropped(SENTENCE, rng)
        assert len(short.split()) < len(SENTENCE.split())
        mixed = shuffled(SENTENCE, rng)
        assert mixed != SENTENCE and Counter(mixed.split()) == Counter(SENTENCE.split())
    assert len(dropped("这小男孩怕黑。", rng)) < len("这小男孩怕黑。")  # Chinese: characters


def test_a_repeated_span_is_a_loop() -> None:
    rng = random.Random(1)
    looped = [repeated(SENTENCE, rng) for _ in range(20)]
    assert all(len(s.split()) > len(SENTENCE.split()) for s in looped)
    assert sum(loops(s) for s in looped) >= 5  # spans of 3 words said again are loops


def test_other_language_and_wrong_answers() -> None:
    train, _ = phrasings("to_english", "zh")
    request = make_request(train[0], ("这小男孩怕黑。", SENTENCE), "zh")
    assert damaged(request, "other_language", random.Random(0)) == "这小男孩怕黑。"
    question, _ = phrasings("is_question", "en")
    asked = make_request(question[0], ("你怕黑吗？", "Are you afraid of the dark?"), "en")
    assert asked.answer == "yes" and damaged(asked, "wrong_answer", random.Random(0)) == "no"


def test_the_wrong_task_is_another_tasks_answer() -> None:
    """Never the other yes/no or language name: that is a wrong answer to the same task."""
    rng = random.Random(0)
    for task, wrong in (("is_question", {"yes", "no"}), ("language", {"Chinese", "English"})):
        train, _ = phrasings(task, "en")
        request = make_request(train[0], ("你怕黑吗？", "Are you afraid of the dark?"), "zh")
        answers = {damaged(request, "wrong_task", rng) for _ in range(30)}
        assert answers.isdisjoint(wrong) and request.answer not in answers
        assert "你怕黑吗？" in answers


def test_every_pair_prefers_the_data_and_differs() -> None:
    train, _ = phrasings("repeat", "en")
    pairs = [("这小男孩怕黑。", SENTENCE), ("你怕黑吗？", "Are you afraid of the dark?")] * 20
    requests = [make_request(train[i % len(train)], pair, "en") for i, pair in enumerate(pairs)]
    made = damaged_preferences(requests, random.Random(0))
    assert len(made) >= 30
    assert all(p.chosen == p.request.answer and p.rejected != p.chosen for p in made)
    assert len({p.kind for p in made}) >= 4
