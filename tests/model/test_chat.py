"""The chat template: ids and roles built part by part, and its place in a checkpoint."""

import json
from pathlib import Path

import pytest
import torch

from model import (
    ChatTemplate,
    CheckpointError,
    encode_chat,
    load_checkpoint,
    save_checkpoint,
    train_mixed_tokenizer,
    unspelled_markers,
)
from model.checkpoint import sha256_of
from tests.conftest import save_tiny_gpt_checkpoint

TEMPLATE = ChatTemplate()
TEXTS = [
    "指令：把下面这句话翻译成英文。",
    "输入：我有一只猫。",
    "回答：I have a cat.",
    "Translate.",
]


def tokenizer():
    return train_mixed_tokenizer(TEXTS * 3, vocab_size=120)


def test_ids_and_roles_follow_the_parts() -> None:
    tok = tokenizer()
    chat = encode_chat(tok, TEMPLATE, "把下面这句话翻译成英文。", "我有一只猫。", "I have a cat.")
    assert chat.ids[0] == tok.bos_id and chat.ids[-1] == tok.eos_id
    assert len(chat.roles) == len(chat.ids)
    tokens = tok.tokens(chat.ids)
    first = {role: chat.roles.index(role) for role in ("instruction", "input", "answer")}
    assert tokens[first["instruction"] : first["instruction"] + 3] == list("指令：")
    assert tokens[first["input"] : first["input"] + 3] == list("输入：")
    assert tokens[first["answer"] : first["answer"] + 3] == list("回答：")
    assert chat.roles == sorted(chat.roles, key=["start", "instruction", "input", "answer"].index)
    assert tokens[chat.prompt_length - 3 : chat.prompt_length] == list("回答：")  # then the answer
    assert tok.decode(chat.ids[chat.prompt_length :]) == "I have a cat."
    text = TEMPLATE.text("把下面这句话翻译成英文。", "我有一只猫。", "I have a cat.")
    assert tok.decode(chat.ids) == text  # the ids spell the text form
    assert tok.encode(text) == chat.ids[1:-1]


def test_no_input_means_no_input_line() -> None:
    tok = tokenizer()
    chat = encode_chat(tok, TEMPLATE, "Translate.")
    assert "input" not in chat.roles and chat.prompt_length == len(chat.ids)
    assert chat.roles_for(len(chat.ids) + 2)[-2:] == ["answer", "answer"]  # what it writes next
    assert TEMPLATE.text("Translate.") == "指令：Translate.\n回答："


def test_markers_the_vocabulary_cannot_spell_are_named() -> None:
    tok = tokenizer()
    assert unspelled_markers(tok, TEMPLATE) == []
    assert unspelled_markers(tok, ChatTemplate(answer="§§")) == ["§§"]


def test_a_template_must_have_its_fields() -> None:
    assert ChatTemplate.from_dict(TEMPLATE.to_dict()) == TEMPLATE
    with pytest.raises(ValueError, match="exactly the fields"):
        ChatTemplate.from_dict({"instruction": "x"})


def test_stage_and_template_round_trip_through_a_checkpoint(tmp_path: Path) -> None:
    model = save_tiny_gpt_checkpoint(tmp_path / "base")
    base = load_checkpoint(tmp_path / "base")
    template = ChatTemplate(instruction="问：", input="文：", answer="答：")
    save_checkpoint(
        tmp_path / "sft", model, None, base.tgt_tokenizer, base.meta, stage="sft", template=template
    )
    sft = load_checkpoint(tmp_path / "sft")
    assert sft.stage == "sft" and sft.template == template
    assert "stage" not in sft.meta and sft.meta["direction"] == "prompt"
    config = json.loads((tmp_path / "sft" / "config.json").read_text())
    assert config["stage"] == "sft" and config["chat_template"]["answer"] == "答："
    ids = torch.tensor([[1, 6, 7, 8]])
    torch.testing.assert_close(sft.model(ids), base.model(ids))


def test_a_checkpoint_from_before_stages_is_a_base_model_without_template(tmp_path: Path) -> None:
    save_tiny_gpt_checkpoint(tmp_path)  # writes no stage and no template, as the shipped GPT
    config = json.loads((tmp_path / "config.json").read_text())
    assert "stage" not in config and "chat_template" not in config
    loaded = load_checkpoint(tmp_path)
    assert loaded.stage == "base" and loaded.template is None


def rewrite_config(directory: Path, **changes: object) -> None:
    path = directory / "config.json"
    config = json.loads(path.read_text())
    path.write_text(json.dumps({**config, **changes}))
    checksums = json.loads((directory / "sha256.json").read_text())
    checksums["config.json"] = sha256_of(path)
    (directory / "sha256.json").write_text(json.dumps(checksums))


def test_an_unknown_stage_or_a_broken_template_is_refused(tmp_path: Path) -> None:
    save_tiny_gpt_checkpoint(tmp_path)
    rewrite_config(tmp_path, stage="pretrained")
    with pytest.raises(CheckpointError, match="unknown stage 'pretrained'"):
        load_checkpoint(tmp_path)
    rewrite_config(tmp_path, stage="sft", chat_template={"answer": "答："})
    with pytest.raises(CheckpointError, match="invalid chat template"):
        load_checkpoint(tmp_path)


def test_a_template_needs_a_stage(tmp_path: Path) -> None:
    model = save_tiny_gpt_checkpoint(tmp_path / "base")
    tok = load_checkpoint(tmp_path / "base").tgt_tokenizer
    with pytest.raises(ValueError, match="with the stage"):
        save_checkpoint(tmp_path / "x", model, None, tok, {}, template=TEMPLATE)
