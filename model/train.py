"""Train a translation model from scratch on the Tatoeba pairs.

    python -m model.train --direction zh-en --out runs/zh-en --export model/checkpoints/zh-en

Runs on CPU in minutes. Every epoch is logged (loss, learning rate, tokens/s) to `<out>/train.log`;
dev BLEU and chrF are measured with sacrebleu; the best weights are kept; the state at the end of
each epoch is saved, so `--resume` continues a stopped run and gives the same result. At the end the
last few epochs are averaged (a cheap ensemble), and the better of best/average is exported in fp16.
"""

import argparse
import json
import logging
import math
import time
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch.nn import functional as F
from tqdm import tqdm

from model.checkpoint import load_checkpoint, save_checkpoint, tie_state_dict, untied_state_dict
from model.config import TransformerConfig
from model.data import SHARED_DATA, encode_pairs, make_batches, read_pairs
from model.evaluate import evaluate
from model.tokenizer import Tokenizer, train_tokenizer
from model.transformer import Transformer, parameter_count

log = logging.getLogger("attnscope.train")
LANGUAGES = {"zh-en": ("zh", "en"), "en-zh": ("en", "zh")}
CREDIT = (
    "Tatoeba (tatoeba.org) and manythings.org/anki, CC-BY 2.0 FR "
    "(https://creativecommons.org/licenses/by/2.0/fr/); modified: cleaned and split into "
    "train/dev as described in shared/data/README.md"
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--direction", choices=["zh-en", "en-zh"], default="zh-en")
    p.add_argument("--train", type=Path, default=SHARED_DATA / "zh_en_train.tsv")
    p.add_argument("--dev", type=Path, default=SHARED_DATA / "zh_en_dev.tsv")
    p.add_argument("--out", type=Path, required=True, help="run directory (log, resume state)")
    p.add_argument("--export", type=Path, help="write the final checkpoint (fp16) here")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--epochs", type=int, default=25)
    p.add_argument(
        "--time-budget",
        type=float,
        default=0,
        help="minutes; stop at the end of the epoch that passes it (0: no limit)",
    )
    p.add_argument(
        "--stop-after",
        type=int,
        default=0,
        help="stop after this many epochs in this "
        "invocation, to continue later with --resume (0: run to the end)",
    )
    p.add_argument("--max-tokens", type=int, default=2048, help="tokens per batch (with padding)")
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    p.add_argument("--warmup", type=int, default=500, help="warm-up steps")
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--n-heads", type=int, default=4)
    p.add_argument("--layers", type=int, default=3, help="encoder and decoder layers each")
    p.add_argument("--d-ff", type=int, default=512)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--subword-vocab", type=int, default=4000, help="English BPE vocabulary")
    p.add_argument("--average", type=int, default=5, help="average the last N epochs at the end")
    p.add_argument("--eval-every", type=int, default=1, help="epochs between dev evaluations")
    p.add_argument("--eval-limit", type=int, default=0, help="dev pairs to score (0: all)")
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args(argv)


def learning_rate(step: int, total: int, args: argparse.Namespace) -> float:
    """Linear warm-up, then cosine decay to zero at the last step."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, total - args.warmup)
    return args.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def save_state(
    path: Path, model: Transformer, optimizer: torch.optim.Optimizer, state: dict
) -> None:
    """End-of-epoch state for --resume, as safetensors + JSON (no pickle)."""
    path.mkdir(parents=True, exist_ok=True)
    save_file(untied_state_dict(model), str(path / "model.safetensors"))
    moments = {}
    for index, s in optimizer.state_dict()["state"].items():
        moments[f"{index}.exp_avg"] = s["exp_avg"]
        moments[f"{index}.exp_avg_sq"] = s["exp_avg_sq"]
        state["optimizer_step"] = float(s["step"])
    save_file(moments, str(path / "optimizer.safetensors"))
    (path / "state.json").write_text(json.dumps(state, indent=2) + "\n")


def load_state(path: Path, model: Transformer, optimizer: torch.optim.Optimizer) -> dict:
    weights = load_file(str(path / "model.safetensors"))
    tie_state_dict(weights, model.config)
    model.load_state_dict(weights)
    state = json.loads((path / "state.json").read_text())
    moments = load_file(str(path / "optimizer.safetensors"))
    restored = optimizer.state_dict()
    restored["state"] = {
        i: {
            "step": torch.tensor(state["optimizer_step"]),
            "exp_avg": moments[f"{i}.exp_avg"],
            "exp_avg_sq": moments[f"{i}.exp_avg_sq"],
        }
        for i in range(len(restored["param_groups"][0]["params"]))
    }
    optimizer.load_state_dict(restored)
    return state


def average_snapshots(paths: list[Path]) -> dict[str, torch.Tensor]:
    total: dict[str, torch.Tensor] = {}
    for path in paths:
        for name, tensor in load_file(str(path)).items():
            total[name] = total.get(name, 0) + tensor / len(paths)
    return total


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(message)s",
        handlers=[logging.FileHandler(args.out / "train.log"), logging.StreamHandler()],
    )
    torch.set_num_threads(args.threads)
    src_lang, tgt_lang = LANGUAGES[args.direction]
    train_pairs = read_pairs(args.train, args.direction)
    dev_pairs = read_pairs(args.dev, args.direction)
    if args.eval_limit:
        dev_pairs = dev_pairs[: args.eval_limit]

    kinds = {"zh": "char", "en": "subword"}
    tok_paths = args.out / "src_tokenizer.json", args.out / "tgt_tokenizer.json"
    if args.resume:
        src_tok, tgt_tok = (Tokenizer.load(p) for p in tok_paths)
    else:
        src_tok = train_tokenizer(kinds[src_lang], [s for s, _ in train_pairs], args.subword_vocab)
        tgt_tok = train_tokenizer(kinds[tgt_lang], [t for _, t in train_pairs], args.subword_vocab)
        for tok, path in zip((src_tok, tgt_tok), tok_paths, strict=True):
            tok.save(path)

    config = TransformerConfig(
        src_vocab_size=src_tok.vocab_size,
        tgt_vocab_size=tgt_tok.vocab_size,
        d_model=args.d_model,
        n_heads=args.n_heads,
        n_encoder_layers=args.layers,
        n_decoder_layers=args.layers,
        d_ff=args.d_ff,
        dropout=args.dropout,
    )
    examples = encode_pairs(train_pairs, src_tok, tgt_tok, config.max_len - 1)
    dev_sources = [src_tok.encode(s)[: config.max_len] for s, _ in dev_pairs]
    dev_refs = [t for _, t in dev_pairs]
    torch.manual_seed(args.seed)
    model = Transformer(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-9)
    steps_per_epoch = len(make_batches(examples, args.max_tokens, args.seed))
    total_steps = steps_per_epoch * args.epochs
    state = {"epoch": 0, "step": 0, "minutes": 0.0, "best": None, "history": []}
    if args.resume:
        state = load_state(args.out / "last", model, optimizer)
        log.info("resumed after epoch %d", state["epoch"])
    log.info(
        "%d pairs, %d parameters, %d steps per epoch; %s",
        len(examples),
        parameter_count(model),
        steps_per_epoch,
        json.dumps(vars(args), default=str),
    )

    snapshots = args.out / "epochs"
    snapshots.mkdir(exist_ok=True)
    started = time.time() - state["minutes"] * 60
    first_epoch = state["epoch"] + 1
    while state["epoch"] < args.epochs:
        epoch = state["epoch"] + 1
        torch.manual_seed(args.seed * 1000 + epoch)  # dropout: same run, same masks
        model.train()
        batches = make_batches(examples, args.max_tokens, args.seed * 1000 + epoch, config.pad_id)
        loss_sum = tokens_seen = 0.0
        epoch_start = time.time()
        bar = tqdm(batches, desc=f"epoch {epoch}/{args.epochs}", unit="batch", leave=False)
        for src, tgt in bar:
            lr = learning_rate(state["step"], total_steps, args)
            for group in optimizer.param_groups:
                group["lr"] = lr
            logits = model(src, tgt[:, :-1])
            loss = F.cross_entropy(
                logits.flatten(0, 1),
                tgt[:, 1:].flatten(),
                ignore_index=config.pad_id,
                label_smoothing=args.label_smoothing,
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            n_tokens = int((tgt[:, 1:] != config.pad_id).sum())
            loss_sum += loss.item() * n_tokens
            tokens_seen += n_tokens
            state["step"] += 1
            bar.set_postfix(loss=f"{loss.item():.3f}", lr=f"{lr:.2e}")
        seconds = time.time() - epoch_start
        record = {
            "epoch": epoch,
            "loss": round(loss_sum / tokens_seen, 4),
            "lr": lr,
            "tokens_per_s": round(tokens_seen / seconds),
            "epoch_s": round(seconds, 1),
        }
        if epoch % args.eval_every == 0 or epoch == args.epochs:
            record.update(evaluate(model, dev_sources, dev_refs, tgt_tok, tgt_lang))
            if state["best"] is None or record["bleu"] > state["best"]["bleu"]:
                state["best"] = record
                save_state(args.out / "best", model, optimizer, dict(state))
        save_file(untied_state_dict(model), str(snapshots / f"epoch_{epoch}.safetensors"))
        for old in snapshots.glob("epoch_*.safetensors"):
            if int(old.stem.split("_")[1]) <= epoch - args.average:
                old.unlink()
        state["epoch"] = epoch
        state["minutes"] = round((time.time() - started) / 60, 2)
        state["history"].append(record)
        save_state(args.out / "last", model, optimizer, state)
        log.info("epoch %s", json.dumps(record))
        if args.time_budget and state["minutes"] >= args.time_budget:
            log.info("time budget of %.0f minutes reached", args.time_budget)
            break
        if args.stop_after and epoch - first_epoch + 1 >= args.stop_after:
            log.info("stopping after %d epochs; continue with --resume", args.stop_after)
            return

    finish(args, model, state, src_tok, tgt_tok, dev_sources, dev_refs, tgt_lang, snapshots)


def finish(args, model, state, src_tok, tgt_tok, dev_sources, dev_refs, tgt_lang, snapshots):
    """Average the last epochs, keep whichever of best/average scores higher, export in fp16."""
    last_epochs = sorted(
        snapshots.glob("epoch_*.safetensors"), key=lambda p: int(p.stem.split("_")[1])
    )[-args.average :]
    averaged_weights = average_snapshots(last_epochs)
    tie_state_dict(averaged_weights, model.config)
    model.load_state_dict(averaged_weights)
    averaged = evaluate(model, dev_sources, dev_refs, tgt_tok, tgt_lang)
    log.info("average of %d epochs: %s; best epoch: %s", len(last_epochs), averaged, state["best"])
    chosen = f"average of the last {len(last_epochs)} epochs"
    if averaged["bleu"] < state["best"]["bleu"]:
        load_state(args.out / "best", model, torch.optim.Adam(model.parameters()))
        chosen = f"best epoch ({state['best']['epoch']})"
    if not args.export:
        return
    src_lang, _ = LANGUAGES[args.direction]
    meta = {
        "direction": args.direction,
        "source_language": src_lang,
        "target_language": tgt_lang,
        "recipe": {
            k: str(v) if isinstance(v, Path) else v
            for k, v in vars(args).items()
            if k not in ("out", "export", "resume", "train", "dev")
        },
    }
    save_checkpoint(args.export, model, src_tok, tgt_tok, meta)
    exported = load_checkpoint(args.export)  # measure what ships: the fp16 weights
    scores = evaluate(exported.model, dev_sources, dev_refs, tgt_tok, tgt_lang)
    metrics = {
        "dev_bleu": scores["bleu"],
        "dev_chrf": scores["chrf"],
        "dev_set": "zh_en_dev.tsv (1,000 Tatoeba pairs)"
        if not args.eval_limit
        else f"first {args.eval_limit} pairs of zh_en_dev.tsv",
        "bleu_tokenize": "zh" if tgt_lang == "zh" else "13a",
        "decoding": "greedy",
        "weights": "float16",
        "selected": chosen,
        "parameters": parameter_count(model),
        "epochs": state["epoch"],
        "training_minutes": state["minutes"],
        "machine": f"CPU, {args.threads} thread(s)",
        "history": state["history"],
        "config": asdict(model.config),
        "data": CREDIT,
    }
    (args.export / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    log.info("exported %s: %s", args.export, scores)


if __name__ == "__main__":
    main()
