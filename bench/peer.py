"""Our decode plus trace against the usual stack: a Hugging Face MarianMT model of the same shape.

    .venv/bin/python bench/peer.py [--repeats 15]

The peer is built from a MarianConfig with our shipped model's sizes (d_model 256, 4 heads, 3+3
layers, ReLU feed-forward 512, sinusoidal positions, our vocabulary sizes) and random weights:
nothing is downloaded. It runs `generate(..., output_attentions=True, output_scores=True,
return_dict_in_generate=True)` with eager attention (the only kind that returns attention), greedy,
forced to produce exactly as many tokens as our model produced for the same sentence, from a
source of the same length. Ours is `model.decoding.decode`: greedy, every step recorded, every
attention map traced. One process, one thread each, medians. Writes bench/results/peer.json.
"""

import argparse
from collections.abc import Callable

import torch
import transformers
from results_file import write_results  # bench/ is on sys.path when run as a script
from timing import SENTENCES, print_table, summary, times_ms
from transformers import MarianConfig, MarianMTModel

from model.checkpoint import load_checkpoint, shipped_checkpoint
from model.decoding import DecodingOptions, decode


def build_peer(config) -> MarianMTModel:
    peer_config = MarianConfig(
        vocab_size=config.src_vocab_size,
        decoder_vocab_size=config.tgt_vocab_size,
        share_encoder_decoder_embeddings=False,
        d_model=config.d_model,
        encoder_layers=config.n_encoder_layers,
        decoder_layers=config.n_decoder_layers,
        encoder_attention_heads=config.n_heads,
        decoder_attention_heads=config.n_heads,
        encoder_ffn_dim=config.d_ff,
        decoder_ffn_dim=config.d_ff,
        activation_function="relu",
        max_position_embeddings=config.max_len,
        scale_embedding=True,
        pad_token_id=config.pad_id,
        bos_token_id=config.bos_id,
        eos_token_id=config.eos_id,
        decoder_start_token_id=config.bos_id,
    )
    peer_config._attn_implementation = "eager"  # SDPA cannot return attention weights
    torch.manual_seed(0)
    return MarianMTModel(peer_config).eval()


def generate_call(peer: MarianMTModel, source: torch.Tensor, tokens: int) -> Callable[[], object]:
    """The peer's greedy generate, with every attention map and score, forced to `tokens`."""

    @torch.inference_mode()
    def generate() -> object:
        result = peer.generate(
            source,
            max_new_tokens=tokens,
            min_new_tokens=tokens,
            do_sample=False,
            num_beams=1,
            output_attentions=True,
            output_scores=True,
            return_dict_in_generate=True,
        )
        assert result.cross_attentions is not None
        return result

    return generate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    checkpoint = load_checkpoint(shipped_checkpoint("zh-en"))
    ours, config = checkpoint.model, checkpoint.config
    peer = build_peer(config)
    rows = []
    for name, text in SENTENCES.items():
        src_ids = checkpoint.src_tokenizer.encode(text)
        options = DecodingOptions(max_new_tokens=128)
        produced = len(decode(ours, src_ids, [config.bos_id], options).output_ids)
        ours_ms = times_ms(
            lambda: decode(ours, src_ids, [config.bos_id], options),  # noqa: B023
            args.repeats,
        )
        source = torch.randint(4, config.src_vocab_size, (1, len(src_ids)))
        peer_ms = times_ms(generate_call(peer, source, produced), args.repeats)
        ours_p50, peer_p50 = summary(ours_ms)["p50_ms"], summary(peer_ms)["p50_ms"]
        rows.append(
            {
                "sentence": f"{name} ({len(text)} chars)",
                "tokens": produced,
                "ours_p50_ms": ours_p50,
                "peer_p50_ms": peer_p50,
                "ours_per_token_ms": round(ours_p50 / produced, 2),
                "peer_per_token_ms": round(peer_p50 / produced, 2),
                "ours/peer": round(ours_p50 / peer_p50, 2),
            }
        )
    params = {
        "ours": sum(p.numel() for p in ours.parameters()),
        "peer": sum(p.numel() for p in peer.parameters()),
    }
    print(
        f"decode + trace vs transformers {transformers.__version__} generate, 1 thread, "
        f"{args.repeats} repeats; parameters {params}"
    )
    print_table(rows, list(rows[0]))
    write_results(
        "peer",
        {
            "repeats": args.repeats,
            "threads": 1,
            "transformers": transformers.__version__,
            "parameters": params,
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
