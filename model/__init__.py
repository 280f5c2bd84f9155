"""attnscope's Transformer: written out plainly so every attention head can be looked at.

This is the public API: app/ and training/ import from `model` and never from its modules, so
the modules can change shape behind these names. model/ imports nothing from app/ or training/
(tests/test_imports.py walks the imports).
"""

from model.adaptation import adapted
from model.batch_decoding import DecodingJob, decode_many
from model.batched import greedy_batch
from model.cache import KVCache
from model.chat import (
    STAGES,
    ChatIds,
    ChatRole,
    ChatTemplate,
    Stage,
    chat_meta,
    encode_chat,
    unspelled_markers,
)
from model.checkpoint import (
    CHECKPOINTS_DIR,
    METRICS,
    SHIPPED_GPT,
    SHIPPED_MODELS,
    SHIPPED_TRANSLATORS,
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
    shipped_checkpoint,
    tie_state_dict,
    untied_state_dict,
)
from model.config import Architecture, TransformerConfig
from model.decoding import (
    MAX_BEAM_SIZE,
    MIN_TEMPERATURE,
    DeadlineExceeded,
    Decoded,
    DecodingOptions,
    Stopped,
    Strategy,
    decode,
)
from model.demonstrations import DemonstrationPool, read_pool
from model.inside import Inside, Lens, OutOfRange, check_site, inside_head, logit_lens
from model.layers import positional_encoding
from model.prompts import (
    CUE,
    Pair,
    PromptIds,
    Role,
    answer_stop_ids,
    asks_for_answer,
    encode_prompt,
    prompt_roles,
    prompt_text,
)
from model.reward import RewardModel, score_answer, sequence_ends
from model.scores import (
    head_score_table,
    head_scores_on,
    induction_score,
    previous_token_score,
    random_spans,
    share_on_keys,
    text_spans,
)
from model.tokenizer import (
    ARROW,
    FIRST_ORDINARY_ID,
    NEWLINE,
    Tokenizer,
    train_mixed_tokenizer,
    train_tokenizer,
)
from model.trace import AttentionTrace, BatchTrace
from model.transformer import GPT, Seq2Seq, Transformer, build_model, parameter_count

__all__ = [
    "ARROW",
    "CHECKPOINTS_DIR",
    "CUE",
    "FIRST_ORDINARY_ID",
    "GPT",
    "MAX_BEAM_SIZE",
    "METRICS",
    "MIN_TEMPERATURE",
    "NEWLINE",
    "SHIPPED_GPT",
    "SHIPPED_MODELS",
    "SHIPPED_TRANSLATORS",
    "STAGES",
    "Architecture",
    "AttentionTrace",
    "BatchTrace",
    "ChatIds",
    "ChatRole",
    "ChatTemplate",
    "Checkpoint",
    "CheckpointError",
    "DeadlineExceeded",
    "Decoded",
    "DecodingJob",
    "DecodingOptions",
    "DemonstrationPool",
    "Inside",
    "KVCache",
    "Lens",
    "OutOfRange",
    "Pair",
    "PromptIds",
    "RewardModel",
    "Role",
    "Seq2Seq",
    "Stage",
    "Stopped",
    "Strategy",
    "Tokenizer",
    "Transformer",
    "TransformerConfig",
    "adapted",
    "answer_stop_ids",
    "asks_for_answer",
    "build_model",
    "chat_meta",
    "check_site",
    "decode",
    "decode_many",
    "encode_chat",
    "encode_prompt",
    "greedy_batch",
    "head_score_table",
    "head_scores_on",
    "induction_score",
    "inside_head",
    "load_checkpoint",
    "logit_lens",
    "parameter_count",
    "positional_encoding",
    "previous_token_score",
    "random_spans",
    "prompt_roles",
    "prompt_text",
    "read_pool",
    "save_checkpoint",
    "score_answer",
    "sequence_ends",
    "share_on_keys",
    "shipped_checkpoint",
    "text_spans",
    "tie_state_dict",
    "train_mixed_tokenizer",
    "train_tokenizer",
    "unspelled_markers",
    "untied_state_dict",
]
