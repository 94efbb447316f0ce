"""A scripted chat model (in the spirit of simonw/llm's fake models): answers from a script and records
every prompt it was sent, so tests can check both what the chain asks and what it does with the reply."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field


class ScriptedChatModel(BaseChatModel):
    """`script` is a list of replies (used in turn, the last one repeated) or a function of the prompt."""

    script: Any
    prompts: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _reply(self, messages: list[BaseMessage]) -> str:
        self.prompts.append(messages)
        if callable(self.script):
            return self.script(messages[-1].content)
        return self.script[min(len(self.prompts) - 1, len(self.script) - 1)]

    def _generate(self, messages, stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._reply(messages)))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        for word in self._reply(messages).split(" "):
            yield ChatGenerationChunk(message=AIMessageChunk(content=word + " "))


def passage_with(prompt: str, needle: str) -> str:
    """The [n] key of the prompt's passage that contains `needle` (what a model should cite)."""
    for block in prompt.split("\n["):
        if needle in block:
            return block.lstrip("[").split("]", 1)[0]
    raise AssertionError(f"no passage with {needle!r} in the prompt")


Script = Callable[[str], str]


def scripted_engine(model: BaseChatModel, name: str = "scripted") -> str:
    """Register `model` as an answer engine (as a user would register their own) and return its name, for
    `Assistant(settings, engine=name)`. Registering the same name again replaces it."""
    from rag.answer.engines import Engine, register
    register(Engine(name, "scripted model", lambda settings: model,
                    status=lambda settings: f"Answering with the scripted model {name}."))
    return name
