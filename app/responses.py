"""From what decoding produced to the API's response schema: tokens as strings, numbers rounded."""

import math
import time

import orjson
import torch
from pydantic import BaseModel

from app.notes import cut_note
from app.schemas import (
    AttentionMap,
    Candidate,
    GenerateResponse,
    HeadScores,
    InsideResponse,
    LensLayer,
    LensStep,
    LogitLensResponse,
    PositionalEncoding,
    Step,
    TranslateResponse,
)
from app.weights import DECIMALS, AttentionWeights
from model import (
    ChatRole,
    Checkpoint,
    Decoded,
    DecodingOptions,
    Inside,
    Lens,
    Role,
    positional_encoding,
    share_on_keys,
)

# Inside a head, numbers are recomputed from one another (z = Σ p v): float32 has about 7
# significant digits, and 6 decimals keep what it has for values of the size found there.
INSIDE_DECIMALS = 6


def as_json(response: BaseModel) -> bytes:
    """The response as JSON, its attention weights written straight from their tensors."""
    return orjson.dumps(response.model_dump(), default=_written)


def _written(value: object) -> orjson.Fragment:
    """What orjson cannot write itself: attention weights, as JSON text."""
    if isinstance(value, AttentionWeights):
        return orjson.Fragment(value.json())
    raise TypeError(f"{type(value).__name__} cannot be written as JSON")


def translate_response(checkpoint: Checkpoint, decoded: Decoded) -> TranslateResponse:
    """Every step and every attention map of one decoding, in the translate shape."""
    tgt = checkpoint.tgt_tokenizer
    source_tokens, query_tokens = tokens_read(checkpoint, decoded)
    ids = list({t for s in decoded.steps for t in (s.token_id, *(c for c, _ in s.candidates))})
    token_of = dict(zip(ids, tgt.tokens(ids), strict=True))  # each id looked up once
    steps = [
        Step(
            index=s.index,
            token=token_of[s.token_id],
            token_id=s.token_id,
            prob=round(s.prob, DECIMALS),
            candidates=[
                Candidate(token=token_of[t], prob=round(p, DECIMALS)) for t, p in s.candidates
            ],
        )
        for s in decoded.steps
    ]
    attention = []
    for name, probs in decoded.trace.probs.items():
        stack, layer, kind = name.split(".")
        attention.append(
            AttentionMap(
                name=name,
                stack=stack,
                layer=int(layer),
                kind=kind,
                query_tokens=source_tokens if stack == "encoder" else query_tokens,
                key_tokens=keys_of(name, source_tokens, query_tokens),
                weights=AttentionWeights(probs),
            )
        )
    return TranslateResponse(
        model=checkpoint.name,
        source_tokens=source_tokens,
        target_tokens=tgt.tokens(decoded.output_ids),
        translation=tgt.decode(decoded.output_ids),
        steps=steps,
        attention=attention,
        timing_ms={},
    )


def timed_response(
    checkpoint: Checkpoint,
    decoded: Decoded,
    options: DecodingOptions,
    started: float,
    decoded_ms: float,
    most: int,
) -> TranslateResponse:
    """translate_response with its timing (from `started`, a perf_counter value) and a note if
    a limit cut the answer (`most`: the server's max_new_tokens)."""
    response = translate_response(checkpoint, decoded)
    response.timing_ms = {
        "decode_and_trace": round(decoded_ms, 2),
        "total": round((time.perf_counter() - started) * 1000, 2),
    }
    response.notes += cut_note(checkpoint, decoded, options, most)
    return response


def tokens_read(checkpoint: Checkpoint, decoded: Decoded) -> tuple[list[str], list[str]]:
    """What the encoder read (none for a GPT) and what the decoder was fed: the rows of every
    encoder site, and of every decoder site."""
    source = checkpoint.src_tokenizer.tokens(decoded.src_ids) if decoded.src_ids else []
    return source, checkpoint.tgt_tokenizer.tokens(decoded.decoder_input_ids)


def keys_of(site: str, source_tokens: list[str], decoder_tokens: list[str]) -> list[str]:
    """A site's key tokens: only decoder self-attention looks at the decoder's own tokens."""
    stack, _, kind = site.split(".")
    return decoder_tokens if (stack, kind) == ("decoder", "self") else source_tokens


def numbers(values: torch.Tensor) -> list:
    return values.double().round(decimals=INSIDE_DECIMALS).tolist()


