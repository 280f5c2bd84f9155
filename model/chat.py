"""The chat template: how an instruction, an optional input and an answer are laid out in tokens.

    <s> 指令：{instruction} \\n 输入：{input} \\n 回答：{answer} </s>

A GPT after instruction tuning reads requests in this one layout, so the layout belongs to its
weights and ships in its checkpoint (config.json, beside the `stage` that made it). The markers
are ordinary text that the base GPT's vocabulary already spells, not new tokens: the base model
reads exactly the tokens its instruction-tuned children read, so comparing them compares weights,
and no embedding row starts untrained. The input line is left out when there is no input.

Each position has a role, as the few-shot prompt's positions do (model/prompts.py): <s>, then
the instruction (its marker and line break included), the input, and the answer (its marker, then
what the model writes). `prompt_length` says where reading ends and answering begins; the
instruction-tuning loss counts the positions after it only.
"""

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from model.tokenizer import NEWLINE, Tokenizer

Stage = Literal["base", "sft", "reward", "rlhf"]  # the step of training that made a checkpoint
STAGES: tuple[Stage, ...] = ("base", "sft", "reward", "rlhf")
ChatRole = Literal["start", "instruction", "input", "answer"]


@dataclass(frozen=True)
class ChatTemplate:
    """The markers that open each part of a request, and what separates the parts."""

    instruction: str = "指令："  # opens the instruction
    input: str = "输入："  # opens the input line, when there is one
    answer: str = "回答："  # the cue: what follows is the answer
    separator: str = NEWLINE  # ends the instruction and the input lines

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "ChatTemplate":
        """The template a checkpoint recorded; ValueError when a field is missing or unknown."""
        names = {f.name for f in fields(cls)}
        if not isinstance(values, dict) or set(values) != names:
            raise ValueError(f"a chat template has exactly the fields {sorted(names)}")
        if not all(isinstance(v, str) for v in values.values()):
            raise ValueError("chat template fields are strings")
        return cls(**values)

    def text(self, instruction: str, input: str | None = None, answer: str = "") -> str:
        """The request as text (what `encode_chat` encodes, part by part)."""
        parts = [self.instruction + instruction + self.separator]
        if input is not None:
            parts.append(self.input + input + self.separator)
        return "".join(parts) + self.answer + answer

    def markers(self) -> list[str]:
        return [self.instruction, self.input, self.answer, self.separator]


@dataclass
class ChatIds:
    """A request's ids, from <s>, and the role of each of them."""

    ids: list[int]  # <s>, the prompt, then (when one was given) the answer and </s>
    roles: list[ChatRole]  # one per id
    prompt_length: int  # ids[:prompt_length] is read; the answer starts at ids[prompt_length]

    @property
    def prompt_ids(self) -> list[int]:
        return self.ids[: self.prompt_length]

    def roles_for(self, positions: int) -> list[ChatRole]:
        """The role of each of `positions` decoder positions: the prompt's roles, then answer."""
        roles = self.roles[: self.prompt_length]
        return (roles + ["answer"] * max(0, positions - len(roles)))[:positions]


def encode_chat(
    tok: Tokenizer,
    template: ChatTemplate,
    instruction: str,
    input: str | None = None,
    answer: str | None = None,
) -> ChatIds:
    """Ids and roles of a request, built part by part so that every role's extent is exact.
    With `answer`, the answer's ids and </s> follow the prompt (a training sequence)."""
    ids: list[int] = [tok.bos_id]
    roles: list[ChatRole] = ["start"]

    def add(role: ChatRole, *texts: str) -> None:
        for text in texts:
            piece = _encode_piece(tok, text)
            ids.extend(piece)
            roles.extend([role] * len(piece))

    add("instruction", template.instruction, instruction, template.separator)
    if input is not None:
        add("input", template.input, input, template.separator)
    add("answer", template.answer)
    prompt_length = len(ids)
    if answer is not None:
        add("answer", answer)
        ids.append(tok.eos_id)
        roles.append("answer")
    return ChatIds(ids, roles, prompt_length)


def _encode_piece(tok: Tokenizer, text: str) -> list[int]:
    """A marker or a part's text; the line break is one token of its own."""
    newline = tok.hf.token_to_id(NEWLINE)
    if text == NEWLINE and newline is not None:
        return [newline]
    return tok.encode(text)


def unspelled_markers(tok: Tokenizer, template: ChatTemplate) -> list[str]:
    """The template's markers that the vocabulary cannot spell (they would read as <unk>)."""
    return [m for m in template.markers() if not m or tok.unk_id in _encode_piece(tok, m)]


def chat_meta(stage: Stage, template: ChatTemplate | None) -> dict[str, Any]:
    """What config.json records about a checkpoint's stage and template."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; one of {STAGES}")
    meta: dict[str, Any] = {"stage": stage}
    if template is not None:
        meta["chat_template"] = template.to_dict()
    return meta
