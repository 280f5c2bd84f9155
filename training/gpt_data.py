"""The GPT's training sequences: prompts in which reading the context pays.

Each epoch turns every training pair into one prompt `<s> demonstrations query => answer </s>`:
- zero-shot, or after 1-5 demonstrations drawn at random, or after the 1-5 training pairs most
  like the query (a translation memory: their words are often the answer's words);
- for a pair that names 汤姆 / Tom, often a made-up name instead, used in the query and in one
  demonstration, so that the answer needs the name the demonstration spells out;
and adds sequences that repeat a span, of random tokens or of real sentences, for induction
heads that copy real text. A pair's neighbours never include itself or another translation of
the same sentence, as a dev sentence has none in the training pairs.
"""

import random
from dataclasses import dataclass

from model import FIRST_ORDINARY_ID, NEWLINE, DemonstrationPool, Pair, Tokenizer, encode_prompt
from training.names import has_slot, made_up_name, with_name

NEIGHBOURS = 8  # similar demonstrations are drawn from a pair's 8 nearest


@dataclass(frozen=True)
class Mix:
    """Shares of each kind of sequence (a translation prompt's kind is drawn per pair)."""

    zero_shot: float = 0.25
    random: float = 0.25
    similar: float = 0.5
    names: float = 0.6  # of the pairs that name Tom: made-up name prompts
    extra_names: float = 0.0  # per training pair: one more name prompt, from a pair with Tom
    max_shots: int = 5
    spans: float = 0.05  # per training pair: a repeated span of random tokens
    real_spans: float = 0.1  # per training pair: repeated real sentences


def neighbours_of(pool: DemonstrationPool) -> list[list[int]]:
    """For each pair of the pool, its NEIGHBOURS most similar others, the most similar last."""
    by_zh: dict[str, set[int]] = {}
    by_en: dict[str, set[int]] = {}
    for index, (zh, en) in enumerate(pool.pairs):
        by_zh.setdefault(zh, set()).add(index)
        by_en.setdefault(en, set()).add(index)
    return [pool.similar_ids(zh, NEIGHBOURS, by_zh[zh] | by_en[en]) for zh, en in pool.pairs]


class SequenceMaker:
    def __init__(
        self,
        tok: Tokenizer,
        pool: DemonstrationPool,
        neighbours: list[list[int]],
        mix: Mix,
        taken: set[str],
    ) -> None:
        self.tok = tok
        self.pool = pool
        self.neighbours = neighbours
        self.mix = mix
        self.taken = taken  # corpus words a made-up name must not be
        self.slots = [i for i, pair in enumerate(pool.pairs) if has_slot(pair)]

    def sequence(self, demonstrations: list[Pair], query: Pair) -> list[int]:
        prompt = encode_prompt(self.tok, demonstrations, query[0])
        return [self.tok.bos_id, *prompt.ids, *self.tok.encode(query[1]), self.tok.eos_id]

    def demonstrations(self, index: int, shots: int, rng: random.Random) -> list[Pair]:
        """`shots` demonstrations for pair `index`: random ones, or its nearest (in order)."""
        kinds = ("zero_shot", "random", "similar")
        kind = rng.choices(kinds, [getattr(self.mix, k) for k in kinds])[0]
        if kind == "zero_shot" or shots == 0:
            return []
        if kind == "random":
            return self.pool.random(shots, rng)
        near = self.neighbours[index]
        chosen = sorted(rng.sample(range(len(near)), min(shots, len(near))))
        return [self.pool.pairs[near[i]] for i in chosen]

    def translation(self, index: int, rng: random.Random) -> list[int]:
        shots = rng.randint(1, self.mix.max_shots)
        return self.sequence(self.demonstrations(index, shots, rng), self.pool.pairs[index])

    def name_prompt(self, index: int, rng: random.Random) -> list[int]:
        """Pair `index` with a made-up name for Tom, after a demonstration that uses the same
        name in another sentence, placed among 0-3 other demonstrations."""
        name = made_up_name(rng, self.taken)
        drawn = rng.sample(self.slots, min(3, len(self.slots)))
        other = rng.choice([i for i in drawn if i != index] or [index])
        shown = self.demonstrations(index, rng.randint(0, 3), rng)
        shown.insert(rng.randint(0, len(shown)), with_name(self.pool.pairs[other], name))
        return self.sequence(shown, with_name(self.pool.pairs[index], name))

    def repeated(self, span: list[int]) -> list[int]:
        return [self.tok.bos_id, *span, *span, self.tok.eos_id]

    def random_span(self, rng: random.Random) -> list[int]:
        length = rng.randint(5, 40)
        return self.repeated(
            [rng.randrange(FIRST_ORDINARY_ID, self.tok.vocab_size) for _ in range(length)]
        )

    def real_span(self, rng: random.Random) -> list[int]:
        """1-4 real sentences (Chinese, English or both of a pair), shown twice."""
        newline = self.tok.hf.token_to_id(NEWLINE)
        span: list[int] = []
        for _ in range(rng.randint(1, 4)):
            zh, en = rng.choice(self.pool.pairs)
            text = rng.choice((zh, en, f"{zh} => {en}"))
            span += [*self.tok.encode(text), newline]
        return self.repeated(span[:100])

    def epoch(self, rng: random.Random, max_len: int) -> list[list[int]]:
        """One epoch's sequences, each at most `max_len` tokens."""
        sequences = []
        for index, pair in enumerate(self.pool.pairs):
            if has_slot(pair) and rng.random() < self.mix.names:
                sequences.append(self.name_prompt(index, rng))
            else:
                sequences.append(self.translation(index, rng))
        count = len(self.pool)
        if self.slots:
            extra = int(self.mix.extra_names * count)
            sequences += [self.name_prompt(rng.choice(self.slots), rng) for _ in range(extra)]
        sequences += [self.random_span(rng) for _ in range(int(self.mix.spans * count))]
        sequences += [self.real_span(rng) for _ in range(int(self.mix.real_spans * count))]
        return [ids for ids in sequences if len(ids) <= max_len]
