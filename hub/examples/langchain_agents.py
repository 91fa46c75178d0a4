"""LangChain runnables for `framework: langchain`, offline: fake chat models stand in for an LLM.

- `support_chain(answers)`: a factory building `prompt | chat model | StrOutputParser`; the fake
  model (`FakeListChatModel`) answers from `answers` in turn.
- `triage_chain(reply)`: a prompt piped into a `GenericFakeChatModel` whose reply is JSON, parsed
  by `JsonOutputParser` into a dict.
- `word_stats`: a `RunnableLambda` over a dict input (a ready Runnable: used as is, even in
  factory mode), returning what its config carried, so a playbook can see the run name, tags and
  metadata the hub passes.
"""

from __future__ import annotations

import itertools
from typing import Any

from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import JsonOutputParser, StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda

SUPPORT_PROMPT = ChatPromptTemplate.from_messages([
    ("system", "You are a support agent for {product}. Answer in one sentence."),
    ("human", "{question}"),
])


def support_chain(answers: list[str] | None = None) -> Runnable[Any, str]:
    """prompt | model | parser, the fake model replying with `answers` in order."""
    model = FakeListChatModel(responses=answers or ["Restart the router, then try again."])
    return SUPPORT_PROMPT | model | StrOutputParser()


def triage_chain(reply: str = '{"priority": "high", "team": "network"}') -> Runnable[Any, Any]:
    """prompt | model | JSON parser; the fake model always replies `reply`."""
    model = GenericFakeChatModel(messages=itertools.repeat(AIMessage(content=reply)))
    return ChatPromptTemplate.from_messages([("human", "Triage this ticket: {ticket}")]) | model | JsonOutputParser()


def _word_stats(data: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
    words = str(data.get("text", "")).split()
    return {
        "words": len(words),
        "longest": max(words, key=len) if words else None,
        "seen_config": {"tags": config.get("tags"), "metadata": config.get("metadata")},
    }


word_stats: Runnable[Any, Any] = RunnableLambda(_word_stats, name="word_stats")
