"""Demonstration pools: random draws, and the pairs most like a query, nearest last."""

import random

import pytest

from model.demonstrations import DemonstrationPool, features

PAIRS = [
    ("我有一只猫。", "I have a cat."),
    ("他有一只狗。", "He has a dog."),
    ("今天天气很好。", "It's a nice day."),
    ("我有一只小猫。", "I have a kitten."),
    ("猫在睡觉。", "The cat is sleeping."),
]


def test_features_are_characters_and_neighbouring_pairs() -> None:
    assert features("我 有猫") == {"我", "有", "猫", "我有", "有猫"}


def test_the_most_similar_pair_comes_last_and_unrelated_ones_never() -> None:
    pool = DemonstrationPool(PAIRS)
    shown = pool.similar("我有一只黑猫。", 2)
    assert shown[-1] in (PAIRS[0], PAIRS[3]) and PAIRS[2] not in shown


def test_a_query_sharing_nothing_gets_no_demonstrations() -> None:
    assert DemonstrationPool(PAIRS).similar("Hello", 3) == []


def test_excluded_pairs_are_never_shown() -> None:
    pool = DemonstrationPool(PAIRS)
    assert 0 not in pool.similar_ids("我有一只猫。", 4, exclude={0})


def test_random_draws_are_seeded_and_distinct() -> None:
    pool = DemonstrationPool(PAIRS)
    first = pool.random(3, random.Random(1))
    assert first == pool.random(3, random.Random(1)) and len(set(first)) == 3
    assert len(pool.random(10, random.Random(1))) == len(PAIRS)


def test_an_empty_pool_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one pair"):
        DemonstrationPool([])
