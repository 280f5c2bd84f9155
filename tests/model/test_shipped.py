"""The checkpoints that ship: they load, translate the textbook examples, and keep their claims.

The BLEU checks need ../shared/data and are skipped without it; the GPT's tests skip where no GPT
checkpoint ships.
"""

import json

import pytest

from model.checkpoint import load_checkpoint, shipped_checkpoint
from model.decoding import DecodingOptions, decode
from model.demonstrations import DemonstrationPool
from model.scores import head_score_table
from training.data import SHARED_DATA, read_pairs
from training.evaluate import evaluate_checkpoint, translate_prompt
from training.instruct_probes import instruct_scores
from training.phrasings import all_phrasings
from training.probes import few_shot_table

DEV = SHARED_DATA / "zh_en_dev.tsv"
TRAIN = SHARED_DATA / "zh_en_train.tsv"
SHIPPED = ["zh-en", "en-zh"]


def translate(name: str, text: str) -> str:
    checkpoint = load_checkpoint(shipped_checkpoint(name))
    assert checkpoint.src_tokenizer is not None
    src = checkpoint.src_tokenizer.encode(text)
    decoded = decode(checkpoint.model, src, [checkpoint.config.bos_id], DecodingOptions())
    return checkpoint.tgt_tokenizer.decode(decoded.output_ids)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_loads_verified(name: str) -> None:
    checkpoint = load_checkpoint(shipped_checkpoint(name))
    assert checkpoint.meta["direction"] == name
    metrics = json.loads((shipped_checkpoint(name) / "metrics.json").read_text())
    assert metrics["weights"] == "float16" and "Tatoeba" in metrics["data"]


def test_golden_textbook_example_zh_en() -> None:
    """Golden output: the example every Transformer lesson uses."""
    assert translate("zh-en", "我有一只猫。") == "I have a cat."


def test_golden_textbook_example_en_zh() -> None:
    assert translate("en-zh", "I have a cat.") == "我有一只猫。"


@pytest.mark.slow
@pytest.mark.skipif(not DEV.exists(), reason="the dev set (../shared/data) is absent")
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_keeps_its_claimed_bleu(name: str) -> None:
    metrics = json.loads((shipped_checkpoint(name) / "metrics.json").read_text())
    scores = evaluate_checkpoint(load_checkpoint(shipped_checkpoint(name)), DEV, limit=200)
    assert scores["bleu"] >= metrics["dev_bleu_first_200"] - 1.0
    assert scores["chrf"] >= metrics["dev_chrf_first_200"] - 1.0


GPT = shipped_checkpoint("gpt")
needs_gpt = pytest.mark.skipif(not GPT.exists(), reason="no GPT checkpoint ships in this tree")


@needs_gpt
def test_shipped_gpt_has_an_induction_head() -> None:
    """The issue's bar: some head scores at least 0.3, here on spans the export never saw."""
    checkpoint = load_checkpoint(GPT)
    assert checkpoint.config.architecture == "decoder-only"
    table = head_score_table(checkpoint.model, checkpoint.config.tgt_vocab_size, seed=7)
    best = max(max(site["induction"]) for site in table.values())
    assert best >= 0.3
    metrics = json.loads((GPT / "metrics.json").read_text())
    assert best == pytest.approx(metrics["best_induction_score"], abs=0.05)
    assert metrics["weights"] == "float16" and "Tatoeba" in metrics["data"]


@needs_gpt
def test_golden_textbook_example_gpt_zero_shot() -> None:
    checkpoint = load_checkpoint(GPT)
    assert translate_prompt(checkpoint.model, checkpoint.tgt_tokenizer, [], "我有一只猫。") == (
        "I have a cat."
    )


@pytest.mark.slow
@needs_gpt
@pytest.mark.skipif(not (DEV.exists() and TRAIN.exists()), reason="../shared/data is absent")
def test_shipped_gpt_keeps_its_claimed_bleu() -> None:
    """Zero-shot, and after 3 random or 3 similar training pairs, as its metrics claim."""
    metrics = json.loads((GPT / "metrics.json").read_text())
    checkpoint = load_checkpoint(GPT)
    dev, pool = read_pairs(DEV, "zh-en")[:200], DemonstrationPool(read_pairs(TRAIN, "zh-en"))
    scores = few_shot_table(checkpoint.model, checkpoint.tgt_tokenizer, dev, pool, shots=(3,))
    for label in ("zero_shot", "random_3", "similar_3"):
        assert scores[f"{label}_bleu"] >= metrics[f"dev_{label}_bleu_first_200"] - 1.0


