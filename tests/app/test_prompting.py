"""The prompt a GPT reads when the server picks its demonstrations."""

import pytest

from app.prompting import NoPoolError, built_prompt
from app.schemas import GenerateRequest
from model import DemonstrationPool

POOL = DemonstrationPool([("我有一只猫。", "I have a cat."), ("他是学生。", "He is a student.")])


def request(prompt: str, **demonstrations) -> GenerateRequest:
    return GenerateRequest(prompt=prompt, demonstrations=demonstrations or None)


def test_without_demonstrations_the_prompt_is_as_sent() -> None:
    assert built_prompt(request("猫 =>\n"), "gpt", None) == "猫 =>\n"


def test_picked_demonstrations_come_first_then_the_prompts_own_lines() -> None:
    prompt = built_prompt(
        request("你好。 => Hello.\n我有一只狗。", kind="similar", count=2), "gpt", POOL
    )
    assert prompt.split("\n") == [
        "我有一只猫。 => I have a cat.",
        "你好。 => Hello.",
        "我有一只狗。 =>",
    ]


def test_the_cue_is_not_doubled() -> None:
    prompt = built_prompt(request("他是老师。 =>", kind="similar", count=1), "gpt", POOL)
    assert prompt.split("\n") == ["他是学生。 => He is a student.", "他是老师。 =>"]


def test_a_model_without_a_pool_is_a_clear_error() -> None:
    with pytest.raises(NoPoolError, match="'gpt' ships no demonstration pool"):
        built_prompt(request("猫", kind="random", count=1), "gpt", None)
