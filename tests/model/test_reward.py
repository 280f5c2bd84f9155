"""The reward model: the GPT's own body, one reward per sequence, its attention traced, and its
checkpoint."""

from pathlib import Path

import pytest
import torch

from model import (
    GPT,
    AttentionTrace,
    ChatTemplate,
    RewardModel,
    load_checkpoint,
    save_checkpoint,
    score_answer,
    sequence_ends,
    train_mixed_tokenizer,
)
from tests.conftest import tiny_config


@pytest.fixture
def reward(gpt: GPT) -> RewardModel:
    model = RewardModel.from_gpt(gpt)
    torch.nn.init.normal_(model.head.weight, std=1.0)  # a head that says something
    return model.eval()


def test_the_body_is_the_gpts_own(gpt: GPT, reward: RewardModel) -> None:
    """The hidden states, through the GPT's vocabulary layer, are the GPT's logits."""
    ids = torch.tensor([[1, 5, 6, 7, 8, 9], [1, 9, 8, 7, 6, 5]])
    with torch.no_grad():
        torch.testing.assert_close(reward.decoder.lm_head(reward.hidden(ids)), gpt(ids))


def test_a_new_head_says_zero(gpt: GPT) -> None:
    fresh = RewardModel.from_gpt(gpt).eval()
    with torch.no_grad():
        assert fresh(torch.tensor([[1, 5, 6]])).tolist() == [0.0]


def test_padding_after_the_end_changes_nothing(reward: RewardModel) -> None:
    rows = [[1, 5, 6, 7, 2], [1, 8, 2]]
    batch = torch.tensor([rows[0], rows[1] + [0, 0]])
    with torch.no_grad():
        together = reward(batch, sequence_ends(batch, 0))
        alone = torch.cat([reward(torch.tensor([row])) for row in rows])
    assert sequence_ends(batch, 0).tolist() == [4, 2]
    torch.testing.assert_close(together, alone)


def test_the_reward_at_the_last_token_sees_the_whole_sequence(reward: RewardModel) -> None:
    """The reward depends on earlier tokens (attention carries them to the last position)."""
    with torch.no_grad():
        first = reward(torch.tensor([[1, 5, 6, 2]]))
        changed = reward(torch.tensor([[1, 9, 6, 2]]))
    assert not torch.equal(first, changed)


def test_score_answer_traces_every_layer() -> None:
    texts = ["指令：重复这句话。", "回答：我有一只猫。", "Repeat."] * 3
    tok = train_mixed_tokenizer(texts, vocab_size=80)
    torch.manual_seed(0)
    config = tiny_config(
        architecture="decoder-only", src_vocab_size=0, tgt_vocab_size=tok.vocab_size
    )
    reward = RewardModel(config).eval()
    trace = AttentionTrace()
    value, chat = score_answer(
        reward, tok, ChatTemplate(), "重复这句话。", None, "我有一只猫。", trace
    )
    assert value == 0.0 and chat.ids[-1] == tok.eos_id
    assert trace.names() == ["decoder.0.self", "decoder.1.self"]
    for probs in trace.probs.values():
        assert probs.shape == (config.n_heads, len(chat.ids), len(chat.ids))
        torch.testing.assert_close(probs.sum(-1), torch.ones(config.n_heads, len(chat.ids)))


def test_a_reward_checkpoint_round_trips(tmp_path: Path, reward: RewardModel) -> None:
    tok = train_mixed_tokenizer(["我有一只猫。", "I have a cat."] * 3, vocab_size=60)
    template = ChatTemplate()
    save_checkpoint(tmp_path, reward, None, tok, {}, stage="reward", template=template)
    loaded = load_checkpoint(tmp_path)
    assert isinstance(loaded.model, RewardModel)
    assert loaded.stage == "reward" and loaded.template == template
    ids = torch.tensor([[1, 5, 6, 7]])
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(ids), reward(ids), atol=1e-2, rtol=1e-2)
    assert loaded.model.decoder.lm_head.weight is loaded.model.decoder.embed.tokens.weight


def test_a_reward_model_is_saved_as_one(tmp_path: Path, gpt: GPT, reward: RewardModel) -> None:
    tok = train_mixed_tokenizer(["我有一只猫。", "I have a cat."] * 3, vocab_size=60)
    with pytest.raises(ValueError, match="stage 'reward'"):
        save_checkpoint(tmp_path, reward, None, tok, {}, stage="sft")
    with pytest.raises(ValueError, match="stage 'reward'"):
        save_checkpoint(tmp_path, gpt, None, tok, {}, stage="reward")


def test_only_a_decoder_only_config_makes_a_reward_model() -> None:
    with pytest.raises(ValueError, match="decoder-only"):
        RewardModel(tiny_config())