def inside_response(
    checkpoint: Checkpoint, decoded: Decoded, site: str, head: int, query: int, inside: Inside
) -> InsideResponse:
    source_tokens, decoder_tokens = tokens_read(checkpoint, decoded)
    query_tokens = source_tokens if site.startswith("encoder.") else decoder_tokens
    c = checkpoint.config
    return InsideResponse(
        model=checkpoint.name,
        site=site,
        head=head,
        query=query,
        d_model=c.d_model,
        d_head=c.d_head,
        query_tokens=query_tokens,
        query_token=query_tokens[query],
        key_tokens=keys_of(site, source_tokens, decoder_tokens),
        x=numbers(inside.x),
        token_embedding=None if inside.token_embedding is None else numbers(inside.token_embedding),
        positional_encoding=(
            None if inside.positional_encoding is None else numbers(inside.positional_encoding)
        ),
        q=numbers(inside.q),
        k=numbers(inside.k),
        v=numbers(inside.v),
        scores=numbers(inside.scores),
        scaled=numbers(inside.scaled),
        masked=[None if math.isinf(value) else value for value in numbers(inside.masked)],
        probs=numbers(inside.probs),
        z=numbers(inside.z),
        heads_z=numbers(inside.heads_z),
        output=numbers(inside.output),
        residual=numbers(inside.residual),
        norm=numbers(inside.norm),
        feed_forward=numbers(inside.feed_forward),
        feed_forward_residual=numbers(inside.feed_forward_residual),
        feed_forward_norm=numbers(inside.feed_forward_norm),
        timing_ms={},
    )


def lens_response(checkpoint: Checkpoint, decoded: Decoded, lens: Lens) -> LogitLensResponse:
    """Rounded as the steps' candidates are, so the last layer's equal them."""
    tgt = checkpoint.tgt_tokenizer
    ids, probs = lens.ids.tolist(), lens.probs.double().round(decimals=DECIMALS).tolist()
    steps = [
        LensStep(
            index=step.index,
            token=tgt.tokens([step.token_id])[0],
            layers=[
                LensLayer(
                    layer=layer,
                    top=[
                        Candidate(token=token, prob=prob)
                        for token, prob in zip(tgt.tokens(ids[s][n]), probs[s][n], strict=True)
                    ],
                )
                for n, layer in enumerate(lens.layers)
            ],
        )
        for s, step in enumerate(decoded.steps)
    ]
    return LogitLensResponse(model=checkpoint.name, layers=lens.layers, steps=steps, timing_ms={})


def generate_response(
    response: TranslateResponse,
    checkpoint: Checkpoint,
    decoded: Decoded,
    prompt: str,
    roles: list[Role] | list[ChatRole],
) -> GenerateResponse:
    """A GPT's answer: the translate shape, the prompt's tokens, the role of every position, and
    each head's share of attention on the demonstrations from the rows that wrote the answer."""
    prompt_length = len(decoded.prefix_ids) - 1  # after <s>
    demonstrations = [i for i, role in enumerate(roles) if role == "demonstration"]
    answering = list(range(prompt_length, len(decoded.decoder_input_ids)))
    shares = {
        name: (
            share_on_keys(probs, answering, demonstrations).double().round(decimals=DECIMALS)
            if demonstrations
            else torch.zeros(probs.size(0))
        ).tolist()
        for name, probs in decoded.trace.probs.items()
    }
    return GenerateResponse(
        **dict(response),
        prompt=prompt,
        prompt_tokens=checkpoint.tgt_tokenizer.tokens(decoded.prefix_ids[1:]),
        roles=roles,
        demonstration_share=shares,
    )


ScoreTable = dict[str, dict[str, list[float]]]  # site -> score kind -> one value per head


def head_scores_response(
    name: str, table: ScoreTable, span: int, samples: int, on_text: dict[str, ScoreTable]
) -> HeadScores:
    def rounded(table: ScoreTable, kind: str) -> dict[str, list[float]]:
        return {site: [round(v, DECIMALS) for v in row[kind]] for site, row in table.items()}

    return HeadScores(
        model=name,
        span_length=span,
        samples=samples,
        induction=rounded(table, "induction"),
        previous_token=rounded(table, "previous_token"),
        induction_on_text={
            language: rounded(text_table, "induction") for language, text_table in on_text.items()
        },
    )


def positional_encoding_response(d_model: int, length: int) -> PositionalEncoding:
    table = positional_encoding(length, d_model).double().round(decimals=DECIMALS)
    return PositionalEncoding(d_model=d_model, values=table.tolist())
