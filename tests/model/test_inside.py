"""Inside one head and the logit lens: golden names of what a trace keeps, and every number
recomputed from the ones returned gives the model's own."""

import math
from collections.abc import Iterator

import pytest
import torch
from torch.nn import functional as F

from model.attention import MultiHeadAttention, causal_mask
from model.decoding import DecodingOptions, decode, trace_pass
from model.inside import OutOfRange, activation_pass, attention_sites, inside_head, logit_lens
from model.trace import AttentionTrace
from model.transformer import GPT, Seq2Seq, Transformer
from tests.model.test_transformer import DECODER_ONLY_SITES, ENCODER_DECODER_SITES

SRC = [5, 6, 7, 8, 2]
SITE_PARTS = [
    "x",
    "q",
    "k",
    "v",
    "scores",
    "scaled",
    "masked",
    "z",
    "joined",
    "out",
    "resid",
    "norm",
]
FFN_PARTS = ["out", "resid", "norm"]


@pytest.fixture(autouse=True)
def no_autograd() -> Iterator[None]:
    """The model's own modules run on the returned numbers as the server runs them."""
    with torch.inference_mode():
        yield


def kept_names(sites: list[str], stacks: dict[str, int]) -> list[str]:
    """What a trace that keeps intermediates holds, in the order of the forward pass."""
    names = []
    for stack, layers in stacks.items():
        names += [f"{stack}.embed.{part}" for part in ("tokens", "positions", "out")]
        for layer in range(layers):
            for site in (s for s in sites if s.startswith(f"{stack}.{layer}.")):
                # the sublayer's Add & Norm comes after the attention's own parts
                names += [f"{site}.{part}" for part in SITE_PARTS]
            names += [f"{stack}.{layer}.ffn.{part}" for part in FFN_PARTS]
    return names


GPT_FIRST_NAMES = [
    "decoder.embed.tokens",
    "decoder.embed.positions",
    "decoder.embed.out",
    "decoder.0.self.x",
    "decoder.0.self.q",
    "decoder.0.self.k",
    "decoder.0.self.v",
    "decoder.0.self.scores",
    "decoder.0.self.scaled",
    "decoder.0.self.masked",
    "decoder.0.self.z",
    "decoder.0.self.joined",
    "decoder.0.self.out",
    "decoder.0.self.resid",
    "decoder.0.self.norm",
    "decoder.0.ffn.out",
    "decoder.0.ffn.resid",
    "decoder.0.ffn.norm",
    "decoder.1.self.x",
]


def test_golden_names_of_the_intermediates(transformer: Transformer, gpt: GPT) -> None:
    trace = AttentionTrace(activations={})
    trace_pass(transformer, SRC, [1, 8, 9], trace)
    assert list(trace.activations or {}) == kept_names(
        ENCODER_DECODER_SITES, {"encoder": 2, "decoder": 2}
    )
    trace = AttentionTrace(activations={})
    trace_pass(gpt, [], [1, 5, 6, 7], trace)
    assert list(trace.activations or {}) == kept_names(DECODER_ONLY_SITES, {"decoder": 2})
    assert list(trace.activations or {})[: len(GPT_FIRST_NAMES)] == GPT_FIRST_NAMES
    assert attention_sites(transformer) == ENCODER_DECODER_SITES
    assert attention_sites(gpt) == DECODER_ONLY_SITES


def test_keeping_intermediates_changes_nothing(transformer: Transformer) -> None:
    plain, logits = trace_pass(transformer, SRC, [1, 8, 9])
    kept, kept_logits = trace_pass(transformer, SRC, [1, 8, 9], AttentionTrace(activations={}))
    assert torch.equal(logits, kept_logits)
    assert all(torch.equal(plain[name], kept[name]) for name in plain.names())
    assert plain.activations is None  # a plain trace keeps only the probabilities


def decoded_by(model: Seq2Seq, strategy: str = "greedy", **options):
    src, prefix = (SRC, [1]) if isinstance(model, Transformer) else ([], [1, 5, 6, 7])
    return decode(
        model, src, prefix, DecodingOptions(strategy=strategy, max_new_tokens=6, **options)
    )


def sites_and_queries(model: Seq2Seq, decoded) -> list[tuple[str, int]]:
    """Every site, at its first and its last query."""
    cases = []
    for site in attention_sites(model):
        rows = decoded.trace[site].size(1)
        cases += [(site, 0), (site, rows - 1)]
    return cases


