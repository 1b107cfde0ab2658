"""vim's tag stack: Ctrl-] pushes where you were and jumps; Ctrl-T pops back.

As in vim, jumping from the middle of the stack (after some Ctrl-T) drops the newer entries.
"""

from dataclasses import dataclass

from l4tui.code.location import Location


@dataclass(frozen=True)
class TagEntry:
    name: str  # the name jumped to
    origin: Location  # where the jump started: Ctrl-T comes back here
    target: Location


class TagStack:
    def __init__(self) -> None:
        self._entries: list[TagEntry] = []
        self._depth = 0  # entries below this index are "current"; above it, popped ones

    def push(self, name: str, origin: Location, target: Location) -> None:
        del self._entries[self._depth:]
        self._entries.append(TagEntry(name, origin, target))
        self._depth = len(self._entries)

    def pop(self) -> TagEntry | None:
        """The entry to return from (go to its origin), or None at the bottom of the stack."""
        if self._depth == 0:
            return None
        self._depth -= 1
        return self._entries[self._depth]

    @property
    def depth(self) -> int:
        return self._depth

    def entries(self) -> list[TagEntry]:
        return list(self._entries)
