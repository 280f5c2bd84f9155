"""Every evaluation a recipe reports, on data that training never saw.

Translation models: dev-set BLEU and chrF with sacrebleu's default settings. GPTs: the same
zero-shot and three-shot, and the best induction and previous-token scores of any head.

    python -m training.evaluate model/checkpoints/zh-en [--limit 200] [--update-metrics]
"""

import argparse
import json
import random
from pathlib import Path

import sacrebleu

from model import (
    GPT,
    METRICS,
    Checkpoint,
    DecodingOptions,
    Pair,
    Seq2Seq,
    Tokenizer,
    answer_stop_ids,
    decode,
    encode_prompt,
    greedy_batch,
    head_score_table,
    load_checkpoint,
)
from training.data import SHARED_DATA, read_pairs

EVAL_SHOTS = 3
EVAL_SEED = 12345  # the three-shot demonstrations are the same at every evaluation


def translate_all(
    model: Seq2Seq, sources: list[list[int]], tgt_tok: Tokenizer, batch_size: int = 250
) -> list[str]:
    """Greedy translations in input order; batches of similar length waste little on padding."""
    model.eval()
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    hyps = [""] * len(sources)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        longest = max(len(sources[i]) for i in rows)
        outputs = greedy_batch(model, [sources[i] for i in rows], max_new_tokens=2 * longest + 10)
        for i, ids in zip(rows, outputs, strict=True):
            hyps[i] = tgt_tok.decode(ids)
    return hyps


def evaluate(
    model: Seq2Seq, sources: list[list[int]], refs: list[str], tgt_tok: Tokenizer, target_lang: str
) -> dict[str, float]:
    """Corpus BLEU (tokenized as Chinese for a Chinese target, else 13a) and chrF."""
    hyps = translate_all(model, sources, tgt_tok)
    bleu = sacrebleu.corpus_bleu(hyps, [refs], tokenize="zh" if target_lang == "zh" else "13a")
    chrf = sacrebleu.corpus_chrf(hyps, [refs])
    return {"bleu": round(bleu.score, 2), "chrf": round(chrf.score, 2)}


def evaluate_checkpoint(checkpoint: Checkpoint, dev: Path, limit: int = 0) -> dict[str, float]:
    if checkpoint.src_tokenizer is None:
        raise ValueError(f"{checkpoint.name} is not a translation model")
    pairs = read_pairs(dev, checkpoint.meta["direction"])
    pairs = pairs[:limit] if limit else pairs
    limit_len = checkpoint.config.max_len
    sources = [checkpoint.src_tokenizer.encode(s)[:limit_len] for s, _ in pairs]
    return evaluate(
        checkpoint.model,
        sources,
        [t for _, t in pairs],
        checkpoint.tgt_tokenizer,
        checkpoint.meta["target_language"],
    )


def translate_prompt(model: GPT, tok: Tokenizer, demonstrations: list[Pair], query: str) -> str:
    """A GPT's greedy answer to a prompt, up to </s> or the end of its line."""
    prompt = encode_prompt(tok, demonstrations, query)
    room = model.config.max_len - len(prompt.ids) - 1
    if room < 2:
        return ""
    stops = answer_stop_ids(tok)
    limit = min(room, 2 * len(prompt.ids) + 10)
    options = DecodingOptions(max_new_tokens=limit, top_n=1, stop_ids=stops)
    ids = decode(model, [], [tok.bos_id, *prompt.ids], options).output_ids
    end = next((i for i, t in enumerate(ids) if t in stops), len(ids))
    return tok.decode(ids[:end])


def gpt_answers(
    model: GPT, tok: Tokenizer, dev: list[Pair], pool: list[Pair]
) -> dict[str, list[str]]:
    """Greedy answers to every dev sentence, zero-shot and three-shot (fixed demonstrations
    from the training pairs)."""
    model.eval()
    demonstrations = random.Random(EVAL_SEED).sample(pool, EVAL_SHOTS)
    return {
        label: [translate_prompt(model, tok, shown, zh) for zh, _ in dev]
        for label, shown in (("zero_shot", []), ("three_shot", demonstrations))
    }


def answer_scores(answers: dict[str, list[str]], refs: list[str]) -> dict[str, float]:
    """BLEU and chrF of each kind of answer against the references."""
    scores: dict[str, float] = {}
    for label, hyps in answers.items():
        scores[f"{label}_bleu"] = round(sacrebleu.corpus_bleu(hyps, [refs]).score, 2)
        scores[f"{label}_chrf"] = round(sacrebleu.corpus_chrf(hyps, [refs]).score, 2)
    return scores


def evaluate_gpt(model: GPT, tok: Tokenizer, dev: list[Pair], pool: list[Pair]) -> dict[str, float]:
    """BLEU and chrF zero-shot and three-shot on `dev`."""
    return answer_scores(gpt_answers(model, tok, dev, pool), [en for _, en in dev])


def best_heads(model: GPT, vocab_size: int) -> dict[str, float]:
    """The best induction and previous-token score of any head."""
    model.eval()
    table = head_score_table(model, vocab_size)
    return {
        kind: round(max(max(site[kind]) for site in table.values()), 3)
        for kind in ("induction", "previous_token")
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--dev", type=Path, default=SHARED_DATA / "zh_en_dev.tsv")
    parser.add_argument("--limit", type=int, default=0, help="first N pairs only (0: all)")
    parser.add_argument(
        "--update-metrics",
        action="store_true",
        help="record the scores in the checkpoint's metrics.json",
    )
    args = parser.parse_args(argv)
    scores = evaluate_checkpoint(load_checkpoint(args.checkpoint), args.dev, args.limit)
    print(json.dumps(scores))  # noqa: T201 - the result of a command-line tool
    if args.update_metrics:
        path = args.checkpoint / METRICS
        metrics = json.loads(path.read_text()) if path.exists() else {}
        suffix = f"_first_{args.limit}" if args.limit else ""
        metrics[f"dev_bleu{suffix}"], metrics[f"dev_chrf{suffix}"] = scores["bleu"], scores["chrf"]
        path.write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
