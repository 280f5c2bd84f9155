# The README's two commands: `make run` and `make test`. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test load bench lint format train-zh-en train-en-zh train-gpt clean

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
	$(BIN)/attnscope serve

# Real-browser tests drive Debian's Chromium (never a browser downloaded by Playwright).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei

# The Docker test builds the real Dockerfile with a daemon of its own, and a local base image where
# Docker Hub cannot be reached.
DOCKERD := /usr/sbin/dockerd
MMDEBSTRAP := /usr/bin/mmdebstrap
$(DOCKERD) $(MMDEBSTRAP):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io mmdebstrap

test: $(VENV)/.installed-test $(CHROMIUM) $(DOCKERD) $(MMDEBSTRAP)
	$(BIN)/ruff check .
	command -v node >/dev/null || (apt-get update -qq && apt-get install -y -qq nodejs)
	node --test tests/js/
	$(BIN)/python -m pytest

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-test
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	touch $@

# Each benchmark prints a table and writes bench/results/<name>.json (README: "Performance").
bench: $(VENV)/.installed-bench $(CHROMIUM)
	$(BIN)/python bench/latency.py
	$(BIN)/python bench/peer.py
	$(BIN)/python bench/decode_cache.py --threads 1
	$(BIN)/python bench/floor.py
	$(BIN)/python bench/browser.py
	$(BIN)/python bench/serving.py

# 32 clients for 60 s against a live server with the shipped models (README: "Limits").
load: $(VENV)/.installed-test
	$(BIN)/python bench/load.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .

# Retrain the shipped checkpoints (about an hour each on 2 cores; see README).
train-zh-en: $(VENV)/.installed
	$(BIN)/python -m training.translation --direction zh-en --out runs/zh-en --export model/checkpoints/zh-en

train-en-zh: $(VENV)/.installed
	$(BIN)/python -m training.translation --direction en-zh --out runs/en-zh --export model/checkpoints/en-zh

# The GPT's recipe, from scratch (under 2 hours on 2 cores; README "In-context learning"): every
# training pair as a prompt, after random or similar demonstrations, name prompts and repeated
# spans, with the name curriculum after the second epoch.
train-gpt: $(VENV)/.installed
	$(BIN)/python -m training.gpt --out runs/gpt --export model/checkpoints/gpt \
	    --n-heads 8 --epochs 7 --time-budget 118 --span-curriculum 0 \
	    --zero-shot-share 0.2 --random-share 0.3 --similar-share 0.5 \
	    --span-share 0.08 --real-span-share 0.12 --extra-name-share 0.2 \
	    --name-curriculum 400 --name-target 0.85 --name-curriculum-after 2 --eval-limit 100

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
