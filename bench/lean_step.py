"""The zh-en model's greedy decode written as plain tensor functions: a bound, not a product.

attnscope's model is built from `nn.Module`s that return their attention as a named trace, so
that a reader can follow the paper's figure. This file asks what that structure costs: it runs
the same weights through the same arithmetic with as little around it as eager PyTorch allows:

- no modules and no dropout calls: weights are read once into plain tensors;
- q, k and v of each self-attention in one matrix product (the weights stacked);
- the cross-attention keys and values computed once per sentence, as the model also does;
- a key/value cache allocated once for the longest output, written in place;
- two-dimensional activations (one token) and batched matrix products over the heads.

Each step's attention is kept, as `decode()` keeps it. `check_against_model` makes sure the
tokens and the attention equal the model's before anything is timed. Only bench/floor.py uses it.
"""

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from model.decoding import DecodingOptions, decode
from model.transformer import Transformer


@dataclass
class LeanLayer:
    """One decoder block's weights as plain tensors (views of the model's, qkv stacked)."""

    qkv_w: torch.Tensor
    qkv_b: torch.Tensor
    self_out: nn.Linear
    norm1: nn.LayerNorm
    cross_q: nn.Linear
    cross_k: nn.Linear
    cross_v: nn.Linear
    cross_out: nn.Linear
    norm2: nn.LayerNorm
    ffn_in: nn.Linear
    ffn_out: nn.Linear
    norm3: nn.LayerNorm


def lean_layers(model: Transformer) -> list[LeanLayer]:
    layers = []
    for block in model.decoder.blocks:
        own, cross = block.self_attn, block.cross_attn
        assert cross is not None and block.norm2 is not None
        layers.append(
            LeanLayer(
                qkv_w=torch.cat([own.q_proj.weight, own.k_proj.weight, own.v_proj.weight]),
                qkv_b=torch.cat([own.q_proj.bias, own.k_proj.bias, own.v_proj.bias]),
                self_out=own.out_proj,
                norm1=block.norm1,
                cross_q=cross.q_proj,
                cross_k=cross.k_proj,
                cross_v=cross.v_proj,
                cross_out=cross.out_proj,
                norm2=block.norm2,
                ffn_in=block.ffn.net[0],
                ffn_out=block.ffn.net[2],
                norm3=block.norm3,
            )
        )
    return layers


def _linear(x: torch.Tensor, layer: nn.Linear) -> torch.Tensor:
    return F.linear(x, layer.weight, layer.bias)


def _norm(x: torch.Tensor, norm: nn.LayerNorm) -> torch.Tensor:
    return F.layer_norm(x, norm.normalized_shape, norm.weight, norm.bias, norm.eps)


@torch.inference_mode()
def lean_greedy(
    model: Transformer, layers: list[LeanLayer], src_ids: list[int], max_new_tokens: int
) -> tuple[list[int], list[list[torch.Tensor]]]:
    """Greedy tokens and, per step, each attention site's (H, 1, Tk) weights in model order."""
    c = model.config
    heads, d_head = c.n_heads, c.d_model // c.n_heads
    scale = 1 / math.sqrt(d_head)
    memory, _ = model.encode(torch.tensor([src_ids]))  # (1, Ts, D); no padding in one sentence
    memory = memory[0]
    t_src = memory.size(0)
    cross_kv = [
        (
            _linear(memory, layer.cross_k).view(t_src, heads, d_head).transpose(0, 1),
            _linear(memory, layer.cross_v).view(t_src, heads, d_head).transpose(0, 1),
        )
        for layer in layers
    ]  # (H, Ts, Dh) each
    keys = [torch.empty(heads, max_new_tokens, d_head) for _ in layers]
    values = [torch.empty(heads, max_new_tokens, d_head) for _ in layers]
    embedding, positions = model.decoder.embed.tokens.weight, model.decoder.embed.positions
    token, output, attention = c.bos_id, [], []
    for t in range(max_new_tokens):
        x = (embedding[token] * math.sqrt(c.d_model) + positions[t])[None]  # (1, D)
        step = []
        for i, layer in enumerate(layers):
            q, k, v = F.linear(x, layer.qkv_w, layer.qkv_b).view(3, heads, 1, d_head).unbind(0)
            keys[i][:, t : t + 1] = k
            values[i][:, t : t + 1] = v
            probs = torch.softmax(torch.bmm(q, keys[i][:, : t + 1].transpose(1, 2)) * scale, -1)
            step.append(probs)
            mixed = torch.bmm(probs, values[i][:, : t + 1]).view(1, c.d_model)
            x = _norm(x + _linear(mixed, layer.self_out), layer.norm1)
            q = _linear(x, layer.cross_q).view(heads, 1, d_head)
            cross_k, cross_v = cross_kv[i]
            probs = torch.softmax(torch.bmm(q, cross_k.transpose(1, 2)) * scale, -1)
            step.append(probs)
            mixed = torch.bmm(probs, cross_v).view(1, c.d_model)
            x = _norm(x + _linear(mixed, layer.cross_out), layer.norm2)
            hidden = torch.relu(_linear(x, layer.ffn_in))
            x = _norm(x + _linear(hidden, layer.ffn_out), layer.norm3)
        token = int(F.linear(x, embedding).argmax())
        output.append(token)
        attention.append(step)
        if token == c.eos_id:
            break
    return output, attention


def check_against_model(model: Transformer, layers: list[LeanLayer], src_ids: list[int]) -> int:
    """Raise unless the lean decode gives the model's tokens and attention; return the length."""
    decoded = decode(model, src_ids, [model.config.bos_id], DecodingOptions())
    tokens, attention = lean_greedy(model, layers, src_ids, len(decoded.output_ids))
    if tokens != decoded.output_ids:
        raise AssertionError(f"lean tokens {tokens} differ from the model's {decoded.output_ids}")
    decoder_sites = [name for name in decoded.trace.names() if name.startswith("decoder")]
    for t, step in enumerate(attention):  # trace row t: the query fed at step t
        for name, probs in zip(decoder_sites, step, strict=True):
            expected = decoded.trace[name][:, t, : probs.size(-1)]  # (H, Tk)
            torch.testing.assert_close(probs[:, 0], expected, atol=1e-5, rtol=1e-4)
    return len(tokens)
