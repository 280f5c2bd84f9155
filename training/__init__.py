"""attnscope's training recipes: translation and GPT, on one shared loop (training/loop.py).

Each recipe is a module to run: `python -m training.translation`, `python -m training.gpt`,
the same under `torchrun --nproc_per_node N`. They use the model through `model`'s public API.
"""
