"""Train a translation model from scratch on the Tatoeba pairs.

    python -m training.translation --direction zh-en --out runs/zh-en \
        --export model/checkpoints/zh-en
    torchrun --nproc_per_node 2 -m training.translation --threads 1 ...   # DDP, 2 processes

Runs on CPU in minutes. Every epoch is logged (loss, learning rate, tokens/s) to `<out>/train.log`;
dev BLEU and chrF are measured with sacrebleu; the best weights are kept; the state at the end of
each epoch is saved, so `--resume` continues a stopped run and gives the same result. At the end the
last few epochs are averaged (a cheap ensemble), and the better of best/average is exported in fp16.
"""

import argparse
import json
import logging
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional as F

from model import (
    Tokenizer,
    Transformer,
    TransformerConfig,
    load_checkpoint,
    save_checkpoint,
    tie_state_dict,
    train_tokenizer,
    untied_state_dict,
)
from training.data import encode_pairs, make_batches, read_pairs
from training.evaluate import evaluate
from training.loop import (
    Trainer,
    add_run_arguments,
    end_epoch,
    load_state,
    new_optimizer,
    recipe,
    resume_or_start,
    save_state,
    start_run,
    training_facts,
)
from training.processes import Batch, Processes, leave, steps_per_epoch, wrap

log = logging.getLogger("attnscope.train")
LANGUAGES = {"zh-en": ("zh", "en"), "en-zh": ("en", "zh")}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--direction", choices=["zh-en", "en-zh"], default="zh-en")
    add_run_arguments(p, epochs=25)
    p.add_argument("--max-tokens", type=int, default=2048, help="tokens per batch (with padding)")
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
    return p.parse_args(argv)


def average_snapshots(paths: list[Path]) -> dict[str, torch.Tensor]:
    total: dict[str, torch.Tensor] = {}
    for path in paths:
        for name, tensor in load_file(str(path)).items():
            total[name] = total.get(name, 0) + tensor / len(paths)
    return total


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    processes = start_run(args)
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
        if processes.main:
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
    trained = wrap(model, processes)
    optimizer = new_optimizer(model, args)
    steps = steps_per_epoch(len(make_batches(examples, args.max_tokens, args.seed)), processes)
    total_steps = steps * args.epochs
    state = {"epoch": 0, "step": 0, "minutes": 0.0, "best": None, "history": []}
    state = resume_or_start(args, model, optimizer, state, len(examples), steps)

    def loss_fn(module: nn.Module, batch: Batch) -> tuple[torch.Tensor, int]:
        src, tgt = batch
        logits = module(src, tgt[:, :-1])
        loss = F.cross_entropy(
            logits.flatten(0, 1),
            tgt[:, 1:].flatten(),
            ignore_index=config.pad_id,
            label_smoothing=args.label_smoothing,
        )
        return loss, int((tgt[:, 1:] != config.pad_id).sum())

    snapshots = args.out / "epochs"
    snapshots.mkdir(exist_ok=True)
    started = time.time() - state["minutes"] * 60
    trainer = Trainer(trained, optimizer, loss_fn, total_steps, args, processes)
    first_epoch = state["epoch"] + 1
    while state["epoch"] < args.epochs:
        epoch = state["epoch"] + 1
        torch.manual_seed(args.seed * 1000 + epoch + processes.rank)  # dropout masks, per process
        batches = make_batches(examples, args.max_tokens, args.seed * 1000 + epoch, config.pad_id)
        description = f"epoch {epoch}/{args.epochs}"
        record = {
            "epoch": epoch,
            **trainer.epoch(batches, state, description),
        }
        if processes.main:
            if epoch % args.eval_every == 0 or epoch == args.epochs:
                record.update(evaluate(model, dev_sources, dev_refs, tgt_tok, tgt_lang))
                if state["best"] is None or record["bleu"] > state["best"]["bleu"]:
                    state["best"] = record
                    save_state(args.out / "best", model, optimizer, dict(state))
            save_file(untied_state_dict(model), str(snapshots / f"epoch_{epoch}.safetensors"))
            for old in snapshots.glob("epoch_*.safetensors"):
                if int(old.stem.split("_")[1]) <= epoch - args.average:
                    old.unlink()
        stop = end_epoch(trainer, model, state, record, started, first_epoch)
        if stop == "pause":
            leave(model, processes)
            return
        if stop == "budget":
            break

    leave(model, processes)  # the other processes are done: process 0 finishes alone
    if processes.main:
        finish(
            args, model, state, (src_tok, tgt_tok), (dev_sources, dev_refs), snapshots, processes
        )


def finish(
    args: argparse.Namespace,
    model: Transformer,
    state: dict,
    tokenizers: tuple[Tokenizer, Tokenizer],
    dev: tuple[list[list[int]], list[str]],
    snapshots: Path,
    processes: Processes,
) -> None:
    """Average the last epochs, keep whichever of best/average scores higher, export in fp16."""
    src_tok, tgt_tok = tokenizers
    dev_sources, dev_refs = dev
    src_lang, tgt_lang = LANGUAGES[args.direction]
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
    meta = {
        "direction": args.direction,
        "source_language": src_lang,
        "target_language": tgt_lang,
        "recipe": recipe(args),
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
        "selected": chosen,
        **training_facts(model, state, args, processes),
    }
    (args.export / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    log.info("exported %s: %s", args.export, scores)


if __name__ == "__main__":
    main()
