"""Tokenizers: readable tokens, lossless round trips, and no input that raises."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.tokenizer import Tokenizer, train_char_tokenizer, train_subword_tokenizer

ZH = [
    "我有一只狗。",
    "我爱你。",
    "今天天气很好。",
    "他昨天去了北京。",
    "这本书很有意思。",
    "我有 CD。",
]
EN = [
    "I have a dog.",
    "I love you.",
    "It's a nice day today.",
    "He went to Beijing yesterday.",
    "This book is very interesting.",
    "Tom's cat isn't here, \"really\"!",
] * 3

NASTY = [
    "😀🐈",
    "e\u0301\u0301",
    "a\u200bb\u200d",
    "\x00\x01\x07\x1b[31m",
    "\ud800",
    "שלום עולם",
    "مرحبا",
    "<b>x</b>",
    "<img src=x onerror=alert(1)>",
    "{{ 7*7 }} {% raw %}",
    "\u202eevil",
    "   ",
    "",
    "\n\r\t",
    "ｆｕｌｌ　ｗｉｄｔｈ",
    "猫" * 10_000,
    "\uffff\U0010ffff",
]


@pytest.fixture(scope="module")
def zh() -> Tokenizer:
    return train_char_tokenizer(ZH)


@pytest.fixture(scope="module")
def en() -> Tokenizer:
    return train_subword_tokenizer(EN, vocab_size=120)


def test_specials_have_fixed_ids(zh: Tokenizer, en: Tokenizer) -> None:
    for tok in (zh, en):
        assert tok.tokens([0, 1, 2, 3]) == ["<pad>", "<s>", "</s>", "<unk>"]


def test_chinese_is_one_token_per_character(zh: Tokenizer) -> None:
    ids = zh.encode("我有一只狗。")
    assert zh.tokens(ids) == list("我有一只狗。")
    assert zh.decode(ids) == "我有一只狗。"
    assert zh.tokens(zh.encode("我有 CD")) == ["我", "有", "▁", "C", "D"]  # spaces stay visible
    assert zh.decode(zh.encode("我有 CD")) == "我有 CD"


def test_english_subwords_are_readable_and_lossless(en: Tokenizer) -> None:
    for sentence in EN:
        ids = en.encode(sentence)
        assert en.decode(ids) == sentence
        assert all(t.isprintable() for t in en.tokens(ids))
    assert en.tokens(en.encode("I have a dog."))[-1] == "."  # punctuation stands alone


def test_unknown_characters_become_visible_unk(zh: Tokenizer, en: Tokenizer) -> None:
    assert zh.tokens(zh.encode("我😀")) == ["我", "<unk>"]
    assert "<unk>" in en.decode(en.encode("I 😀"))


@pytest.mark.parametrize("text", NASTY)
def test_nasty_inputs_never_raise(zh: Tokenizer, en: Tokenizer, text: str) -> None:
    for tok in (zh, en):
        ids = tok.encode(text)
        assert all(0 <= i < tok.vocab_size for i in ids)
        assert len(tok.tokens(ids)) == len(ids)
        tok.decode(ids)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None), max_size=300))
def test_any_unicode_tokenizes(zh: Tokenizer, en: Tokenizer, text: str) -> None:
    for tok in (zh, en):
        ids = tok.encode(text)
        assert all(0 <= i < tok.vocab_size for i in ids)
        assert all(isinstance(t, str) and t for t in tok.tokens(ids))
        assert isinstance(tok.decode(ids), str)


def test_save_and_load_round_trip(tmp_path: Path, en: Tokenizer) -> None:
    en.save(tmp_path / "tok.json")
    loaded = Tokenizer.load(tmp_path / "tok.json")
    assert loaded.kind == "subword"
    assert loaded.encode("I love you.") == en.encode("I love you.")


def test_surrogates_from_json_escapes(zh: Tokenizer) -> None:
    """'\\ud83d\\ude00' in JSON is one emoji; a lone '\\ud800' is a replacement character."""
    assert zh.tokens(zh.encode("我\ud83d\ude00")) == ["我", "<unk>"]
    assert zh.encode("\ud800我") == [zh.unk_id, *zh.encode("我")]
