"""Evaluations of the stages after pre-training, on dev sentences and held-out phrasings only.

- Following instructions: translation BLEU each way (sacrebleu; Chinese tokenized as Chinese),
  the share of exact repeats, yes/no right on half questions and half not (chance: 50%), the
  language named right, and the share of translations that loop.
- Prompt against instruct: the same dev sentences as a few-shot pattern (`中文 => English`
  lines, three fixed training pairs first) and as an instruction, each model answering both.
- The reward model: the share of pairs where the preferred answer gets the higher reward.
- RL against its start: mean reward of the greedy answers, loops, BLEU, and the KL to the
  frozen model on sampled answers.
Greedy answers end at </s> or a line break, as the GPT's evaluation does.
"""

import random

import sacrebleu
import torch

from model import (
    GPT,
    ChatTemplate,
    DecodingOptions,
    Pair,
    RewardModel,
    Tokenizer,
    answer_stop_ids,
    decode,
    sequence_ends,
)
from training.evaluate import EVAL_SEED, EVAL_SHOTS, translate_prompt
from training.instructions import (
    LANGUAGE_NAMES,
    YES_NO,
    Request,
    encode_request,
    evaluation_requests,
    language_of,
)
from training.phrasings import TASKS, Phrasing, Task
from training.preferences import Preference
from training.probes import loops
from training.rloo import kl_per_token
from training.sampling import answer_mask, padded, sample_answers, token_logprobs

MAX_ANSWER = 64  # tokens: the longest dev answer is about half this


def chat_answer(model: GPT, tok: Tokenizer, template: ChatTemplate, request: Request) -> str:
    """The greedy answer to a request read through the template."""
    prompt = encode_request(tok, template, request).ids
    room = min(MAX_ANSWER, model.config.max_len - len(prompt))
    if room < 1:
        return ""
    stops = (tok.eos_id, *answer_stop_ids(tok))
    options = DecodingOptions(max_new_tokens=room, top_n=1, stop_ids=stops)
    ids = decode(model, [], prompt, options).output_ids
    end = next((i for i, t in enumerate(ids) if t in stops), len(ids))
    return tok.decode(ids[:end])


def same(answer: str, expected: str) -> bool:
    """Right, ignoring case, outer spaces and a closing full stop ("Yes." is yes)."""
    return answer.strip().rstrip(".。").lower() == expected.strip().rstrip(".。").lower()


def is_right(task: Task, answer: str, expected: str) -> bool:
    """Right as the scores count it: a yes/no or a language name as `same` says, anything
    else (a repeat, a translation) only as the expected text itself."""
    if task in ("is_question", "language"):
        return same(answer, expected)
    return answer.strip() == expected.strip()


def answer_loops(answer: str) -> bool:
    """Some three words said twice (training/probes.py), or in Chinese, which puts no spaces
    between words, some four characters said twice: in the corpus's own sentences that is as
    rare in Chinese (0.08%) as three words twice in English (0.04%)."""
    if loops(answer):
        return True
    if language_of(answer) != "zh":
        return False
    chars = [c for c in answer if not c.isspace()]
    grams = [tuple(chars[i : i + 4]) for i in range(len(chars) - 3)]
    return len(set(grams)) < len(grams)


def task_scores(task: Task, requests: list[Request], answers: list[str]) -> dict[str, float]:
    """A task's score; for the tasks with a few possible answers, also the share of answers
    that are one of them at all (a model that does not follow gives none)."""
    refs = [r.answer for r in requests]
    if task in ("to_english", "to_chinese"):
        tokenize = "zh" if task == "to_chinese" else "13a"
        bleu = sacrebleu.corpus_bleu(answers, [refs], tokenize=tokenize)
        return {
            f"{task}_bleu": round(bleu.score, 2),
            f"{task}_loop_share": round(sum(map(answer_loops, answers)) / max(1, len(answers)), 4),
        }
    right = sum(is_right(task, a, r) for a, r in zip(answers, refs, strict=True))
    if task == "repeat":
        return {"repeat_exact": round(right / max(1, len(refs)), 4)}
    if task == "is_question":
        options = {*YES_NO["zh"], *YES_NO["en"]}
    else:
        options = {name for names in LANGUAGE_NAMES.values() for name in names.values()}
    answered = sum(any(same(a, o) for o in options) for a in answers)
    return {
        f"{task}_accuracy": round(right / max(1, len(refs)), 4),
        f"{task}_answered": round(answered / max(1, len(refs)), 4),
    }


def instruct_scores(
    model: GPT,
    tok: Tokenizer,
    template: ChatTemplate,
    dev: list[Pair],
    held_out: list[Phrasing],
    limit: int,
    tasks: tuple[Task, ...] = TASKS,
) -> dict[str, float]:
    """Each task's score on up to `limit` dev requests worded by held-out phrasings."""
    model.eval()
    scores: dict[str, float] = {}
    for task in tasks:
        requests = evaluation_requests(dev, held_out, task, limit, EVAL_SEED)
        answers = [chat_answer(model, tok, template, r) for r in requests]
        scores.update(task_scores(task, requests, answers))
        scores[f"{task}_requests"] = len(requests)
    return scores


