"""Train the GPT: the Transformer's decoder alone, on translation written as prompts.

    python -m training.gpt --out runs/gpt --export model/checkpoints/gpt
    torchrun --nproc_per_node 2 -m training.gpt --threads 1 ...   # DDP, 2 processes

Each epoch builds its sequences afresh (training/gpt_data.py): every training pair as a prompt,
zero-shot, after random demonstrations or after the training pairs most like it, some with a
made-up name that only a demonstration spells, plus sequences that repeat a span of random
tokens or of real sentences, so that induction heads form and copy real text. The loss is
next-token cross-entropy over the whole sequence, plus, with --unlikelihood, a penalty on an
answer repeating its own tokens (training/unlikelihood.py). A run starts from scratch (a span
curriculum first) or continues a checkpoint (--init-from); a name curriculum may run before any
epoch (--name-curriculum-after). After each epoch the log gets the loss and the probes of
training/probes.py on --eval-limit dev pairs; the state is saved so `--resume` continues a
stopped run. The export is fp16, with its demonstration pool (--pool-size training
pairs and their Tatoeba attribution) and its metrics on the whole dev set.
"""

import argparse
import hashlib
import json
import logging
import random
import time
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from model import (
    ARROW,
    GPT,
    NEWLINE,
    DemonstrationPool,
    Pair,
    Tokenizer,
    TransformerConfig,
    load_checkpoint,
    train_mixed_tokenizer,
)
from training.curricula import name_curriculum, next_token_loss, span_curriculum
from training.data import Example, make_batches, read_pairs
from training.evaluate import best_heads
from training.gpt_data import Mix, SequenceMaker, neighbours_of
from training.gpt_export import export, ship_pool
from training.loop import (
    Trainer,
    add_run_arguments,
    end_epoch,
    new_optimizer,
    resume_or_start,
    start_run,
)
from training.names import corpus_words
from training.probes import epoch_report, name_probes
from training.processes import Batch, Processes, leave, steps_per_epoch, wrap
from training.unlikelihood import next_token_and_unlikelihood

log = logging.getLogger("attnscope.train_gpt")
CHECK_SEED = 7  # the name curriculum's own probes, from training pairs


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_run_arguments(p, epochs=7)
    p.add_argument("--max-tokens", type=int, default=4096, help="tokens per batch (with padding)")
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--n-heads", type=int, default=4)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--d-ff", type=int, default=1024)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--vocab", type=int, default=8000, help="one vocabulary, Chinese and English")
    p.add_argument("--init-from", type=Path, help="continue this checkpoint (its tokenizer too)")
    mix = Mix()
    p.add_argument("--zero-shot-share", type=float, default=mix.zero_shot)
    p.add_argument("--random-share", type=float, default=mix.random, help="random demonstrations")
    p.add_argument("--similar-share", type=float, default=mix.similar, help="the most similar")
    p.add_argument("--name-share", type=float, default=mix.names, help="of the pairs with Tom")
    p.add_argument(
        "--extra-name-share",
        type=float,
        default=mix.extra_names,
        help="more name prompts, per training pair (each from a pair with Tom, a new name)",
    )
    p.add_argument("--max-shots", type=int, default=mix.max_shots)
    p.add_argument("--span-share", type=float, default=mix.spans, help="random repeated spans")
    p.add_argument("--real-span-share", type=float, default=mix.real_spans)
    p.add_argument("--pool-size", type=int, default=5000, help="demonstrations that ship")
    p.add_argument(
        "--span-curriculum",
        type=int,
        default=4000,
        help="at most this many steps on repeated spans alone before the first epoch, so "
        "induction heads form early (a phase change: 2,750 steps for the shipped GPT; 0: none)",
    )
    p.add_argument(
        "--induction-target",
        type=float,
        default=0.5,
        help="end the span curriculum early once a head has this induction score",
    )
    p.add_argument(
        "--name-curriculum",
        type=int,
        default=0,
        help="at most this many steps on name prompts alone before the first epoch, so the "
        "heads that copy a word from a demonstration form (0: none)",
    )
    p.add_argument(
        "--name-target",
        type=float,
        default=0.9,
        help="end the name curriculum early once this share of names is copied",
    )
    p.add_argument(
        "--name-curriculum-after",
        type=int,
        default=0,
        help="epochs of the mix before the name curriculum (a new model first learns to translate)",
    )
    p.add_argument(
        "--unlikelihood",
        type=float,
        default=0.0,
        help="weight of the unlikelihood of an answer repeating its own tokens (0: none)",
    )
    p.add_argument("--eval-limit", type=int, default=200, help="dev pairs scored after epochs")
    return p.parse_args(argv)


