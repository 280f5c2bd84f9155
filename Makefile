# The README's two commands: `make run` and `make test`. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SEED_SENTENCE := 我有一只猫。

.PHONY: run test lint format train-zh-en train-en-zh clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamp files: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

run: $(VENV)/.installed
	@echo "$(SEED_SENTENCE)" | $(BIN)/attnscope translate --model zh-en
	@echo "I have a cat." | $(BIN)/attnscope translate --model en-zh

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .

# Retrain the shipped checkpoints (about an hour each on 2 cores; see README).
train-zh-en: $(VENV)/.installed
	$(BIN)/python -m model.train --direction zh-en --out runs/zh-en --export model/checkpoints/zh-en

train-en-zh: $(VENV)/.installed
	$(BIN)/python -m model.train --direction en-zh --out runs/en-zh --export model/checkpoints/en-zh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
