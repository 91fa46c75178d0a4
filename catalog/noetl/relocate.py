"""Keeping file:line through a dialect translation.

A dialect reader builds the hub's own form of a document out of the one the user wrote, moving
blocks around (`next.spec.mode` becomes `next.mode`, a workbook task is inlined into its step).
Each move is recorded as `new location -> written location`; every location under a moved block
follows its block. The translated document then carries the positions of what was written, so a
problem found in the hub's model still points at the user's file and line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from catalog.problems import Location
from catalog.yaml_source import YamlDocument


@dataclass
class Moves:
    """`new location -> written location` for every block a translation moved."""

    origins: dict[Location, Location] = field(default_factory=dict)

    def record(self, new: Location, written: Location) -> None:
        self.origins[new] = written

    def written(self, location: Location) -> Location:
        """Where the value now at `location` was written (itself when nothing moved it)."""
        for end in range(len(location), -1, -1):
            origin = self.origins.get(location[:end])
            if origin is not None:
                return (*origin, *location[end:])
        return location


def _locations(value: Any, location: Location) -> Iterator[Location]:
    yield location
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _locations(item, (*location, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _locations(item, (*location, index))


def relocate(document: YamlDocument, data: dict[str, Any], moves: Moves) -> YamlDocument:
    """The translated `data` with the positions of where each part of it was written."""
    positions, value_positions, styles = {}, {}, {}
    for location in _locations(data, ()):
        origin = moves.written(location)
        if origin in document.positions:
            positions[location] = document.positions[origin]
        if origin in document.value_positions:
            value_positions[location] = document.value_positions[origin]
        if origin in document.styles:
            styles[location] = document.styles[origin]
    return YamlDocument(data, positions, value_positions, styles)
