"""The `attnscope` command.

    attnscope serve [--host HOST] [--port PORT] [--workers N]
    attnscope translate [--model zh-en|en-zh] [--file FILE] < sentences.txt

Reads one sentence per line and writes one translation per line, in order. The model loads once
and sentences are decoded in padded batches. A line that cannot be translated (empty, longer than
the model's positions, or failing for any reason) gives an empty line and, unless it was empty, a
warning on stderr, never a stop.
"""

import argparse
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

log = logging.getLogger("attnscope")


def batched(lines: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for line in lines:
        batch.append(line.rstrip("\r\n"))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def translate_lines(
    lines: Iterable[str], model_dir: Path, batch_size: int = 64, beam_size: int = 1
) -> Iterator[str]:
    """Yield one translation per input line (greedy, or beam search when beam_size > 1)."""
    # Imported here: `attnscope --help` should not wait seconds for torch.
    from model import DecodingOptions, decode, greedy_batch, load_checkpoint

    checkpoint = load_checkpoint(model_dir)
    model, src_tok, tgt_tok = checkpoint.model, checkpoint.src_tokenizer, checkpoint.tgt_tokenizer
    if src_tok is None:
        raise SystemExit(f"{model_dir} is not a translation model")
    limit = checkpoint.config.max_len
    for number, batch in enumerate(batched(lines, batch_size)):
        sources = [src_tok.encode(text) for text in batch]
        for i, ids in enumerate(sources):
            if len(ids) > limit:  # cut short, it would be a translation of something else
                log.warning(
                    "line %d is %d tokens; the model reads at most %d: split it into sentences",
                    number * batch_size + i + 1,
                    len(ids),
                    limit,
                )
        outputs: dict[int, str] = {}
        wanted = [i for i, ids in enumerate(sources) if 0 < len(ids) <= limit]
        try:
            if beam_size > 1:
                options = DecodingOptions(strategy="beam", beam_size=beam_size)
                for i in wanted:
                    found = decode(model, sources[i], [tgt_tok.bos_id], options).output_ids
                    outputs[i] = tgt_tok.decode(found)
            elif wanted:
                found = greedy_batch(
                    model,
                    [sources[i] for i in wanted],
                    max_new_tokens=[2 * len(sources[i]) + 10 for i in wanted],  # each its own
                )
                outputs = {i: tgt_tok.decode(ids) for i, ids in zip(wanted, found, strict=True)}
        except Exception as err:  # one bad batch must not lose the rest of the file
            log.warning(
                "batch %d (lines %d-%d) failed: %s",
                number,
                number * batch_size + 1,
                number * batch_size + len(batch),
                err,
            )
        for i, text in enumerate(batch):
            if text.strip() and i not in outputs and len(sources[i]) <= limit:
                log.warning("line %d: no translation", number * batch_size + i + 1)
            yield outputs.get(i, "")


def translate_command(args: argparse.Namespace) -> int:
    from app.settings import Settings
    from model import SHIPPED_TRANSLATORS, CheckpointError, shipped_checkpoint

    # Checked here rather than by argparse, which would need torch to start for --help.
    most_beams = Settings().max_beam_size
    if args.beam_size > most_beams:
        log.error("--beam-size is at most %d (ATTNSCOPE_MAX_BEAM_SIZE)", most_beams)
        return 2
    name = args.model or SHIPPED_TRANSLATORS[0]
    if args.model_dir is None and name not in SHIPPED_TRANSLATORS:
        log.error("--model is one of %s, or give --model-dir", ", ".join(SHIPPED_TRANSLATORS))
        return 2
    model_dir = args.model_dir or shipped_checkpoint(name)
    if args.file:
        try:
            source = args.file.open(encoding="utf-8", errors="replace")
        except OSError as err:  # missing, a directory, not readable
            log.error("cannot read %s: %s", args.file, err.strerror or err)
            return 2
    else:
        sys.stdin.reconfigure(encoding="utf-8", errors="replace")  # bad bytes become U+FFFD
        source = sys.stdin
    try:
        for translation in translate_lines(source, model_dir, args.batch_size, args.beam_size):
            sys.stdout.write(translation + "\n")
            if args.unbuffered:
                sys.stdout.flush()
    except CheckpointError as err:
        log.error("cannot load the model: %s", err)
        return 2
    finally:
        if args.file:
            source.close()
    return 0


def serve_command(args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app
    from app.settings import Settings

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = Settings(**overrides)
    if args.workers == 1:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
        return 0
    # Each worker process builds its own app (and loads its own models) from the environment;
    # the cores are shared out between them unless the environment says otherwise.
    cores = os.cpu_count() or 1
    os.environ.setdefault("ATTNSCOPE_MAX_CONCURRENT", str(max(1, cores // args.workers)))
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=args.workers,
        log_level="info",
    )
    return 0


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="attnscope", description="attnscope: a Transformer, opened up while it translates."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    translate = commands.add_parser("translate", help="translate stdin (or --file) line by line")
    translate.add_argument(
        "--model", help="a shipped translation model: zh-en (the default) or en-zh"
    )
    translate.add_argument("--model-dir", type=Path, help="a checkpoint directory instead")
    translate.add_argument("--file", type=Path, help="read sentences from FILE, not stdin")
    translate.add_argument("--batch-size", type=positive_int, default=64, help="default 64")
    translate.add_argument(
        "--beam-size",
        type=positive_int,
        default=1,
        help="1 is greedy (default); more is beam search, up to the server's limit",
    )
    translate.add_argument("--unbuffered", action="store_true", help="flush after each line")
    translate.set_defaults(run=translate_command)
    serve = commands.add_parser("serve", help="serve the web page and the JSON API")
    serve.add_argument("--host", help="default 127.0.0.1, or ATTNSCOPE_HOST")
    serve.add_argument("--port", type=int, help="default 8000, or ATTNSCOPE_PORT")
    serve.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="server processes, each with its own models, for machines with more cores "
        "(default 1); each runs cores / workers inferences at once unless "
        "ATTNSCOPE_MAX_CONCURRENT says otherwise",
    )
    serve.set_defaults(run=serve_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
