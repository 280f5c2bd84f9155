"""Inside one attention head, and what each layer would predict, read from one forward pass.

One traced pass keeps every intermediate (`AttentionTrace(activations={})`), so the numbers here
are the ones the model computed: nothing below redoes its arithmetic, it only picks one query's
row out of the trace. The logit lens sends each layer's output through the model's own readout
(`Decoder.readout`) and the decoding rule of the step (`next_token_probs`).
"""

from dataclasses import dataclass

import torch

from model.attention import MultiHeadAttention
from model.decoding import Decoded, DecodingOptions, next_token_probs, trace_pass
from model.trace import AttentionTrace
from model.transformer import Seq2Seq


class OutOfRange(ValueError):
    """A site, head or query this model or this pass does not have; the message names the
    valid ones."""


def attention_sites(model: Seq2Seq) -> list[str]:
    """The model's attention site names, in the order a forward pass visits them."""
    return [m.name for m in model.modules() if isinstance(m, MultiHeadAttention)]


def check_site(model: Seq2Seq, site: str, head: int) -> None:
    """Raise OutOfRange unless the model has this site and this head."""
    sites = attention_sites(model)
    if site not in sites:
        raise OutOfRange(f"there is no attention site '{site}'; this model has {', '.join(sites)}")
    last = model.config.n_heads - 1
    if not 0 <= head <= last:
        raise OutOfRange(f"head {head} is out of range: {site} has heads 0 to {last}")


def activation_pass(model: Seq2Seq, decoded: Decoded) -> AttentionTrace:
    """One pass over what decoding read (the source, and every token the decoder was fed),
    keeping every intermediate. Causal masking makes row i of it what step i computed."""
    trace = AttentionTrace(activations={})
    trace_pass(model, decoded.src_ids, decoded.decoder_input_ids, trace)
    return trace


@dataclass
class Inside:
    """One query of one head, every step of its attention, then the sublayers after it.

    D is d_model, Dh d_head, Tk the keys of the site. `x` is the query's input to the site;
    where that input is the embedding (self-attention of layer 0), its two parts come too.
    """

    x: torch.Tensor  # (D,)
    token_embedding: torch.Tensor | None  # (D,) the token's vector × √d_model
    positional_encoding: torch.Tensor | None  # (D,) the sinusoidal row of its position
    q: torch.Tensor  # (Dh,) x W_Q, this head's slice
    k: torch.Tensor  # (Tk, Dh)
    v: torch.Tensor  # (Tk, Dh)
    scores: torch.Tensor  # (Tk,) q · k_j
    scaled: torch.Tensor  # (Tk,) ÷ √Dh
    masked: torch.Tensor  # (Tk,) -inf where the mask hides the key
    probs: torch.Tensor  # (Tk,) the softmax: the row the trace records
    z: torch.Tensor  # (Dh,) Σ_j p_j v_j
    heads_z: torch.Tensor  # (D,) every head's z for this query, side by side
    output: torch.Tensor  # (D,) after W_O: the attention sublayer's output
    residual: torch.Tensor  # (D,) x + output
    norm: torch.Tensor  # (D,) LayerNorm(residual)
    feed_forward: torch.Tensor  # (D,) the block's feed-forward output at this position
    feed_forward_residual: torch.Tensor  # (D,) its input + its output
    feed_forward_norm: torch.Tensor  # (D,) LayerNorm of that: the block's output


@torch.inference_mode()
def inside_head(model: Seq2Seq, decoded: Decoded, site: str, head: int, query: int) -> Inside:
    """Every number of one cell's row: `query` indexes the site's rows as the trace does (the
    source tokens for the encoder, the tokens the decoder was fed for the decoder)."""
    check_site(model, site, head)
    trace = activation_pass(model, decoded)
    kept = trace.activations or {}
    last = trace[site].size(1) - 1
    if not 0 <= query <= last:
        raise OutOfRange(f"query {query} is out of range: {site} has queries 0 to {last}")
    stack, layer, kind = site.split(".")
    ffn = f"{stack}.{layer}.ffn"
    from_embedding = layer == "0" and kind == "self"

    def at(name: str) -> torch.Tensor:
        return kept[f"{site}.{name}"]

    return Inside(
        x=at("x")[query],
        token_embedding=kept[f"{stack}.embed.tokens"][query] if from_embedding else None,
        positional_encoding=kept[f"{stack}.embed.positions"][query] if from_embedding else None,
        q=at("q")[head, query],
        k=at("k")[head],
        v=at("v")[head],
        scores=at("scores")[head, query],
        scaled=at("scaled")[head, query],
        masked=at("masked")[head, query],
        probs=trace[site][head, query],
        z=at("z")[head, query],
        heads_z=at("joined")[query],
        output=at("out")[query],
        residual=at("resid")[query],
        norm=at("norm")[query],
        feed_forward=kept[f"{ffn}.out"][query],
        feed_forward_residual=kept[f"{ffn}.resid"][query],
        feed_forward_norm=kept[f"{ffn}.norm"][query],
    )


@dataclass
class Lens:
    """What the output layer would predict from the embedding and from each decoder layer."""

    layers: list[str]  # `decoder.embed`, then `decoder.0`, `decoder.1`, ...
    ids: torch.Tensor  # (steps, layers, top_n) the most probable tokens, most probable first
    probs: torch.Tensor  # (steps, layers, top_n) their probabilities


def lens_layers(model: Seq2Seq) -> list[str]:
    return ["decoder.embed"] + [f"decoder.{i}" for i in range(model.config.n_decoder_layers)]


@torch.inference_mode()
def logit_lens(model: Seq2Seq, decoded: Decoded, options: DecodingOptions) -> Lens:
    """For each decoding step, each layer's output at the row that produced it, read out as the
    last layer's is and turned into the distribution the step chose from (the decoding rule of
    `options`): the last layer's top tokens are the step's candidates."""
    kept = activation_pass(model, decoded).activations or {}
    rows = [len(decoded.prefix_ids) - 1 + step.index for step in decoded.steps]
    layers = range(model.config.n_decoder_layers)
    names = ["decoder.embed.out"] + [f"decoder.{i}.ffn.norm" for i in layers]  # their outputs
    hidden = torch.stack([kept[name][rows] for name in names], dim=1)  # (steps, layers, D)
    probs = next_token_probs(model.decoder.readout(hidden), options)  # (steps, layers, V)
    top = torch.topk(probs, min(options.top_n, probs.size(-1)))
    return Lens(lens_layers(model), top.indices, top.values)
