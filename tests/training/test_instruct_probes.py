"""The instruction probes' scoring: what counts as right, as answered, as a loop."""

import random
from pathlib import Path

import torch

from model import GPT, ChatTemplate, RewardModel, load_checkpoint
from tests.training.tiny_stages import chat_pairs, save_tiny_base
from training.instruct_probes import (
    answer_loops,
    chat_answer,
    is_right,
    preference_accuracy,
    rl_report,
    task_scores,
)
from training.instructions import Request, evaluation_requests, make_request
from training.phrasings import Language, Task, all_phrasings, phrasings
from training.preferences import damaged_preferences

PAIRS = [("你怕黑吗？", "Are you afraid of the dark?"), ("他怕黑。", "He is afraid of the dark.")]


def requests_for(task: Task, language: Language, answers: list[str]) -> list[Request]:
    """One request per answer, about a question and a statement in turn."""
    train, _ = phrasings(task, language)
    return [make_request(train[0], PAIRS[i % 2], language) for i in range(len(answers))]


def test_yes_no_scores_count_right_and_answered() -> None:
    answers = ["Yes.", "yes", "I think so", "no"]  # right, wrong, not an answer, right
    requests = requests_for("is_question", "en", answers)
    assert [r.answer for r in requests] == ["yes", "no", "yes", "no"]
    scores = task_scores("is_question", requests, answers)
    assert scores == {"is_question_accuracy": 0.5, "is_question_answered": 0.75}


def test_translation_scores_are_bleu_and_loops() -> None:
    answers = ["Are you afraid of the dark?", "He is is is afraid afraid of of the dark dark."]
    requests = requests_for("to_english", "zh", answers)
    scores = task_scores("to_english", requests, answers)
    assert 0 < scores["to_english_bleu"] < 100 and scores["to_english_loop_share"] == 0.0
    looped = ["the dark the dark the dark", "He is afraid of the dark."]
    assert task_scores("to_english", requests, looped)["to_english_loop_share"] == 0.5


def test_loops_are_found_in_chinese_too() -> None:
    """Chinese has no spaces to count words by: four characters said twice are a loop."""
    assert answer_loops("你怕黑吗你怕黑吗你怕黑吗？") and answer_loops("the dark the dark the dark")
    assert not answer_loops("你怕黑吗？") and not answer_loops("他怕黑，你也怕黑。")
    answers = ["你怕黑吗你怕黑吗？", "他怕黑。"]
    requests = requests_for("to_chinese", "en", answers)
    assert task_scores("to_chinese", requests, answers)["to_chinese_loop_share"] == 0.5


def test_a_short_answer_is_right_as_the_scores_count_it() -> None:
    assert is_right("is_question", "Yes.", "yes") and is_right("language", "中文。", "中文")
    assert not is_right("is_question", "no", "yes")
    assert not is_right("repeat", "他怕黑", "他怕黑。") and is_right(
        "repeat", " 他怕黑。", "他怕黑。"
    )


def test_repeat_counts_exact_copies_only() -> None:
    answers = ["你怕黑吗？", "他怕黑"]
    requests = requests_for("repeat", "zh", answers)
    assert task_scores("repeat", requests, answers) == {"repeat_exact": 0.5}


def test_probes_run_on_a_tiny_model(tmp_path: Path, one_thread: None) -> None:
    gpt: GPT = save_tiny_base(tmp_path)
    tok, template = load_checkpoint(tmp_path).tgt_tokenizer, ChatTemplate()
    _, held_out = all_phrasings()
    requests = evaluation_requests(chat_pairs(), held_out, "to_english", 3, seed=0)
    assert all(isinstance(chat_answer(gpt, tok, template, r), str) for r in requests)
    reward = RewardModel.from_gpt(gpt)
    torch.nn.init.normal_(reward.head.weight)
    pairs = damaged_preferences(requests, random.Random(0))
    accuracy = preference_accuracy(reward, tok, template, pairs)
    assert 0 <= accuracy["all"] <= 1
    report = rl_report(gpt, gpt, reward, tok, template, requests, kl_samples=2)
    assert report["kl_to_start"] == 0.0  # a model against itself
    assert {"mean_reward", "loop_share", "to_english_bleu"} <= set(report)
