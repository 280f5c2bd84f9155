"""From what decoding produced to the API's response schema: tokens as strings, numbers rounded."""

import torch

from app.schemas import (
    AttentionMap,
    Candidate,
    GenerateResponse,
    HeadScores,
    PositionalEncoding,
    Step,
    TranslateResponse,
)
from model import Checkpoint, Decoded, Role, positional_encoding, share_on_keys

DECIMALS = 4  # weights are rounded: 4 decimals are more than a heatmap can show


def as_json(response: TranslateResponse) -> bytes:
    return response.model_dump_json().encode()


def translate_response(checkpoint: Checkpoint, decoded: Decoded) -> TranslateResponse:
    """Every step and every attention map of one decoding, in the translate shape."""
    tgt = checkpoint.tgt_tokenizer
    source_tokens = checkpoint.src_tokenizer.tokens(decoded.src_ids) if decoded.src_ids else []
    query_tokens = tgt.tokens(decoded.decoder_input_ids)
    steps = [
        Step(
            index=s.index,
            token=tgt.tokens([s.token_id])[0],
            token_id=s.token_id,
            prob=round(s.prob, DECIMALS),
            candidates=[
                Candidate(token=tgt.tokens([t])[0], prob=round(p, DECIMALS))
                for t, p in s.candidates
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
                key_tokens=query_tokens if (stack, kind) == ("decoder", "self") else source_tokens,
                weights=probs.double().round(decimals=DECIMALS).tolist(),
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


def generate_response(
    response: TranslateResponse,
    checkpoint: Checkpoint,
    decoded: Decoded,
    prompt: str,
    roles: list[Role],
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
