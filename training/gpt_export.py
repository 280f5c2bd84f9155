"""The GPT's export: fp16 weights, the demonstration pool that ships with them, and the metrics
of training/probes.py measured on the whole dev set with the exported weights."""

import argparse
import json
import logging
import random
from pathlib import Path

import sacrebleu

from model import (
    GPT,
    DemonstrationPool,
    Pair,
    Tokenizer,
    head_score_table,
    load_checkpoint,
    save_checkpoint,
)
from training.evaluate import best_heads
from training.loop import recipe, training_facts
from training.probes import (
    NameProbe,
    few_shot_answers,
    few_shot_table,
    name_copy_rates,
    text_induction,
)
from training.processes import Processes

log = logging.getLogger("attnscope.train_gpt")
Shipped = tuple[list[Pair], list[str]]  # the pool's pairs and their attribution lines


def ship_pool(train: Path, pairs: list[Pair], size: int, seed: int) -> Shipped:
    """`size` training pairs drawn at random (never chosen for the dev set), with their lines
    of the attribution file that sits beside the training file."""
    credit_path = train.with_name(train.name.replace(".tsv", ".attribution.txt"))
    credits = credit_path.read_text(encoding="utf-8").splitlines()
    if len(credits) != len(pairs):
        raise ValueError(f"{credit_path} has {len(credits)} lines for {len(pairs)} pairs")
    chosen = sorted(random.Random(seed).sample(range(len(pairs)), min(size, len(pairs))))
    return [pairs[i] for i in chosen], [credits[i] for i in chosen]


def export(
    args: argparse.Namespace,
    model: GPT,
    tok: Tokenizer,
    state: dict,
    data: tuple[list[Pair], DemonstrationPool, Shipped, list[NameProbe]],
    processes: Processes,
) -> None:
    """Write the checkpoint and its metrics (dev: every pair; demonstrations: the training
    pairs, and for the shipped pool's own similar three-shot, the pool)."""
    dev, pool, (shipped, credits), probes = data
    meta = {
        "direction": "prompt",
        "source_language": None,
        "target_language": "en",
        "prompt_format": "中文 => English, one pair per line",
        "recipe": recipe(args),
    }
    save_checkpoint(args.export, model, None, tok, meta, pool=shipped, pool_credit=credits)
    exported = load_checkpoint(args.export)  # measure what ships: the fp16 weights
    gpt = exported.model
    refs = [en for _, en in dev]
    table = few_shot_table(gpt, tok, dev, pool)
    first_200 = few_shot_table(gpt, tok, dev[:200], pool, shots=(3,))  # what a test re-checks
    from_pool = few_shot_answers(gpt, tok, dev, DemonstrationPool(shipped), "similar", 3)
    metrics = {
        **{f"dev_{name}": value for name, value in table.items()},
        **{f"dev_{name}_first_200": value for name, value in first_200.items()},
        "dev_similar_3_from_shipped_pool_bleu": bleu(from_pool, refs),
        **name_copy_rates(gpt, tok, probes),
        "name_probes": len(probes),
        **text_induction(gpt, tok, dev),
        **{f"best_{kind}_score": v for kind, v in best_heads(gpt, tok.vocab_size).items()},
        "head_scores": head_score_table(gpt, tok.vocab_size),
        "dev_set": "zh_en_dev.tsv (1,000 Tatoeba pairs)",
        "demonstrations": "drawn from the training pairs (zh_en_train.tsv); the shipped pool is "
        f"{len(shipped)} of them, drawn at random",
        "span_curriculum_steps": state.get("span_curriculum_steps", 0),
        "name_curriculum_steps": state.get("name_curriculum_steps", 0),
        "init_from": str(args.init_from) if args.init_from else None,
        **training_facts(model, state, args, processes),
    }
    (args.export / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    log.info("exported %s: %s", args.export, table)


def bleu(hyps: list[str], refs: list[str]) -> float:
    return round(sacrebleu.corpus_bleu(hyps, [refs]).score, 2)
