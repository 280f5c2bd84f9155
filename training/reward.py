"""The reward model: the sft GPT's body with a scalar head, trained on preference pairs.

    python -m training.reward --out runs/reward --export model/checkpoints/reward
    python -m training.reward --out runs/reward --export model/checkpoints/reward --resume

The pairs are built from the data (training/preferences.py says how, and each pair its kind):
every epoch, --epoch-pairs training requests each put their right answer against a damaged
copy; and once per run, --sft-samples training requests are answered by the sft model (two
samples each, the one furthest from the reference by chrF), kept where that answer is worse
(chrF below --worse-chrf, a loop, or for a task with one right answer, any answer the scores
count wrong). They are kept in the run directory, so --resume reuses them (a new run samples
again). The loss is Bradley-Terry's,
-log σ(r_chosen - r_rejected): the reward difference is the log-odds that the first answer is
preferred. After each epoch the log gets the share of held-out pairs (dev requests, held-out
phrasings, damaged answers) ranked right; the export (stage "reward", the sft template) has it
in metrics.json by kind, with the same share on the sft's own worse answers to dev requests.
"""

import argparse
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import sacrebleu
import torch
from torch import nn
from torch.nn import functional as F

from model import (
    GPT,
    ChatTemplate,
    Pair,
    RewardModel,
    Tokenizer,
    load_checkpoint,
    save_checkpoint,
    sequence_ends,
)
from training.data import Example, make_batches, read_pairs
from training.instruct_probes import answer_loops, is_right, preference_accuracy
from training.instructions import Request, TaskMix, draw_requests, encode_request
from training.instructions import evaluation_requests as task_requests
from training.loop import (
    Trainer,
    add_run_arguments,
    end_epoch,
    new_optimizer,
    recipe,
    resume_or_start,
    start_run,
    training_facts,
)
from training.phrasings import TASKS, Phrasing, all_phrasings
from training.preferences import Preference, damaged_preferences
from training.processes import Batch, Processes, leave, steps_per_epoch, wrap
from training.sampling import sample_answers
from training.stages import STAGE_DIRS, continued, stage_meta, template_of, write_stage_metrics

log = logging.getLogger("attnscope.train_reward")
EXACT_TASKS = ("repeat", "is_question", "language")  # one right answer: any other is worse
HELD_OUT_SEED = 99  # the held-out pairs' damages, the same at every evaluation


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_run_arguments(p, epochs=2)
    p.set_defaults(lr=1e-4, warmup=100)
    p.add_argument("--init-from", type=Path, default=STAGE_DIRS["sft"], help="the sft GPT")
    p.add_argument("--max-tokens", type=int, default=2048, help="per side of a batch of pairs")
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--epoch-pairs", type=int, default=12000, help="damaged pairs per epoch")
    p.add_argument("--sft-samples", type=int, default=3000, help="requests sft answers")
    p.add_argument("--worse-chrf", type=float, default=50.0, help="a sampled translation below")
    p.add_argument("--eval-limit", type=int, default=200, help="held-out requests per task")
    return p.parse_args(argv)


def bradley_terry_loss(chosen: torch.Tensor, rejected: torch.Tensor) -> torch.Tensor:
    """-log σ(r_chosen - r_rejected), averaged over the pairs (B,)."""
    return -F.logsigmoid(chosen - rejected).mean()


def pair_rewards(module: nn.Module, batch: Batch, pad_id: int) -> tuple[torch.Tensor, ...]:
    """Rewards of the chosen (B, Tc) and rejected (B, Tr) rows, in one pass."""
    chosen, rejected = batch
    width = max(chosen.size(1), rejected.size(1))
    both = torch.cat(
        [F.pad(side, (0, width - side.size(1)), value=pad_id) for side in (chosen, rejected)]
    )  # (2B, T)
    return module(both, sequence_ends(both, pad_id)).split(chosen.size(0))


def as_examples(
    tok: Tokenizer, template: ChatTemplate, pairs: list[Preference], max_len: int
) -> list[Example]:
    """Each pair as (chosen ids, rejected ids), both from <s> to </s>."""
    examples = []
    for pair in pairs:
        chosen = encode_request(tok, template, pair.request, pair.chosen).ids
        rejected = encode_request(tok, template, pair.request, pair.rejected).ids
        if max(len(chosen), len(rejected)) <= max_len:
            examples.append(Example(chosen, rejected))
    return examples


def sft_preferences(
    sft: GPT,
    tok: Tokenizer,
    template: ChatTemplate,
    requests: list[Request],
    worse_chrf: float,
    seed: int,
) -> list[Preference]:
    """The right answer against the sft's worse of two sampled answers, where it is worse."""
    generator = torch.Generator(device=next(sft.parameters()).device).manual_seed(seed)
    pairs = []
    for request in requests:
        prompt = encode_request(tok, template, request).ids
        samples = [tok.decode(a) for a in sample_answers(sft, prompt, 2, 64, generator)]
        chrf = [sacrebleu.sentence_chrf(s, [request.answer]).score for s in samples]
        worst, score = min(zip(samples, chrf, strict=True), key=lambda item: item[1])
        if not worst.strip() or is_right(request.task, worst, request.answer):
            continue
        if request.task in EXACT_TASKS or score < worse_chrf or answer_loops(worst):
            pairs.append(Preference(request, request.answer, worst, "sft_sample"))
    return pairs


