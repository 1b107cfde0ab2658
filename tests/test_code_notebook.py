"""Notebooks as the Code pane reads them: the cell-joined Python view, its line mapping both ways,
the notebook file's own lines for $EDITOR, and notebooks that are malformed or huge."""

import json
import time

import pytest

from l4tui.code.documents import Documents
from l4tui.code.notebook import PROSE, file_place, parse_notebook
from l4tui.code.source import SourceError, read_source


def notebook(*cells, nbformat=4) -> str:
    return json.dumps({"nbformat": nbformat, "nbformat_minor": 5, "metadata": {}, "cells": list(cells)}, indent=1)


def markdown(*lines):
    return {"cell_type": "markdown", "metadata": {}, "source": list(lines)}


def code(source, count=None, outputs=()):
    return {"cell_type": "code", "execution_count": count, "metadata": {}, "outputs": list(outputs),
            "source": source}


LESSON = notebook(
    markdown("# Lesson 4\n", "\n", "Collaborative filtering."),
    code(["%matplotlib inline\n", "from util import add_tax\n", "def area(r):\n", "    return 3 * r"], count=1),
    code("!pip install foo\nx = area(2)\ny = (x\n% 3)\narea?\ntotal = add_tax(x)", count=2,
         outputs=[{"output_type": "stream", "name": "stdout", "text": ["hello\n"]}]),
)

JOINED = [
    "# # Lesson 4",
    "#",
    "# Collaborative filtering.",
    "",
    "# ── cell 2 · In [1] ──",
    "#%matplotlib inline",
    "from util import add_tax",
    "def area(r):",
    "    return 3 * r",
    "",
    "# ── cell 3 · In [2] ──",
    "#!pip install foo",
    "x = area(2)",
    "y = (x",
    "% 3)",  # inside a bracket: Python's modulo, not a magic
    "#area?",
    "total = add_tax(x)",
]


def test_cells_join_into_valid_python_with_a_numbered_separator_per_code_cell():
    joined = parse_notebook(LESSON)
    assert joined.lines == JOINED
    compile(joined.source, "lesson.ipynb", "exec")  # magics and prose are comments: valid Python
    assert "hello" not in joined.source  # outputs are not shown
    assert joined.prose_lines() == [0, 1, 2]


def test_folds_cells_defs_and_the_markdown_closed_at_first():
    joined = parse_notebook(LESSON)
    folds = {(fold.kind, fold.name): (fold.start, fold.end, fold.depth) for fold in joined.folds}
    assert folds == {("markdown", "Lesson 4"): (0, 2, 0), ("cell", "2"): (4, 8, 0), ("def", "area"): (7, 8, 1),
                     ("cell", "3"): (10, 16, 0)}
    assert joined.closed == {0}  # only the markdown cell starts closed


def test_lines_map_to_cells_and_back():
    joined = parse_notebook(LESSON)
    place = joined.to_cell(8, 4)  # `def area`, its name
    assert (place.cell, place.line, place.column) == (2, 3, 4)
    assert joined.to_joined(2, 3, 4) == (8, 4)
    assert (joined.to_cell(6, 1).line, joined.to_cell(6, 1).column) == (1, 0)  # `#%matplotlib`: one column added
    assert joined.to_joined(2, 1, 0) == (6, 1)
    assert joined.to_cell(5).line == 0 and joined.to_cell(5).cell == 2  # the separator
    assert joined.to_cell(4).cell == 0  # the blank line between cells
    assert joined.to_joined(1, 3, 0) == (3, 2)  # markdown: behind "# "
    assert joined.to_joined(3, 99) == (11, 0)  # past the cell's end: its first line
    with pytest.raises(ValueError):
        joined.to_joined(9)
    for line in range(1, len(JOINED) + 1):  # every source line goes round the trip
        place = joined.to_cell(line, 0)
        if place.line:
            assert joined.to_joined(place.cell, place.line, place.column)[0] == line


def test_the_editor_gets_the_notebook_files_own_line_of_the_cell():
    file_lines = LESSON.split("\n")
    line, column = file_place(LESSON, 8, 4)  # `def area(r):`, at `area`
    assert file_lines[line - 1].strip() == '"def area(r):\\n",'
    assert file_lines[line - 1][column - 1:].startswith('area(r)')
    line, _ = file_place(LESSON, 5)  # a separator: the cell's first line
    assert '"%matplotlib inline\\n"' in file_lines[line - 1]
    line, column = file_place(LESSON, 12, 1)  # a source given as one string: its line
    assert file_lines[line - 1].lstrip().startswith('"source": "!pip')
    assert file_lines[line - 1][column - 1:].startswith("!pip")
    line, column = file_place(LESSON, 13, 4)  # the cell's second line, in the same JSON string
    assert file_lines[line - 1][column - 1:].startswith("area(2)\\ny = (x")
    assert file_place("not json", 3) == (1, 1)
    quoted = notebook(code(['s = "a\\tb"; t = len(s)']))  # escapes take more room in the file
    line, column = file_place(quoted, 2, 12)
    assert quoted.split("\n")[line - 1][column - 1:].startswith("t = len(s)")


def test_magics_shell_lines_and_cell_magics_become_comments():
    joined = parse_notebook(notebook(
        code("%%bash\necho hi\nls"), code("%%time\nz = 1"), code("    !ls\nfiles = !ls\nlen?\n??len\nr = 7 % 2")))
    assert joined.lines[1:4] == ["#%%bash", "#echo hi", "#ls"]  # another language: all of it
    assert joined.lines[6:8] == ["#%%time", "z = 1"]  # Python under %%time stays Python
    assert joined.lines[10:] == ["#    !ls", "#files = !ls", "#len?", "#??len", "r = 7 % 2"]
    compile(joined.source, "nb", "exec")


