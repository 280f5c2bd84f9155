# The README's two commands: `make run` and `make test`. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test load bench lint format train-zh-en train-en-zh train-gpt train-gpt-icl train-sft train-reward train-rlhf clean

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

RESUME ?=

# The shipped GPT, in two steps (about 2 hours on 2 cores; README "The GPT"). First pre-training
# (95 minutes): half zero-shot, half after 1-3 random demonstrations, 25% random spans, the span
# curriculum first. It is a file target, so a finished first step is not run again.
runs/gpt-pre/export/model.safetensors: | $(VENV)/.installed
	$(BIN)/python -m training.gpt --out runs/gpt-pre --export runs/gpt-pre/export \
	    --zero-shot-share 0.5 --random-share 0.5 --similar-share 0 --max-shots 3 \
	    --name-share 0 --span-share 0.25 --real-span-share 0 $(RESUME)

# Then one epoch (about 25 minutes) that teaches reading the prompt: the name curriculum, then every
# training pair after random or similar demonstrations, name prompts, repeated real and random spans,
# with an unlikelihood penalty on answer tokens that repeat earlier ones.
train-gpt: runs/gpt-pre/export/model.safetensors
	$(BIN)/python -m training.gpt --out runs/gpt --export model/checkpoints/gpt \
	    --init-from runs/gpt-pre/export --epochs 1 --time-budget 25 --lr 6e-4 --warmup 100 \
	    --span-curriculum 0 --zero-shot-share 0.2 --random-share 0.3 --similar-share 0.5 \
	    --span-share 0.08 --real-span-share 0.2 --extra-name-share 0.4 --unlikelihood 1.0 \
	    --name-curriculum 300 --name-target 0.85 --eval-limit 100 $(RESUME)

# In-context learning, from scratch (README "In-context learning": work in progress, not yet run to
# the end): the span curriculum until an induction head forms, then every training pair as a prompt
# after random or similar demonstrations, with name prompts and repeated real and random spans; the
# name curriculum after epoch 1. It exports to runs/, not over the shipped model.
train-gpt-icl: $(VENV)/.installed
	$(BIN)/python -m training.gpt --out runs/gpt-icl --export runs/gpt-icl/export \
	    --epochs 6 --time-budget 118 --span-curriculum 4000 \
	    --zero-shot-share 0.2 --random-share 0.3 --similar-share 0.5 \
	    --span-share 0.08 --real-span-share 0.12 --extra-name-share 0.2 \
	    --name-curriculum 400 --name-target 0.85 --name-curriculum-after 1 --eval-limit 100 $(RESUME)

# From GPT to ChatGPT, each stage from the one before (measured: sft 45 minutes, reward 10 with its
# sampling, rlhf 8, each plus its evaluation; README "From GPT to ChatGPT"):
# instruction tuning of the shipped GPT, a reward model from the sft, RL of the sft against it.
# A stopped run continues with `make train-sft RESUME=--resume` (and the same for the others).
train-sft: $(VENV)/.installed
	$(BIN)/python -m training.sft --out runs/sft --export model/checkpoints/sft \
	    --init-from model/checkpoints/gpt --epochs 6 --time-budget 50 --repeat-share 0.2 \
	    --hard-repeat-share 0.4 --is-question-share 0.2 $(RESUME)

train-reward: $(VENV)/.installed
	$(BIN)/python -m training.reward --out runs/reward --export model/checkpoints/reward \
	    --init-from model/checkpoints/sft --epochs 2 --time-budget 25 $(RESUME)

train-rlhf: $(VENV)/.installed
	$(BIN)/python -m training.rlhf --out runs/rlhf --export model/checkpoints/rlhf \
	    --init-from model/checkpoints/sft --reward-from model/checkpoints/reward \
	    --epochs 4 --steps 100 --time-budget 25 $(RESUME)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
