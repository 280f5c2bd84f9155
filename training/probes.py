"""Probes of learning from the context, built by generators from held-out dev sentences.

- Few-shot translation: 0, 1, 3 or 5 demonstrations, drawn at random from the training pairs
  or the training pairs most like the query (model/demonstrations.py).
- A word learned from the prompt: a made-up name (training/names.py) put in a dev sentence, with
  or without a demonstration that uses it in another dev sentence; does the answer spell it?
- Induction on real text: every head's induction score on repeated dev sentences, Chinese and
  English, beside the score on random tokens.
- Loops: the share of answers that repeat a word trigram.
"""

import random

import sacrebleu

from model import GPT, DemonstrationPool, Pair, Tokenizer, head_scores_on, text_spans
from training.evaluate import translate_prompt
from training.names import has_slot, made_up_name, with_name

PROBE_SEED = 20261202  # the probes' own seed: no training run draws these names
SPAN = 20  # tokens in a repeated span of real text


def few_shot_answers(
    model: GPT, tok: Tokenizer, dev: list[Pair], pool: DemonstrationPool, kind: str, shots: int
) -> list[str]:
    """Greedy answers to every dev sentence after `shots` demonstrations of `kind`."""
    model.eval()
    rng = random.Random(PROBE_SEED + shots)
    answers = []
    for zh, _ in dev:
        if shots == 0:
            shown: list[Pair] = []
        elif kind == "similar":
            shown = pool.similar(zh, shots)
        else:
            shown = pool.random(shots, rng)
        answers.append(translate_prompt(model, tok, shown, zh))
    return answers


def loops(answer: str) -> bool:
    """True when the answer says some three words twice (`very very very` counts)."""
    words = answer.lower().split()
    trigrams = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
    return len(set(trigrams)) < len(trigrams)


def few_shot_table(
    model: GPT,
    tok: Tokenizer,
    dev: list[Pair],
    pool: DemonstrationPool,
    shots: tuple[int, ...] = (1, 3, 5),
) -> dict[str, float]:
    """BLEU and chrF zero-shot and for each kind and number of demonstrations, and the share
    of zero-shot answers that loop."""
    refs = [en for _, en in dev]
    runs = {"zero_shot": few_shot_answers(model, tok, dev, pool, "random", 0)}
    for kind in ("random", "similar"):
        for n in shots:
            runs[f"{kind}_{n}"] = few_shot_answers(model, tok, dev, pool, kind, n)
    scores: dict[str, float] = {}
    for label, hyps in runs.items():
        scores[f"{label}_bleu"] = round(sacrebleu.corpus_bleu(hyps, [refs]).score, 2)
        scores[f"{label}_chrf"] = round(sacrebleu.corpus_chrf(hyps, [refs]).score, 2)
    looping = sum(loops(answer) for answer in runs["zero_shot"])
    scores["zero_shot_loop_share"] = round(looping / max(1, len(dev)), 4)
    return scores


NameProbe = tuple[Pair, Pair, str]  # (demonstration, query, the name in English)


def name_probes(
    dev: list[Pair], taken: set[str], count: int = 100, seed: int = PROBE_SEED
) -> list[NameProbe]:
    """Two different dev sentences about Tom, Tom replaced in both by one new made-up name, a
    new name for each probe."""
    rng = random.Random(seed)
    slots = list(dict.fromkeys(pair for pair in dev if has_slot(pair)))
    if len(slots) < 2:
        return []  # a probe needs two different sentences
    probes = []
    for i in range(min(count, len(slots))):
        query, shown = slots[i], slots[(i + 1 + rng.randrange(len(slots) - 1)) % len(slots)]
        name = made_up_name(rng, taken)
        probes.append((with_name(shown, name), with_name(query, name), name[1]))
    return probes


def name_copy_rates(model: GPT, tok: Tokenizer, probes: list[NameProbe]) -> dict[str, float]:
    """How often the answer spells the made-up name: after the demonstration, and without it."""
    model.eval()
    hits = {"with_demonstration": 0, "without": 0}
    for shown, (zh, _), name in probes:
        hits["with_demonstration"] += name in translate_prompt(model, tok, [shown], zh)
        hits["without"] += name in translate_prompt(model, tok, [], zh)
    return {f"name_copied_{k}": round(v / max(1, len(probes)), 4) for k, v in hits.items()}


def text_induction(model: GPT, tok: Tokenizer, dev: list[Pair]) -> dict[str, float]:
    """The best induction score of any head on repeated real Chinese and English dev text."""
    model.eval()
    best = {}
    for language, side in (("zh", 0), ("en", 1)):
        spans = text_spans([tok.encode(pair[side]) for pair in dev], SPAN, 16)
        if not spans:
            continue  # too little text for one span
        table = head_scores_on(model, spans)
        best[f"induction_{language}_text"] = round(
            max(max(site["induction"]) for site in table.values()), 3
        )
    return best


def epoch_report(
    model: GPT, tok: Tokenizer, dev: list[Pair], pool: DemonstrationPool, probes: list[NameProbe]
) -> dict[str, float]:
    """What the log records after an epoch: three-shot and zero-shot BLEU, loops, names copied
    and induction on real text, on a part of the dev set."""
    return {
        **few_shot_table(model, tok, dev, pool, shots=(3,)),
        **name_copy_rates(model, tok, probes),
        **text_induction(model, tok, dev),
    }