@pytest.mark.parametrize("text, message", [
    ("{ not json", "not JSON (line 1, column 3"),
    ("[1, 2]", "the top level is a list"),
    ('{"metadata": {}}', 'it has no "cells"'),
    ('{"cells": {}}', '"cells" is an object, not a list'),
    ('{"cells": [3]}', "cell 1 is a number"),
    ('{"cells": [{"source": "x"}]}', 'cell 1 has no "cell_type"'),
    ('{"cells": [{"cell_type": "code"}]}', 'cell 1 (code) has no "source"'),
    ('{"cells": [{"cell_type": "code", "source": [1]}]}', '"source" is a list, not text or a list of text'),
    ("[" * 100_000, "nested too deeply"),
])
def test_a_malformed_notebook_says_why_in_one_line(tmp_path, text, message):
    path = tmp_path / "bad.ipynb"
    path.write_text(text)
    with pytest.raises(SourceError) as error:
        read_source(path)
    assert message in str(error.value) and str(error.value).startswith("bad.ipynb: ")
    assert "\n" not in str(error.value)
    with pytest.raises(SourceError):
        Documents().get(path)


def test_source_as_text_or_list_and_nbformat_3_with_worksheets():
    v3 = json.dumps({"nbformat": 3, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "heading", "level": 2, "source": ["Setup"]},
        {"cell_type": "code", "language": "python", "prompt_number": 4, "input": ["import os\n", "os.sep"],
         "outputs": []},
    ]}]})
    joined = parse_notebook(v3)
    assert joined.lines == ["# ## Setup", "", "# ── cell 2 · In [4] ──", "import os", "os.sep"]
    assert file_place(v3, 5, 0)[0] == 1  # json.dumps without indent: all on line 1
    same = parse_notebook(notebook(code("a = 1\nb = 2\n"))).lines
    assert same == parse_notebook(notebook(code(["a = 1\n", "b = 2\n"]))).lines == ["# ── cell 1 · In [ ] ──",
                                                                                   "a = 1", "b = 2"]


def test_a_notebook_is_a_document_highlighted_as_python_with_dimmed_prose(tmp_path):
    path = tmp_path / "lesson.ipynb"
    path.write_text(LESSON)
    document = Documents().get(path)
    assert document.lines == JOINED and document.notebook is not None
    assert document.closed == {0}
    assert document.tokens[0] == [(PROSE, "# # Lesson 4")]
    assert "Keyword" in str(document.tokens[7][0][0])  # `def`: pygments' Python lexer, not plain text
    assert read_source(path) == "\n".join(JOINED) + "\n"


def test_a_10_mb_notebook_of_outputs_opens_fast(tmp_path):
    big_output = {"output_type": "display_data", "metadata": {},
                  "data": {"image/png": "iVBORw0KGgo" * 20_000, "text/plain": ["<Figure>"]}}
    cells = [code(["import math\n", f"v{i} = math.sqrt({i})"], count=i, outputs=[big_output]) for i in range(50)]
    path = tmp_path / "big.ipynb"
    path.write_text(notebook(*cells))
    assert path.stat().st_size > 10_000_000
    started = time.perf_counter()
    document = Documents().get(path)
    took = time.perf_counter() - started
    assert len(document.lines) == 50 * 4 - 1
    assert took < 5  # a generous bound for a loaded 2-core box; measured ~0.1 s (bench, not a budget)


# ---- notebooks in the symbol index, the tags file and the imports ----------------------------------

def test_a_notebooks_definitions_are_indexed_at_the_lines_of_its_joined_view(tmp_path):
    from l4tui.code.index import build_index, imported_packages

    (tmp_path / "lesson.ipynb").write_text(LESSON)
    (tmp_path / "broken.ipynb").write_text('{"cells": [{"cell_type": "code"}]}')
    (tmp_path / "util.py").write_text("def add_tax(price):\n    return price\n")
    skipped = []
    index = build_index([tmp_path], cache_dir=False, processes=1, skipped=skipped)
    [area] = index.find("area")
    assert area.path == tmp_path / "lesson.ipynb" and area.kind == "function"
    assert JOINED[area.line - 1] == "def area(r):"  # the line the Code pane shows and jumps to
    assert [s.name for s in index.symbols_in(tmp_path / "lesson.ipynb")] == ["area", "x", "y", "total"]  # the outline
    assert [(path, why) for path, why in skipped] == [(str(tmp_path / "broken.ipynb"), 'cell 1 (code) has no "source"')]
    # Its imports count, read from the cells (the project's packages are found from them).
    assert imported_packages([tmp_path / "lesson.ipynb"]) == ["util"]


def test_the_tags_file_leaves_notebooks_out(tmp_path):
    """vim opens a notebook as its JSON, where the joined view's lines and text are not."""
    from l4tui.code.index import build_index
    from l4tui.code.tags import read_tags, write_tags

    (tmp_path / "lesson.ipynb").write_text(LESSON)
    (tmp_path / "util.py").write_text("def add_tax(price):\n    return price\n")
    index = build_index([tmp_path], cache_dir=False, processes=1)
    assert write_tags(index, tmp_path / "tags") == 1
    assert [s.name for s in read_tags(tmp_path / "tags")] == ["add_tax"]
