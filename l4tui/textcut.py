"""Quoting user input in a message: one line, about 200 characters at most.

A message that quotes what the user brought (a line of a file, a field, an error's text) must
stay readable when that input is a 50 MB one-line file or a multi-line traceback.
"""


def clip(text: str, limit: int = 200) -> str:
    """`text` on one line (newlines shown as ⏎), cut to `limit` characters with … marking the cut."""
    text = str(text)[:limit + 1].replace("\r\n", "\n").replace("\n", " ⏎ ").replace("\r", " ")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def cut_title(title: str, width: int) -> str:
    """A title or label in `width` characters, on one line. A trailing parenthesis, a movie's year
    above all, survives the cut: `Star Wars (1977)` in 14 is `Star W… (1977)`, not `Star Wars (1…`.
    Where it cannot (a parenthesis as wide as `width`), the end is cut as `clip` cuts it."""
    text = str(title).replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")  # tokens can be "\n"
    text = " ".join(text.split()) or repr(text)  # a token that is a space shows as ' '
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    if text.endswith(")") and " (" in text:
        head, tail = text[:text.rindex(" (")], text[text.rindex(" ("):]
        if len(tail) + 2 <= width and len(tail) <= width // 2 + 1:
            return head[:width - len(tail) - 1].rstrip() + "…" + tail
    return text[:width - 1].rstrip() + "…"