def cached_sft_preferences(
    path: Path, make: Callable[[], list[Preference]], resume: bool
) -> list[Preference]:
    """Sampling takes minutes: a run keeps its samples, and --resume reads them back. A new run
    samples again, since its sft may not be the one the kept samples came from."""
    if resume and path.exists():
        rows = json.loads(path.read_text(encoding="utf-8"))
        return [Preference(Request(**r.pop("request")), **r) for r in rows]
    pairs = make()
    path.write_text(json.dumps([asdict(p) for p in pairs], ensure_ascii=False), encoding="utf-8")
    return pairs


def held_out_requests(dev: list[Pair], held_out: list[Phrasing], limit: int) -> list[Request]:
    """Up to `limit` dev requests per task, worded by held-out phrasings."""
    return [r for task in TASKS for r in task_requests(dev, held_out, task, limit, HELD_OUT_SEED)]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    processes = start_run(args)
    pairs = read_pairs(args.train, "zh-en")
    dev = read_pairs(args.dev, "zh-en")
    sft, body = continued(args.init_from, args.dropout)
    tok, template = sft.tgt_tokenizer, template_of(sft, args.init_from)
    phrasings, held_out = all_phrasings()
    args.max_len = body.config.max_len
    pad_id = body.config.pad_id
    model = RewardModel.from_gpt(body)
    trained = wrap(model, processes)
    optimizer = new_optimizer(model, args)
    sampled = random.Random(args.seed).sample(pairs, min(args.sft_samples, len(pairs)))
    asked = draw_requests(sampled, phrasings, TaskMix(), random.Random(args.seed + 1))
    sft_pairs = cached_sft_preferences(
        args.out / f"sft_samples.{processes.rank}.json",
        lambda: sft_preferences(sft.model, tok, template, asked, args.worse_chrf, args.seed),
        args.resume,
    )
    log.info("%d of %d sampled sft answers are worse", len(sft_pairs), len(asked))
    dev_requests = held_out_requests(dev, held_out, args.eval_limit)
    test_pairs = damaged_preferences(dev_requests, random.Random(HELD_OUT_SEED))
    per_epoch = min(args.epoch_pairs or len(pairs), len(pairs))

    def epoch_examples(rng: random.Random) -> list[Example]:
        requests = draw_requests(rng.sample(pairs, per_epoch), phrasings, TaskMix(), rng)
        made = damaged_preferences(requests, rng) + sft_pairs
        return as_examples(tok, template, made, args.max_len)

    sizing = epoch_examples(random.Random(args.seed))
    steps = steps_per_epoch(len(make_batches(sizing, args.max_tokens, args.seed)), processes)
    state = {"epoch": 0, "step": 0, "minutes": 0.0, "history": []}
    state = resume_or_start(args, model, optimizer, state, len(sizing), steps)
    started = time.time() - state["minutes"] * 60

    def loss_fn(module: nn.Module, batch: Batch) -> tuple[torch.Tensor, int]:
        chosen, rejected = pair_rewards(module, batch, pad_id)
        return bradley_terry_loss(chosen, rejected), chosen.size(0)

    trainer = Trainer(trained, optimizer, loss_fn, steps * args.epochs, args, processes)
    first_epoch = state["epoch"] + 1
    while state["epoch"] < args.epochs:
        epoch = state["epoch"] + 1
        rng = random.Random(args.seed * 1000 + epoch)
        torch.manual_seed(args.seed * 1000 + epoch + processes.rank)
        examples = epoch_examples(rng)
        batches = make_batches(examples, args.max_tokens, args.seed * 1000 + epoch, pad_id)
        record = {"epoch": epoch, **trainer.epoch(batches, state, f"epoch {epoch}/{args.epochs}")}
        if processes.main:
            accuracy = preference_accuracy(model, tok, template, test_pairs)
            record.update({f"held_out_accuracy_{k}": v for k, v in accuracy.items()})
        stop = end_epoch(trainer, model, state, record, started, first_epoch)
        if stop == "pause":
            leave(model, processes)
            return
        if stop == "budget":
            break
    leave(model, processes)
    if args.export and processes.main:
        export(args, model, tok, template, (test_pairs, dev_requests), state, processes)


def export(
    args: argparse.Namespace,
    model: RewardModel,
    tok: Tokenizer,
    template: ChatTemplate,
    data: tuple[list[Preference], list[Request]],
    state: dict,
    processes: Processes,
) -> None:
    """Write the reward checkpoint, then measure the exported weights on held-out pairs."""
    test_pairs, dev_requests = data
    meta = stage_meta(args, recipe(args))
    save_checkpoint(args.export, model, None, tok, meta, stage="reward", template=template)
    exported = load_checkpoint(args.export)
    reward, sft = exported.model, load_checkpoint(args.init_from).model
    worse = sft_preferences(sft, tok, template, dev_requests, args.worse_chrf, HELD_OUT_SEED)
    damaged = preference_accuracy(reward, tok, template, test_pairs)
    metrics = {
        "held_out_accuracy": damaged["all"],
        "held_out_accuracy_by_kind": damaged,
        "held_out_pairs": len(test_pairs),
        "sft_sample_accuracy": preference_accuracy(reward, tok, template, worse).get("all"),
        "sft_sample_pairs": len(worse),
        "preferences": "built from the data, not from people: the preferred answer is the "
        "human translation or the right answer; the other a damaged copy of it (words dropped, "
        "repeated, shuffled, the other language, the wrong answer or task) or a worse sft sample",
        "evaluation": "dev pairs (zh_en_dev.tsv) with held-out phrasings only",
        "init_from": str(args.init_from),
        **training_facts(model, state, args, processes),
    }
    write_stage_metrics(args.export, metrics)
    log.info("exported %s: held-out accuracy %s", args.export, damaged)


if __name__ == "__main__":
    main()
