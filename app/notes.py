"""Remarks in words for a reader who should not trust an answer as it stands.

The script of a text tells its language well enough to notice a sentence typed into the wrong
direction. SCRIPT_PATTERNS is the one definition: the page gets it too (its initial data), so
its "auto" direction agrees with the server's notes.
"""

import re

SCRIPT_PATTERNS = {"zh": r"[\u3400-\u9fff\uf900-\ufaff]", "en": r"[A-Za-z]"}  # Han; Latin
SCRIPTS = {language: re.compile(pattern) for language, pattern in SCRIPT_PATTERNS.items()}
LANGUAGES = {"zh": "Chinese", "en": "English"}
