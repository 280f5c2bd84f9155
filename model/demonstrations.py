"""Demonstrations for a few-shot prompt: random pairs from a pool, or the pairs most like a query.

Likeness is shared Chinese characters and character pairs, each weighted by how rare it is in
the pool (inverse document frequency), the way a translation memory finds its matches. The most
similar demonstration comes last, nearest the query it helps with.
"""

import math
import random
from collections import Counter, defaultdict
from pathlib import Path

from model.prompts import Pair

COMMON = 0.05  # a feature in more of the pool than this finds no candidates (它, 。, 我)


def features(text: str) -> set[str]:
    """The characters of a text and its pairs of neighbouring characters, spaces left out."""
    chars = [c for c in text if not c.isspace()]
    return set(chars) | {a + b for a, b in zip(chars, chars[1:], strict=False)}


class DemonstrationPool:
    """Pairs to draw demonstrations from, indexed by the features of their Chinese side."""

    def __init__(self, pairs: list[Pair]) -> None:
        if not pairs:
            raise ValueError("a demonstration pool needs at least one pair")
        self.pairs = pairs
        postings: dict[str, list[int]] = defaultdict(list)
        for index, (zh, _) in enumerate(pairs):
            for feature in features(zh):
                postings[feature].append(index)
        self.postings = dict(postings)
        self.idf = {f: math.log(len(pairs) / len(ids)) for f, ids in self.postings.items()}
        self.most_postings = max(50, int(COMMON * len(pairs)))  # small pools: every feature

    def __len__(self) -> int:
        return len(self.pairs)

    def similar_ids(self, query: str, k: int, exclude: set[int] | None = None) -> list[int]:
        """Indices of the `k` pairs most like `query`, the most similar last; fewer when fewer
        share anything with it."""
        scores: Counter[int] = Counter()
        for feature in features(query):
            ids = self.postings.get(feature, [])
            weight = self.idf.get(feature, 0.0)
            if weight > 0 and len(ids) <= self.most_postings:  # in every pair: no likeness
                for index in ids:
                    scores[index] += weight
        for index in exclude or ():
            scores.pop(index, None)
        best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
        return [index for index, _ in reversed(best)]

    def similar(self, query: str, k: int) -> list[Pair]:
        return [self.pairs[i] for i in self.similar_ids(query, k)]

    def random(self, k: int, rng: random.Random) -> list[Pair]:
        return rng.sample(self.pairs, min(k, len(self.pairs)))


def read_pool(path: Path) -> list[Pair]:
    """Pairs from a `zh<TAB>en` file."""
    pairs = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split("\t")
        if len(fields) != 2:
            raise ValueError(f"{path}:{number}: expected 'zh<TAB>en'")
        pairs.append((fields[0], fields[1]))
    return pairs
