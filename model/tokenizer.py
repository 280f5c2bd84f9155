"""Tokenizers built with Hugging Face `tokenizers`: Chinese by character, English by subword,
and for GPT one vocabulary that does both ("mixed").

Every token is a readable string (no byte-level pieces) because tokens are heatmap labels.
Spaces are shown as `▁` (SentencePiece's convention), so decoding is lossless. Characters the
vocabulary lacks become a visible `<unk>`; no input raises.
"""

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from tokenizers import Regex, decoders, models, normalizers, pre_tokenizers, trainers
from tokenizers import Tokenizer as HFTokenizer

PAD, BOS, EOS, UNK = "<pad>", "<s>", "</s>", "<unk>"
SPECIALS = [PAD, BOS, EOS, UNK]  # ids 0, 1, 2, 3 in every vocabulary
SPACE = "▁"

# A GPT prompt is lines of `中文 => English`: the arrow and the line break are tokens of their own.
ARROW, NEWLINE = "=>", "\n"
PROMPT_SPECIALS = [ARROW, NEWLINE]  # ids 4 and 5 in a mixed vocabulary
FIRST_ORDINARY_ID = len(SPECIALS) + len(PROMPT_SPECIALS)  # in a mixed vocabulary

Kind = Literal["char", "subword", "mixed"]


def _clean_whitespace() -> list[normalizers.Normalizer]:
    """Strip the ends and turn any run of whitespace into one space."""
    return [normalizers.Strip(), normalizers.Replace(Regex(r"\s+"), " ")]


def _char_pipeline(tok: HFTokenizer) -> None:
    # NFC only: NFKC would turn the corpus's full-width ，。？ into ASCII punctuation.
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFC(), *_clean_whitespace(), normalizers.Replace(" ", SPACE)]
    )
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    tok.decoder = decoders.Metaspace(replacement=SPACE, prepend_scheme="never")


def _subword_pipeline(tok: HFTokenizer) -> None:
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), *_clean_whitespace()])
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=SPACE, prepend_scheme="always", split=True),
            # Punctuation stands alone ("cat", "."); apostrophes stay inside words ("Tom's").
            pre_tokenizers.Split(Regex(r"[^\w'" + SPACE + "]"), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=SPACE, prepend_scheme="always")


def _mixed_pipeline(tok: HFTokenizer) -> None:
    """Each Chinese character a token (as in the translation models), other words by subword.
    NFC (not NFKC) keeps the corpus's full-width punctuation; `=>` and line breaks are special
    tokens, found before this pipeline runs."""
    tok.normalizer = normalizers.Sequence([normalizers.NFC(), *_clean_whitespace()])
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(r"\p{Han}"), behavior="isolated"),
            pre_tokenizers.Metaspace(replacement=SPACE, prepend_scheme="never", split=True),
            pre_tokenizers.Split(Regex(r"[^\w'" + SPACE + "]"), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=SPACE, prepend_scheme="never")


def valid_unicode(text: str) -> str:
    """Join surrogate pairs (as JSON escapes deliver them) and turn lone surrogates into U+FFFD.

    A Python str may hold lone surrogates; the Rust tokenizer accepts only valid Unicode.
    """
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class Tokenizer:
    """Text <-> ids, and ids -> the token strings that label heatmap rows and columns."""

    def __init__(self, hf: HFTokenizer, kind: Kind) -> None:
        self.hf = hf
        self.kind = kind
        self.pad_id, self.bos_id, self.eos_id, self.unk_id = (hf.token_to_id(s) for s in SPECIALS)
        if [self.pad_id, self.bos_id, self.eos_id, self.unk_id] != [0, 1, 2, 3]:
            raise ValueError("tokenizer must hold <pad> <s> </s> <unk> as ids 0-3")

    @property
    def vocab_size(self) -> int:
        return self.hf.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        """Ids of `text`, without <s> or </s>."""
        return self.hf.encode(valid_unicode(text), add_special_tokens=False).ids

    def tokens(self, ids: Iterable[int]) -> list[str]:
        return [self.hf.id_to_token(i) or UNK for i in ids]

    def decode(self, ids: Iterable[int]) -> str:
        """Text of `ids`; <pad>, <s> and </s> are dropped, <unk> stays visible."""
        kept = [i for i in ids if i not in (self.pad_id, self.bos_id, self.eos_id)]
        return self.hf.decode(kept, skip_special_tokens=False)

    def save(self, path: Path) -> None:
        self.hf.save(str(path))
        path.with_suffix(".meta.json").write_text(json.dumps({"kind": self.kind}) + "\n")

    @classmethod
    def load(cls, path: Path) -> "Tokenizer":
        """Load from the JSON that `save` wrote (plain data: nothing is executed)."""
        meta = json.loads(path.with_suffix(".meta.json").read_text())
        return cls(HFTokenizer.from_file(str(path)), meta["kind"])


def train_char_tokenizer(texts: Iterable[str], min_frequency: int = 1) -> Tokenizer:
    """One token per character (Chinese has no spaces to split words on)."""
    tok = HFTokenizer(models.WordLevel(unk_token=UNK))
    _char_pipeline(tok)
    trainer = trainers.WordLevelTrainer(
        vocab_size=1_000_000, min_frequency=min_frequency, special_tokens=SPECIALS
    )
    tok.train_from_iterator(texts, trainer)
    return Tokenizer(tok, "char")


def train_subword_tokenizer(texts: Iterable[str], vocab_size: int = 6000) -> Tokenizer:
    """Byte-pair-encoding over characters (not bytes): frequent words whole, rare ones in pieces."""
    tok = HFTokenizer(models.BPE(unk_token=UNK))
    _subword_pipeline(tok)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIALS, show_progress=False
    )
    tok.train_from_iterator(texts, trainer)
    return Tokenizer(tok, "subword")


def train_mixed_tokenizer(texts: Iterable[str], vocab_size: int = 8000) -> Tokenizer:
    """One vocabulary for Chinese and English text, with the prompt tokens `=>` and `\\n`."""
    tok = HFTokenizer(models.BPE(unk_token=UNK))
    _mixed_pipeline(tok)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIALS + PROMPT_SPECIALS,
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    return Tokenizer(tok, "mixed")


def train_tokenizer(kind: Kind, texts: Iterable[str], vocab_size: int = 6000) -> Tokenizer:
    return (
        train_char_tokenizer(texts)
        if kind == "char"
        else train_subword_tokenizer(texts, vocab_size)
    )
