"""vim's jump list: Ctrl-O goes back to where a jump started, Ctrl-I (Tab) forward again.

Separate from the tag stack (tagstack.py): every jump is recorded here (gg, G, a search, %,
`:N`, `{` `}`, a tag jump, opening another file), and only tag jumps there.

This is vim's jump list with the default 'jumpoptions' (not "stack"), transcribed from vim's
mark.c (setpcmark, cleanup_jumplist, movemark) so that the odd corners agree too:
  - record(where the cursor was) appends an entry and points the index past the end, even after
    some Ctrl-O: nothing is dropped (unlike the tag stack);
  - an entry on the same line of the same file as a later entry is removed, so a line appears
    once, at its latest place. vim does this clean-up lazily, before Ctrl-O, Ctrl-I and :jumps;
    so does this class, which makes the index land where vim's does;
  - the first Ctrl-O after a jump first records the current position, so that Ctrl-I can come
    back to it;
  - at most `max_entries` (vim: 100); the oldest entry goes first.
Columns are kept (Ctrl-O restores them) but only lines are compared.
"""

from l4tui.code.location import Location


class JumpList:
    def __init__(self, max_entries: int = 100) -> None:
        self.max_entries = max_entries
        self._entries: list[Location] = []
        self._index = 0  # == len(entries) when not walking the list (vim's w_jumplistidx)

    def record(self, location: Location) -> None:
        """A jump is leaving `location`: vim's setpcmark()."""
        self._entries.append(location)
        if len(self._entries) > self.max_entries:
            del self._entries[0]
        self._index = len(self._entries)

    def back(self, current: Location, count: int = 1) -> Location | None:
        """Ctrl-O from `current`: where to go, or None at the oldest entry."""
        return self._move(-count, current)

    def forward(self, count: int = 1) -> Location | None:
        """Ctrl-I (Tab): where to go, or None at the newest entry."""
        return self._move(count, None)

    def entries(self) -> list[Location]:
        """The list as `:jumps` shows it, oldest first (after vim's clean-up)."""
        self._cleanup()
        return list(self._entries)

    @property
    def index(self) -> int:
        """The current entry, from 0; len(entries()) when not walking the list (`:jumps` marks
        it with ">"; at the end, on the line after the last entry)."""
        self._cleanup()
        return self._index

    def listing(self) -> list[tuple[str, Location | None]]:
        """`:jumps` as vim prints it: oldest first, each entry's distance from the current
        position, its line and column (from 1), with `>` at the current position. When not
        walking the list the position is past the newest entry, and vim marks it with a line of
        its own, a lone `>`: that line comes last here too (its location None)."""
        entries, index = self.entries(), self.index
        lines = [(f"{'>' if number == index else ' '}{abs(number - index):>3} {entry.line:>6} "
                  f"{entry.column + 1:>4}", entry) for number, entry in enumerate(entries)]
        if index == len(entries):
            lines.append((">", None))
        return lines

    def clear(self) -> None:
        """`:clearjumps`."""
        self._entries.clear()
        self._index = 0

    def _move(self, delta: int, current: Location | None) -> Location | None:
        """vim's movemark()."""
        self._cleanup()
        if not self._entries:
            return None
        if not 0 <= self._index + delta < len(self._entries):
            return None
        if self._index == len(self._entries):
            # The first Ctrl-O after a jump: remember where we are, so Ctrl-I comes back here.
            if current is not None:
                self.record(current)
            self._index -= 1
            if self._index + delta < 0:
                return None
        self._index += delta
        return self._entries[self._index]

    def _cleanup(self) -> None:
        """vim's cleanup_jumplist(): drop an entry when a later one is on the same line of the
        same file; the index follows its entry (or the next one kept)."""
        kept: list[Location] = []
        index = self._index
        n = len(self._entries)
        latest = {(loc.path, loc.line): i for i, loc in enumerate(self._entries)}
        for i, loc in enumerate(self._entries):
            if self._index == i:
                index = len(kept)
            if latest[(loc.path, loc.line)] == i:
                kept.append(loc)
        if self._index == n:
            index = len(kept)
        self._entries = kept
        self._index = index
