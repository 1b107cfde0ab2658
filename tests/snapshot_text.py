"""Print a snapshot SVG's screen as plain text, one terminal row a line, to review it beside the
picture (a browser shows the colours; this shows every character where it is, cut or whole).

    python tests/snapshot_text.py tests/__snapshots__/test_snapshots/'test_screen[monitor-80x24].svg'
    python tests/snapshot_text.py tests/__snapshots__/test_snapshots/*80x24*   # several, each under its name
"""

import html
import re
import sys
from pathlib import Path

TEXT = re.compile(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)" textLength="([\d.]+)"[^>]*>([^<]*)</text>')
CHAR_WIDTH = 12.2  # Textual's SVG: each terminal cell is 12.2 units wide


def screen_text(svg: str) -> list[str]:
    rows: dict[float, list[tuple[int, str]]] = {}
    for x, y, _, text in TEXT.findall(svg):
        rows.setdefault(float(y), []).append((round(float(x) / CHAR_WIDTH), html.unescape(text).replace("\xa0", " ")))
    lines = []
    for y in sorted(rows):
        line = ""
        for column, text in sorted(rows[y]):
            line = line.ljust(column) + text
        lines.append(line.rstrip())
    return lines


def main(paths: list[str]) -> None:
    for path in paths:
        if len(paths) > 1:
            print(f"==== {Path(path).name}")
        print("\n".join(screen_text(Path(path).read_text())))


if __name__ == "__main__":
    main(sys.argv[1:])
