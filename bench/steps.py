"""Trivial step functions the engine benchmark runs both through the hub and directly."""

from __future__ import annotations


def add_one(n: int) -> int:
    return n + 1


async def add_one_async(n: int) -> int:
    return n + 1