@pytest.mark.parametrize("which", ["transformer", "gpt"])
def test_recomputed_from_the_numbers_returned(which: str, request: pytest.FixtureRequest) -> None:
    model = request.getfixturevalue(which)
    decoded = decoded_by(model)
    kept = activation_pass(model, decoded).activations or {}
    d_head = model.config.d_head
    for site, query in sites_and_queries(model, decoded):
        for head in (0, model.config.n_heads - 1):
            inside = inside_head(model, decoded, site, head, query)
            torch.testing.assert_close(inside.scores, inside.k @ inside.q)
            torch.testing.assert_close(inside.scaled, inside.scores / math.sqrt(d_head))
            torch.testing.assert_close(inside.probs, F.softmax(inside.masked, dim=-1))
            # the row decoding recorded (step by step with a cache): the heatmap's row
            torch.testing.assert_close(inside.probs, decoded.trace[site][head, query])
            torch.testing.assert_close(inside.z, inside.probs @ inside.v)
            joined = inside.heads_z.view(model.config.n_heads, d_head)
            torch.testing.assert_close(joined[head], inside.z)
            module = next(m for m in model.modules() if getattr(m, "name", "") == site)
            assert isinstance(module, MultiHeadAttention)
            torch.testing.assert_close(
                inside.output,
                own_output(module, kept, site, model.config.n_encoder_layers - 1)[query],
            )
            torch.testing.assert_close(inside.output, module.out_proj(inside.heads_z))
            torch.testing.assert_close(inside.residual, inside.x + inside.output)
            masked_keys = torch.isinf(inside.masked)
            causal = site.startswith("decoder") and site.endswith(".self")
            assert masked_keys.tolist() == [causal and k > query for k in range(len(inside.k))]


def own_output(
    module: MultiHeadAttention, kept: dict, site: str, last_encoder: int
) -> torch.Tensor:
    """The attention module run on its own input: (Tq, D)."""
    x = kept[f"{site}.x"][None]
    stack, _, kind = site.split(".")
    memory = f"encoder.{last_encoder}.ffn.norm"  # the encoder's output
    context = kept[memory][None] if kind == "cross" else x
    mask = causal_mask(x.size(1)) if (stack, kind) == ("decoder", "self") else None
    return module(x, context, mask)[0]


def test_layer_zero_input_is_its_two_parts_and_the_norms_are_the_models(
    transformer: Transformer,
) -> None:
    decoded = decoded_by(transformer)
    inside = inside_head(transformer, decoded, "decoder.0.self", 1, 1)
    assert inside.token_embedding is not None and inside.positional_encoding is not None
    torch.testing.assert_close(inside.token_embedding + inside.positional_encoding, inside.x)
    block = transformer.decoder.blocks[0]
    torch.testing.assert_close(inside.norm, block.norm1(inside.residual))
    cross = inside_head(transformer, decoded, "decoder.0.cross", 1, 1)
    assert cross.token_embedding is None  # its input is the self-attention's Add & Norm
    torch.testing.assert_close(cross.x, inside.norm)
    torch.testing.assert_close(cross.feed_forward, block.ffn(cross.norm))
    torch.testing.assert_close(cross.feed_forward_norm, block.norm3(cross.feed_forward_residual))
    nxt = inside_head(transformer, decoded, "decoder.1.self", 0, 1)
    torch.testing.assert_close(
        nxt.x, cross.feed_forward_norm
    )  # one layer's output, the next's input


@pytest.mark.parametrize(
    ("site", "head", "query", "says"),
    [
        ("decoder.5.self", 0, 0, "there is no attention site 'decoder.5.self'"),
        ("decoder.1.cross", 4, 0, "head 4 is out of range: decoder.1.cross has heads 0 to 3"),
        ("encoder.0.self", 0, 5, "query 5 is out of range: encoder.0.self has queries 0 to 4"),
    ],
)
def test_out_of_range_names_the_valid_range(
    transformer: Transformer, site: str, head: int, query: int, says: str
) -> None:
    with pytest.raises(OutOfRange, match=says):
        inside_head(transformer, decoded_by(transformer), site, head, query)


@pytest.mark.parametrize("which", ["transformer", "gpt"])
@pytest.mark.parametrize(
    ("strategy", "options"),
    [("greedy", {}), ("beam", {"beam_size": 3}), ("sample", {"temperature": 0.7, "top_k": 4})],
)
def test_the_lens_last_layer_is_each_steps_candidates(
    which: str, strategy: str, options: dict, request: pytest.FixtureRequest
) -> None:
    model = request.getfixturevalue(which)
    decoded = decoded_by(model, strategy, top_n=3, **options)
    lens = logit_lens(model, decoded, DecodingOptions(strategy=strategy, top_n=3, **options))
    assert lens.layers == ["decoder.embed", "decoder.0", "decoder.1"]
    assert lens.ids.shape == (len(decoded.steps), 3, 3)
    for s, step in enumerate(decoded.steps):
        ids, probs = zip(*step.candidates, strict=True)
        assert lens.ids[s, -1].tolist() == list(ids)
        torch.testing.assert_close(lens.probs[s, -1], torch.tensor(probs), atol=1e-5, rtol=0)
        assert torch.all(lens.probs[s, :, :-1] >= lens.probs[s, :, 1:])  # most probable first
