"""Quoting user input in a message: one line, about 200 characters at most.

A message that quotes what the user brought (a line of a file, a field, an error's text) must
stay readable when that input is a 50 MB one-line file or a multi-line traceback.
"""


def clip(text: str, limit: int = 200) -> str:
    """`text` on one line (newlines shown as ⏎), cut to `limit` characters with … marking the cut."""
    text = str(text)[:limit + 1].replace("\r\n", "\n").replace("\n", " ⏎ ").replace("\r", " ")
    return text if len(text) <= limit else text[:limit - 1] + "…"
