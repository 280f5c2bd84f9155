"""Our explicit attention against PyTorch's fused reference, and the invariants of its weights."""

import pytest
import torch
from torch.nn import functional as F

from model.attention import MultiHeadAttention, attention, causal_mask
from model.trace import AttentionTrace


@pytest.mark.parametrize("masked", ["none", "causal", "padding"])
def test_attention_equals_scaled_dot_product_attention(masked: str) -> None:
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(3, 4, 7, 8, generator=g) for _ in range(3))  # (B, H, T, Dh)
    mask = None
    if masked == "causal":
        mask = causal_mask(7)
    elif masked == "padding":
        mask = torch.ones(3, 1, 1, 7, dtype=torch.bool)
        mask[1, ..., 5:] = False
    out, probs = attention(q, k, v, mask)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(probs.sum(-1), torch.ones(3, 4, 7))


def test_causal_mask_hides_the_future_and_respects_cached_keys() -> None:
    full = causal_mask(4)[0, 0]
    assert torch.equal(full, torch.tril(torch.ones(4, 4, dtype=torch.bool)))
    # One new query after 3 cached positions sees all 4 keys.
    assert causal_mask(1, 4)[0, 0].tolist() == [[True, True, True, True]]


def test_multi_head_attention_matches_torch_multihead_attention() -> None:
    """Same weights in nn.MultiheadAttention give the same output and head-averaged weights."""
    torch.manual_seed(0)
    ours = MultiHeadAttention("encoder.0.self", d_model=16, n_heads=4, dropout=0.0).eval()
    ref = torch.nn.MultiheadAttention(16, 4, batch_first=True).eval()
    with torch.no_grad():
        ref.in_proj_weight.copy_(
            torch.cat([ours.q_proj.weight, ours.k_proj.weight, ours.v_proj.weight])
        )
        ref.in_proj_bias.copy_(torch.cat([ours.q_proj.bias, ours.k_proj.bias, ours.v_proj.bias]))
        ref.out_proj.weight.copy_(ours.out_proj.weight)
        ref.out_proj.bias.copy_(ours.out_proj.bias)
    x = torch.randn(1, 6, 16)
    trace = AttentionTrace()
    out = ours(x, x, trace=trace)
    expected, expected_weights = ref(x, x, x, average_attn_weights=False)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(trace["encoder.0.self"], expected_weights[0], atol=1e-5, rtol=1e-5)
    assert trace["encoder.0.self"].shape == (4, 6, 6)  # (H, Tq, Tk)


def test_trace_refuses_a_batch() -> None:
    with pytest.raises(ValueError, match="one sequence"):
        AttentionTrace().record("encoder.0.self", torch.rand(2, 4, 3, 3))