def new_or_continued(
    args: argparse.Namespace, pairs: list[Pair], processes: Processes
) -> tuple[Tokenizer, GPT]:
    """The tokenizer and the model to train: a checkpoint's (--init-from), or new ones. With
    --resume the weights are replaced by the run's saved state afterwards."""
    tok_path = args.out / "tokenizer.json"
    if args.init_from:
        start = load_checkpoint(args.init_from)
        tok = start.tgt_tokenizer
        model = GPT(replace(start.config, dropout=args.dropout))
        model.load_state_dict(start.model.state_dict())
    else:
        if args.resume:
            tok = Tokenizer.load(tok_path)
        else:
            texts = [zh for zh, _ in pairs] + [en for _, en in pairs]
            tok = train_mixed_tokenizer(texts, args.vocab)
        config = TransformerConfig(
            architecture="decoder-only",
            src_vocab_size=0,
            tgt_vocab_size=tok.vocab_size,
            d_model=args.d_model,
            n_heads=args.n_heads,
            n_encoder_layers=0,
            n_decoder_layers=args.layers,
            d_ff=args.d_ff,
            dropout=args.dropout,
        )
        torch.manual_seed(args.seed)
        model = GPT(config)
    if processes.main and not args.resume:
        tok.save(tok_path)
    return tok, model


def cached_neighbours(path: Path, pool: DemonstrationPool) -> list[list[int]]:
    """Each training pair's most similar others: a minute to compute, so kept in the run."""
    if path.exists():
        return json.loads(path.read_text())
    neighbours = neighbours_of(pool)
    path.write_text(json.dumps(neighbours))
    return neighbours


def as_examples(sequences: list[list[int]]) -> list[Example]:
    return [Example([], ids) for ids in sequences]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    processes = start_run(args)
    pairs = read_pairs(args.train, "zh-en")
    dev_pairs = read_pairs(args.dev, "zh-en")
    tok, model = new_or_continued(args, pairs, processes)
    args.max_len = model.config.max_len
    pad_id = model.config.pad_id
    trained = wrap(model, processes)
    optimizer = new_optimizer(model, args)
    pool = DemonstrationPool(pairs)
    mix = Mix(
        zero_shot=args.zero_shot_share,
        random=args.random_share,
        similar=args.similar_share,
        names=args.name_share,
        extra_names=args.extra_name_share,
        max_shots=args.max_shots,
        spans=args.span_share,
        real_spans=args.real_span_share,
    )
    key = hashlib.sha256("\n".join(f"{zh}\t{en}" for zh, en in pairs).encode()).hexdigest()[:12]
    neighbours = cached_neighbours(args.out / f"neighbours.{key}.{processes.rank}.json", pool)
    maker = SequenceMaker(tok, pool, neighbours, mix, corpus_words(pairs))
    probes = name_probes(dev_pairs, maker.taken)
    sizing = as_examples(maker.epoch(random.Random(args.seed), args.max_len))
    steps = steps_per_epoch(len(make_batches(sizing, args.max_tokens, args.seed)), processes)
    total_steps = steps * args.epochs
    state = {"epoch": 0, "step": 0, "minutes": 0.0, "history": []}
    state = resume_or_start(args, model, optimizer, state, len(pairs), steps)
    started = time.time() - state["minutes"] * 60  # the curriculum counts as training time
    if args.span_curriculum and not (args.resume or args.init_from):
        state["span_curriculum_steps"] = span_curriculum(
            trained, model, optimizer, tok, args, processes
        )

    markers = (tok.hf.token_to_id(ARROW), tok.hf.token_to_id(NEWLINE), pad_id)

    def loss_fn(module: nn.Module, batch: Batch) -> tuple[torch.Tensor, int]:
        if args.unlikelihood:
            return next_token_and_unlikelihood(module, batch[1], markers, args.unlikelihood)
        return next_token_loss(module, batch[1], pad_id)

    trainer = Trainer(trained, optimizer, loss_fn, total_steps, args, processes)
    first_epoch = state["epoch"] + 1
    checks = name_probes(pairs, maker.taken, count=50, seed=CHECK_SEED)
    while state["epoch"] < args.epochs:
        if args.name_curriculum and state["epoch"] == args.name_curriculum_after:
            state["name_curriculum_steps"] = name_curriculum(
                trained, model, optimizer, maker, checks, args, processes
            )
        epoch = state["epoch"] + 1
        rng = random.Random(args.seed * 1000 + epoch)
        torch.manual_seed(args.seed * 1000 + epoch + processes.rank)
        examples = as_examples(maker.epoch(rng, args.max_len))
        batches = make_batches(examples, args.max_tokens, args.seed * 1000 + epoch, pad_id)
        record = {"epoch": epoch, **trainer.epoch(batches, state, f"epoch {epoch}/{args.epochs}")}
        if processes.main:
            dev = dev_pairs[: args.eval_limit]
            record.update(epoch_report(model, tok, dev, pool, probes[: args.eval_limit // 4]))
            record.update(best_heads(model, tok.vocab_size))
        stop = end_epoch(trainer, model, state, record, started, first_epoch)
        if stop == "pause":
            leave(model, processes)
            return
        if stop == "budget":
            break
    leave(model, processes)  # the other processes are done: process 0 exports alone
    if args.export and processes.main:
        shipped = ship_pool(args.train, pairs, args.pool_size, args.seed)
        export(args, model, tok, state, (dev_pairs, pool, shipped, probes), processes)


if __name__ == "__main__":
    main()
