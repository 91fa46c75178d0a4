"""Plain Python agents for `framework: custom`: the shapes the agent kind knows how to call.

- `summarize`: a sync function; a payload `{text, max_words}` is spread onto its parameters.
- `classify`: an async function taking one `message` (an input-like name, so any payload fits).
- `count_words`: a sync generator; its items are collected into a list.
- `stream_tokens`: an async generator, drained the same way.
- `Librarian`: a class used in factory mode: `entrypoint_args` build it once, then its `run`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any


def summarize(text: str, max_words: int = 8) -> dict[str, Any]:
    """The first `max_words` words, and whether the text was cut."""
    words = text.split()
    return {"summary": " ".join(words[:max_words]), "truncated": len(words) > max_words, "words": len(words)}


async def classify(message: Any) -> dict[str, Any]:
    """A toy intent classifier: the whole payload arrives as `message`."""
    await asyncio.sleep(0)
    text = message.get("text", "") if isinstance(message, dict) else str(message)
    lowered = text.lower()
    intent = "refund" if "refund" in lowered else "question" if text.rstrip().endswith("?") else "other"
    return {"intent": intent, "text": text}


def count_words(text: str) -> Iterator[dict[str, Any]]:
    """One item per word, with its position."""
    for index, word in enumerate(text.split()):
        yield {"index": index, "word": word}


async def stream_tokens(text: str) -> AsyncIterator[str]:
    """Tokens one by one, as a streaming agent would produce them."""
    for token in text.split():
        await asyncio.sleep(0)
        yield token


class Librarian:
    """A stateful agent built by its factory (the class itself) from `entrypoint_args`."""

    def __init__(self, books: dict[str, str] | None = None, greeting: str = "Hello") -> None:
        self.books = books or {"dune": "Frank Herbert", "emma": "Jane Austen"}
        self.greeting = greeting
        self.asked = 0

    def run(self, query: str) -> dict[str, Any]:
        self.asked += 1
        author = self.books.get(query.strip().lower())
        answer = f"{self.greeting}! {query} is by {author}." if author else f"{self.greeting}! I do not know {query}."
        return {"answer": answer, "found": author is not None, "questions_so_far": self.asked}
