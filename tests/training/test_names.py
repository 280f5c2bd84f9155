"""Made-up names: new each time, absent from the corpus, put where the corpus has Tom."""

import random

from training.names import corpus_words, has_slot, made_up_name, with_name

PAIRS = [
    ("汤姆在安慰玛丽。", "Tom is consoling Mary."),
    ("汤姆说汤姆会来。", "Tom said Tom would come."),
    ("汤姆来了。", "Tom and Tommy came."),  # one 汤姆, one Tom: Tommy is another word
    ("我有一只猫。", "I have a cat."),
]


def test_a_slot_needs_as_many_toms_on_both_sides() -> None:
    assert [has_slot(p) for p in PAIRS] == [True, True, True, False]
    assert not has_slot(("汤姆和汤姆。", "Tom."))


def test_the_name_replaces_every_tom_and_only_tom() -> None:
    assert with_name(PAIRS[1], ("泽布", "Zebu")) == (
        "泽布说泽布会来。",
        "Zebu said Zebu would come.",
    )
    assert with_name(PAIRS[2], ("泽布", "Zebu"))[1] == "Zebu and Tommy came."


def test_names_are_new_each_time_and_never_corpus_words() -> None:
    taken = corpus_words(PAIRS) | {"阿巴", "Zebu"}
    rng = random.Random(0)
    names = [made_up_name(rng, taken) for _ in range(200)]
    assert len(set(names)) > 190
    assert all(zh not in taken and en not in taken and en.lower() not in taken for zh, en in names)
    assert all(2 <= len(zh) <= 3 and en[0].isupper() for zh, en in names)


def test_corpus_words_hold_english_words_and_chinese_runs() -> None:
    words = corpus_words(PAIRS[:1])
    assert {"Tom", "tom", "consoling", "汤姆", "安慰玛"} <= words
