"""The reward model: the GPT's body with one number on top, how good an answer is.

InstructGPT's reward model is its language model with the vocabulary layer swapped for a scalar:
the same blocks read the request and the answer, and a linear head turns the last position's
vector into a reward. The last position is </s>, the one place that has seen the whole answer
and knows it ended. It starts from the instruction-tuned GPT (`from_gpt`), whose blocks already
read requests; the head starts at zero, so every answer starts with reward 0.

The blocks are the GPT's own (`decoder.embed`, `decoder.blocks`), walked here as the GPT's
decoder walks them, with the `AttentionTrace` passed down, so the reward model's heads can be
looked at like any other model's. The state's names are the GPT's (`decoder.*`) plus `head.*`,
so a checkpoint stores it like a GPT (model/checkpoint.py, stage "reward").
"""

import torch
from torch import nn

from model.attention import causal_mask
from model.chat import ChatIds, ChatTemplate, encode_chat
from model.config import TransformerConfig
from model.tokenizer import Tokenizer
from model.trace import AttentionTrace
from model.transformer import GPT


class RewardModel(nn.Module):
    """Token ids (B, T) -> one reward per sequence (B,), read at each sequence's last token."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        if config.architecture != "decoder-only":
            raise ValueError("a reward model is built on a decoder-only GPT")
        self.config = config
        self.decoder = GPT(config).decoder  # the GPT's embedding and blocks (and its unused head)
        self.head = nn.Linear(config.d_model, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    @classmethod
    def from_gpt(cls, gpt: GPT) -> "RewardModel":
        """A reward model whose body is a copy of `gpt`'s, with a zero head."""
        reward = cls(gpt.config)
        reward.decoder.load_state_dict(gpt.decoder.state_dict())
        return reward

    def hidden(self, ids: torch.Tensor, trace: AttentionTrace | None = None) -> torch.Tensor:
        """ids (B, T) -> the last block's output (B, T, D): what the GPT feeds its vocabulary
        layer, here fed to the reward head. Padding after a sequence's end is never seen by
        its earlier positions (causal masking), so right-padded batches need no other mask."""
        t = ids.size(1)
        mask = causal_mask(t, t, ids.device) if t > 1 else None  # (1, 1, T, T)
        x = self.decoder.embed(ids, 0, trace)  # (B, T, D)
        for block in self.decoder.blocks:
            x = block(x, mask, None, None, trace)
        return x

    def forward(
        self,
        ids: torch.Tensor,
        ends: torch.Tensor | None = None,
        trace: AttentionTrace | None = None,
    ) -> torch.Tensor:
        """Rewards (B,) at positions `ends` (B,) (default: every row's last position)."""
        x = self.hidden(ids, trace)  # (B, T, D)
        if ends is None:
            ends = torch.full((ids.size(0),), ids.size(1) - 1, device=ids.device)
        last = x[torch.arange(ids.size(0), device=ids.device), ends]  # (B, D)
        return self.head(last).squeeze(-1)  # (B,)


def sequence_ends(ids: torch.Tensor, pad_id: int) -> torch.Tensor:
    """The last non-padding position of each right-padded row of ids (B, T) -> (B,)."""
    return (ids != pad_id).sum(dim=1) - 1


def score_answer(
    reward: RewardModel,
    tok: Tokenizer,
    template: ChatTemplate,
    instruction: str,
    input: str | None,
    answer: str,
    trace: AttentionTrace | None = None,
) -> tuple[float, ChatIds]:
    """The reward of one answer to one request, and the ids and roles it read (its attention
    goes into `trace`: sites `decoder.{i}.self` over every position)."""
    chat = encode_chat(tok, template, instruction, input, answer)
    if len(chat.ids) > reward.config.max_len:
        raise ValueError(f"request and answer are longer than {reward.config.max_len} positions")
    device = next(reward.parameters()).device
    with torch.inference_mode():
        value = reward(torch.tensor([chat.ids], device=device), trace=trace)
    return float(value.item()), chat