@needs_gpt
def test_shipped_gpt_answers_end_at_the_line_end_unless_asked_not_to() -> None:
    from app.inference import Inference
    from app.registry import Registry
    from app.schemas import GenerateRequest
    from app.settings import Settings

    settings = Settings(models=["gpt"])
    registry = Registry(settings)
    registry.load()
    service = Inference(registry, settings)
    prompt = "我爱你。 => I love you.\n他是学生。 => He is a student.\n我有一只猫。 =>"
    free = service.generate(GenerateRequest(prompt=prompt, stop_at_line_end=False))
    assert "\n" in free.target_tokens[:-1]  # left alone, it writes a line of its own
    stopped = service.generate(GenerateRequest(prompt=prompt))
    line_end = free.target_tokens.index("\n")
    assert stopped.target_tokens == free.target_tokens[: line_end + 1]
    assert stopped.translation == free.translation.split("\n")[0].strip()


@needs_gpt
def test_shipped_gpt_ships_a_credited_pool_of_training_pairs() -> None:
    """At most 5,000 training pairs, each beside its Tatoeba attribution line (the licence)."""
    checkpoint = load_checkpoint(GPT)
    credits = (GPT / "pool.attribution.txt").read_text(encoding="utf-8").splitlines()
    assert 0 < len(checkpoint.pool) <= 5000
    assert len(credits) == len(checkpoint.pool)
    assert all(line.startswith("CC-BY 2.0 (France) Attribution: tatoeba.org #") for line in credits)
    if TRAIN.exists():
        corpus = read_pairs(TRAIN, "zh-en")
        credited = (TRAIN.with_name("zh_en_train.attribution.txt")).read_text("utf-8").splitlines()
        line_of = {pair: i for i, pair in enumerate(corpus)}
        for pair, credit in zip(checkpoint.pool, credits, strict=True):
            assert credited[line_of[pair]] == credit
        dev = set(read_pairs(DEV, "zh-en"))
        assert not dev & set(checkpoint.pool)


STAGES = ["sft", "reward", "rlhf"]
needs_stages = pytest.mark.skipif(
    not all(shipped_checkpoint(stage).exists() for stage in STAGES),
    reason="the GPT's stages do not ship in this tree",
)


@needs_stages
@pytest.mark.parametrize("stage", STAGES)
def test_each_shipped_stage_says_what_it_is(stage: str) -> None:
    checkpoint = load_checkpoint(shipped_checkpoint(stage))
    assert checkpoint.stage == stage and checkpoint.template is not None
    assert checkpoint.config.architecture == "decoder-only"
    metrics = json.loads((shipped_checkpoint(stage) / "metrics.json").read_text())
    assert metrics["weights"] == "float16" and "Tatoeba" in metrics["data"]


@pytest.mark.slow
@needs_stages
@pytest.mark.skipif(not (DEV.exists() and TRAIN.exists()), reason="../shared/data is absent")
def test_shipped_sft_keeps_its_claims() -> None:
    """On the first 100 requests per task, as the export measured them on 300."""
    metrics = json.loads((shipped_checkpoint("sft") / "metrics.json").read_text())["sft"]
    checkpoint = load_checkpoint(shipped_checkpoint("sft"))
    _, held_out = all_phrasings()
    dev = read_pairs(DEV, "zh-en")
    scores = instruct_scores(
        checkpoint.model, checkpoint.tgt_tokenizer, checkpoint.template, dev, held_out, 100
    )
    assert scores["to_english_bleu"] >= 10
    assert scores["is_question_accuracy"] >= 0.85
    assert scores["to_english_bleu"] >= metrics["to_english_bleu"] - 3
    assert scores["repeat_exact"] >= metrics["repeat_exact"] - 0.1
