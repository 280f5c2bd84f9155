"""Made-up names, so that a prompt can teach a word the model has never seen.

A name is a pair: a Chinese transliteration (two or three characters of the kind foreign names
are written with) and an English spelling of two or three random syllables. The two halves are
drawn independently, so the English cannot be guessed from the Chinese: only a demonstration
that uses the name can tell it. A generator, never a list: every call draws a new name.

Names go where the corpus has 汤姆 and Tom (about 2,900 training pairs, at every position in the
sentence), in pairs whose Chinese and English name him the same number of times.
"""

import random
import re

from model import Pair

SLOT = ("汤姆", "Tom")
# Characters Chinese writes foreign names with (阿, 巴, 卡, ...): not names themselves.
TRANSLITERATION = (
    "阿巴贝比波布达德迪多杜尔法菲弗福格哈赫基吉卡凯科克库拉莱兰劳勒雷里利林卢鲁罗洛马麦曼梅米莫穆"
    "纳内尼诺帕佩皮普奇萨塞森斯索塔泰特提图瓦维沃西希谢辛雅亚扬伊尤泽扎兹"
)
ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "kr")
VOWELS = ("a", "e", "i", "o", "u")
CODAS = ("", "", "", "n", "r", "l", "s")


def has_slot(pair: Pair) -> bool:
    """True when the pair names 汤姆 as often in Chinese as Tom in English."""
    zh, en = pair
    count = zh.count(SLOT[0])
    return count > 0 and count == len(re.findall(rf"\b{SLOT[1]}\b", en))


def made_up_name(rng: random.Random, taken: set[str] = frozenset()) -> Pair:
    """A new (Chinese, English) name, neither half in `taken` (the words of a corpus)."""
    while True:
        zh = "".join(rng.choice(TRANSLITERATION) for _ in range(rng.randint(2, 3)))
        syllables = [rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(rng.randint(2, 3))]
        en = ("".join(syllables) + rng.choice(CODAS)).capitalize()
        if zh not in taken and en not in taken and en.lower() not in taken:
            return zh, en


def with_name(pair: Pair, name: Pair) -> Pair:
    """The pair with its 汤姆 / Tom replaced by `name`."""
    zh, en = pair
    return zh.replace(SLOT[0], name[0]), re.sub(rf"\b{SLOT[1]}\b", name[1], en)


def corpus_words(pairs: list[Pair]) -> set[str]:
    """What a made-up name must not be: every English word of the corpus, any case, and every
    run of two or three Chinese characters in it."""
    words: set[str] = set()
    for zh, en in pairs:
        words.update(w for w in re.findall(r"[A-Za-z]+", en))
        words.update(w.lower() for w in re.findall(r"[A-Za-z]+", en))
        for size in (2, 3):
            words.update(zh[i : i + size] for i in range(len(zh) - size + 1))
    return words
