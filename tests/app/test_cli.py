"""`attnscope translate`: one output line per input line, whatever the input."""

import io
import sys
from pathlib import Path

import pytest

from app.cli import main, translate_lines
from tests.conftest import save_tiny_checkpoint


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random weights: the words are nonsense, but line bookkeeping is what is tested."""
    directory = tmp_path_factory.mktemp("zh-en")
    save_tiny_checkpoint(directory)
    return directory


LINES = ["我有一只猫。", "", "   ", "😀\x00", "你" * 500, "猫\r", "我有一只猫。"]


def test_one_line_out_per_line_in(model_dir: Path) -> None:
    out = list(translate_lines(LINES, model_dir, batch_size=3))
    assert len(out) == len(LINES)
    assert out[1] == "" and out[2] == ""  # empty in, empty out
    assert out[0] == out[6]  # batches do not change a sentence's translation
    assert all("\n" not in line for line in out)


def test_beam_option_gives_a_line_each(model_dir: Path) -> None:
    assert len(list(translate_lines(LINES, model_dir, beam_size=3))) == len(LINES)


def test_command_reads_a_file_with_bad_bytes(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.txt"
    source.write_bytes("我有一只猫。\n".encode() + b"\xff\xfe broken\n" + "你好。\n".encode())
    assert main(["translate", "--model-dir", str(model_dir), "--file", str(source)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_command_reads_stdin(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO("你好。\n\n我有一只猫。\n".encode()), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main(["translate", "--model-dir", str(model_dir)]) == 0
    assert capsys.readouterr().out.count("\n") == 3


def test_missing_model_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"x\n"), encoding="utf-8"))
    assert main(["translate", "--model-dir", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in caplog.text


def test_a_lines_translation_does_not_depend_on_its_neighbours(model_dir: Path) -> None:
    """Each line's output limit comes from its own length, not its batch's longest line."""
    alone = list(translate_lines(["我有一只猫。"], model_dir))
    beside = list(translate_lines(["我有一只猫。", "我有一只猫。你好。" * 4], model_dir))
    assert beside[0] == alone[0]


def test_a_line_longer_than_the_model_reads_is_refused_in_words(
    model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = list(translate_lines(["你好。", "你" * 41, "你好。"], model_dir))
    assert out[1] == "" and out[0] == out[2] != ""
    assert "line 2 is 41 tokens; the model reads at most 40" in caplog.text


@pytest.mark.parametrize("where", ["missing.txt", "."])
def test_an_unreadable_file_is_one_clear_line(
    model_dir: Path, tmp_path: Path, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / where
    assert main(["translate", "--model-dir", str(model_dir), "--file", str(path)]) == 2
    assert f"cannot read {path}" in caplog.text


@pytest.mark.parametrize("size", ["0", "-1", "two"])
def test_batch_size_must_be_at_least_one(
    model_dir: Path, size: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["translate", "--model-dir", str(model_dir), "--batch-size", size])
    assert exit_info.value.code == 2
    assert "must be a whole number of at least 1" in capsys.readouterr().err


def test_options_beyond_the_limits_are_refused_in_words(
    model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert main(["translate", "--model-dir", str(model_dir), "--beam-size", "9"]) == 2
    assert "--beam-size is at most 8" in caplog.text
    assert main(["translate", "--model", "fr-en"]) == 2
    assert "--model is one of zh-en, en-zh" in caplog.text
