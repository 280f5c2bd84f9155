"""Dev-set BLEU and chrF of a model, with sacrebleu's default settings.

python -m model.evaluate model/checkpoints/zh-en [--limit 200] [--update-metrics]
"""

import argparse
import json
from pathlib import Path

import sacrebleu

from model.checkpoint import METRICS, Checkpoint, load_checkpoint
from model.data import SHARED_DATA, read_pairs
from model.decoding import greedy_batch
from model.tokenizer import Tokenizer
from model.transformer import Seq2Seq


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
