"""Wall time of `attnscope translate` on 1,000 lines, start-up and model loading included.

    .venv/bin/python bench/translate_cli.py [--model zh-en]

Uses the dev set's source side when ../shared/data is present, else 1,000 copies of a few
sentences. Writes bench/results/translate_cli.json.
"""

import argparse
import subprocess
import time
from pathlib import Path

from results_file import write_results  # bench/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "zh_en_dev.tsv"
FALLBACK = {
    "zh-en": ["我有一只猫。", "今天天气很好。", "他昨天去了北京。", "这本书很有意思。"],
    "en-zh": ["I have a cat.", "It's a nice day today.", "This book is interesting."],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=["zh-en", "en-zh"], default="zh-en")
    parser.add_argument("--lines", type=int, default=1000)
    args = parser.parse_args()
    if DEV.exists():
        column = 0 if args.model == "zh-en" else 1
        lines = [line.split("\t")[column] for line in DEV.read_text().splitlines()]
    else:
        lines = FALLBACK[args.model]
    lines = (lines * (args.lines // len(lines) + 1))[: args.lines]
    command = [str(ROOT / ".venv" / "bin" / "attnscope"), "translate", "--model", args.model]
    start = time.perf_counter()
    result = subprocess.run(
        command, input="\n".join(lines) + "\n", capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - start
    outputs = result.stdout.splitlines()
    assert len(outputs) == len(lines), (len(outputs), len(lines))
    print(
        f"{len(lines)} lines ({args.model}) in {seconds:.1f} s, "
        f"{len(lines) / seconds:.0f} lines/s, start-up included"
    )
    write_results(
        "translate_cli", {"model": args.model, "lines": len(lines), "seconds": round(seconds, 2)}
    )


if __name__ == "__main__":
    main()