def prompt_against_instruct(
    models: dict[str, GPT],
    tok: Tokenizer,
    template: ChatTemplate,
    dev: list[Pair],
    train: list[Pair],
    held_out: list[Phrasing],
    limit: int,
) -> dict[str, dict[str, float]]:
    """The 2 × 2 table: zh→en BLEU of each model on the same dev sentences asked as a few-shot
    pattern and as an instruction (held-out phrasings)."""
    shown = random.Random(EVAL_SEED).sample(train, EVAL_SHOTS)
    requests = evaluation_requests(dev, held_out, "to_english", limit, EVAL_SEED)
    refs = [[r.answer for r in requests]]
    table = {}
    for name, model in models.items():
        model.eval()
        pattern = [translate_prompt(model, tok, shown, r.sentence) for r in requests]
        asked = [chat_answer(model, tok, template, r) for r in requests]
        table[name] = {
            "pattern_bleu": round(sacrebleu.corpus_bleu(pattern, refs).score, 2),
            "instruction_bleu": round(sacrebleu.corpus_bleu(asked, refs).score, 2),
        }
    return table


def rewards_of(
    reward: RewardModel,
    tok: Tokenizer,
    template: ChatTemplate,
    requests: list[Request],
    answers: list[str],
    batch: int = 64,
) -> list[float]:
    """The reward model's score of each answer to its request."""
    reward.eval()
    device = next(reward.parameters()).device
    scores: list[float] = []
    for start in range(0, len(requests), batch):
        rows = [
            encode_request(tok, template, r, a).ids[: reward.config.max_len]
            for r, a in zip(
                requests[start : start + batch], answers[start : start + batch], strict=True
            )
        ]
        ids = padded(rows, reward.config.pad_id).to(device)
        with torch.inference_mode():
            scores += reward(ids, sequence_ends(ids, reward.config.pad_id)).tolist()
    return scores


def preference_accuracy(
    reward: RewardModel, tok: Tokenizer, template: ChatTemplate, pairs: list[Preference]
) -> dict[str, float]:
    """The share of pairs whose preferred answer gets the higher reward, in all and by kind."""
    requests = [p.request for p in pairs]
    chosen = rewards_of(reward, tok, template, requests, [p.chosen for p in pairs])
    rejected = rewards_of(reward, tok, template, requests, [p.rejected for p in pairs])
    wins: dict[str, list[bool]] = {"all": []}
    for pair, good, bad in zip(pairs, chosen, rejected, strict=True):
        wins["all"].append(good > bad)
        wins.setdefault(pair.kind, []).append(good > bad)
    return {kind: round(sum(w) / len(w), 4) for kind, w in wins.items() if w}


def sampled_kl(
    policy: GPT, ref: GPT, tok: Tokenizer, template: ChatTemplate, requests: list[Request], k: int
) -> float:
    """Mean KL(policy || ref) per answer, estimated on k answers the policy samples per request."""
    generator = torch.Generator(device=next(policy.parameters()).device).manual_seed(EVAL_SEED)
    total, count = 0.0, 0
    for request in requests:
        prompt = encode_request(tok, template, request).ids
        answers = sample_answers(policy, prompt, k, MAX_ANSWER, generator)
        rows = [prompt + answer for answer in answers]
        ids = padded(rows, policy.config.pad_id).to(generator.device)
        mask = answer_mask([len(prompt)] * k, [len(r) for r in rows], ids.size(1)).to(ids.device)
        with torch.inference_mode():
            kl = kl_per_token(token_logprobs(policy, ids, mask), token_logprobs(ref, ids, mask))
        total += kl.sum().item()
        count += k
    return round(total / max(1, count), 4)


def rl_report(
    policy: GPT,
    ref: GPT,
    reward: RewardModel,
    tok: Tokenizer,
    template: ChatTemplate,
    requests: list[Request],
    kl_samples: int = 4,
) -> dict[str, float]:
    """Mean reward of the greedy answers, their loops, each task's score, and (with
    `kl_samples`) the KL to `ref`, the model RL started from."""
    policy.eval()
    answers = [chat_answer(policy, tok, template, r) for r in requests]
    scores = rewards_of(reward, tok, template, requests, answers)
    report = {
        "mean_reward": round(sum(scores) / max(1, len(scores)), 4),
        "loop_share": round(sum(map(answer_loops, answers)) / max(1, len(answers)), 4),
    }
    for task in TASKS:
        chosen = [(r, a) for r, a in zip(requests, answers, strict=True) if r.task == task]
        if chosen:
            report.update(task_scores(task, [r for r, _ in chosen], [a for _, a in chosen]))
    if kl_samples:
        report["kl_to_start"] = sampled_kl(policy, ref, tok, template, requests, kl_samples)
    return report
