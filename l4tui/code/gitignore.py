"""A reader of `.gitignore` files: enough of git's rules for a file tree and a finder.

Our own, not a dependency: the finder needs a yes/no per path, and the rules it needs fit on a
page. What is read (gitignore(5)):
- blank lines and `#` comments are skipped; `\\#` and `\\!` start a pattern with that character;
- `!pattern` re-includes what an earlier pattern excluded (the last matching line wins);
- `name/` matches folders only;
- a pattern with a `/` at its start or middle is anchored to the .gitignore's folder, one
  without matches a name at any depth;
- `*`, `?`, `[abc]` match within one path part; `**/`, `/**` and `/**/` match across parts.
A deeper .gitignore decides before the ones above it, as in git. What is left out: a trailing
backslash-escaped space, and git's global excludes file.
"""

import re
from dataclasses import dataclass
from pathlib import Path

MAX_IGNORE_BYTES = 1_000_000  # a .gitignore bigger than this is not one a person wrote: not read


@dataclass(frozen=True, slots=True)
class Rule:
    regex: re.Pattern
    negated: bool
    folders_only: bool


def _translate(pattern: str) -> str:
    """A glob, anchored or not, as a regex over a '/'-separated path relative to its folder."""
    anchored = "/" in pattern
    pattern = pattern.lstrip("/")
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("/.*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                out.append(re.escape("["))
                i += 1
            else:
                body = pattern[i + 1:end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        elif pattern[i] == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    body = "".join(out)
    return f"{body}\\Z" if anchored else f"(?:.*/)?{body}\\Z"


def parse_rules(text: str) -> list[Rule]:
    rules = []
    for line in text.splitlines():
        line = line.rstrip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        if negated:
            line = line[1:]
        elif line.startswith(("\\#", "\\!")):
            line = line[1:]
        folders_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        try:
            rules.append(Rule(re.compile(_translate(line)), negated, folders_only))
        except re.error:  # a bracket git would read and we can't: that line is left out
            continue
    return rules


def read_rules(path: Path) -> list[Rule]:
    """The rules of one ignore file; [] when it is missing, unreadable or too big."""
    try:
        if path.stat().st_size > MAX_IGNORE_BYTES:
            return []
        return parse_rules(path.read_bytes().decode("utf-8", "replace"))
    except (OSError, ValueError):
        return []


def decide(rules: list[Rule], relative: str, is_folder: bool) -> bool | None:
    """True: ignored, False: re-included, None: no rule of this file says."""
    for rule in reversed(rules):
        if rule.folders_only and not is_folder:
            continue
        if rule.regex.match(relative):
            return not rule.negated
    return None
