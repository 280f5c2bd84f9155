"""Remarks in words for a reader who should not trust an answer as it stands.

The script of a text tells its language well enough to notice a sentence typed into the wrong
direction. SCRIPT_PATTERNS is the one definition: the page gets it too (its initial data), so
its "auto" direction agrees with the server's notes.
"""

import re

from model import CUE, Checkpoint, Decoded, DecodingOptions, asks_for_answer

SCRIPT_PATTERNS = {"zh": r"[\u3400-\u9fff\uf900-\ufaff]", "en": r"[A-Za-z]"}  # Han; Latin
SCRIPTS = {language: re.compile(pattern) for language, pattern in SCRIPT_PATTERNS.items()}
LANGUAGES = {"zh": "Chinese", "en": "English"}


def input_notes(
    checkpoint: Checkpoint, text: str, src_ids: list[int], better: list[str]
) -> list[str]:
    """What a reader should know before trusting a translation: the text is in the other
    language (`better`: the loaded models that read it), or the model has never seen most of
    its characters. Empty when all is well."""
    notes = []
    source = checkpoint.meta.get("source_language", "")
    other = {"zh": "en", "en": "zh"}.get(source)
    if other and not SCRIPTS[source].search(text) and SCRIPTS[other].search(text):
        advice = f": try '{better[0]}'" if better else ""
        notes.append(
            f"the text looks like {LANGUAGES[other]}, and '{checkpoint.name}' translates "
            f"from {LANGUAGES[source]}{advice}"
        )
    unknown = src_ids.count(checkpoint.src_tokenizer.unk_id)
    if src_ids and unknown * 2 >= len(src_ids):
        notes.append(
            f"{unknown} of the text's {len(src_ids)} tokens are unknown to "
            f"'{checkpoint.name}' (shown as <unk>): the model never saw them in training, "
            "so its translation is mostly a guess"
        )
    return notes


def prompt_notes(prompt: str) -> list[str]:
    """A prompt that asks for nothing: its last line lacks the cue."""
    if asks_for_answer(prompt):
        return []
    return [
        f"the prompt's last line does not end with {CUE}, so nothing asks for a "
        f"translation: the GPT just goes on writing (try `中文 {CUE}`)"
    ]


def cut_note(
    checkpoint: Checkpoint, decoded: Decoded, options: DecodingOptions, most: int
) -> list[str]:
    """A note when the answer stopped at a limit before it ended, saying which limit: asking
    for more tokens helps only below the server's `most` and the model's positions."""
    c, cut = checkpoint.config, len(decoded.output_ids)
    if not decoded.output_ids or decoded.output_ids[-1] in (c.eos_id, *options.stop_ids):
        return []
    room = c.max_len - len(decoded.prefix_ids) + 1  # positions left after the prefix
    tokens = f"{cut} token{'s' * (cut != 1)}"
    if cut >= room and c.architecture == "decoder-only":
        return [
            f"the answer was cut at {tokens}, before it ended: '{checkpoint.name}' has "
            f"{c.max_len} positions, and the prompt took the rest; shorten the prompt"
        ]
    if cut >= min(room, most):
        return [
            f"the answer was cut at {tokens}, before it ended: that is the most "
            f"'{checkpoint.name}' writes here, so it may be repeating itself"
        ]
    return [
        f"the answer was cut at {tokens}, before it ended: ask for more tokens "
        f"(max_new_tokens, up to {most}), or it may be repeating itself"
    ]
