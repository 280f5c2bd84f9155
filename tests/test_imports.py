"""The layering, checked by walking every import: model/ stands alone, and app/ and training/
use it only through its public API (`from model import ...`), never `model.<module>`."""

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in a file; a relative import keeps its leading dots."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, "." * node.level + (node.module or "")))
    return found


def violations(package: str, allowed: Callable[[str], bool]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line}: imports {module}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, module in imported_modules(path)
        if not allowed(module)
    ]


def top(module: str) -> str:
    return module.split(".")[0]


def test_model_imports_nothing_from_app_or_training() -> None:
    assert violations("model", lambda m: top(m) not in ("app", "training")) == []


@pytest.mark.parametrize("package", ["app", "training"])
def test_app_and_training_use_model_only_through_its_api(package: str) -> None:
    assert violations(package, lambda m: top(m) != "model" or m == "model") == []


def test_training_does_not_import_the_app() -> None:
    assert violations("training", lambda m: top(m) != "app") == []


def test_the_check_sees_a_violation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk itself works: a file that reaches past the API is reported."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "bad.py").write_text(
        "import json\nfrom model.decoding import decode\nif True:\n    import model.trace\n"
    )
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert violations("app", lambda m: top(m) != "model" or m == "model") == [
        "app/bad.py:2: imports model.decoding",
        "app/bad.py:4: imports model.trace",
    ]
