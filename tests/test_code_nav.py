from pathlib import Path

from conftest import REPO
from l4tui.code.location import Location
from l4tui.code.navigator import Navigator
from l4tui.code.source import SourceError, read_source, token_lines
from l4tui.code.tagstack import TagStack

import pytest

COLLAB = REPO / "models" / "collab.py"


def position_of(text: str, needle: str, offset: int = 0) -> tuple[int, int]:
    """(line from 1, column from 0) of `needle` in the collab model's source."""
    for number, line in enumerate(COLLAB.read_text().splitlines(), 1):
        if needle in line:
            return number, line.index(needle) + offset
    raise AssertionError(needle)


@pytest.fixture(scope="module")
def navigator():
    nav = Navigator(REPO)
    yield nav
    nav.close()


def goto(navigator, needle, offset=0):
    line, column = position_of(COLLAB.read_text(), needle, offset)
    return navigator.goto(COLLAB.read_text(), COLLAB, line, column).result(timeout=60)


def test_goto_into_torch(navigator):
    [definition] = goto(navigator, "nn.Embedding(n_users", offset=4)
    assert definition.location.path.parts[-4:] == ("torch", "nn", "modules", "sparse.py")
    line = definition.location.path.read_text().splitlines()[definition.location.line - 1]
    assert line.startswith("class Embedding(")
    [module] = goto(navigator, "nn.Module", offset=4)
    assert module.location.path.name == "module.py" and module.name == "Module"


def test_goto_inside_the_workspace(navigator):
    [definition] = goto(navigator, "return sigmoid_range", offset=8)
    assert definition.location == Location(COLLAB, position_of("", "def sigmoid_range")[0], 4)


def test_stub_definitions_say_so(navigator):
    definitions = goto(navigator, "torch.sigmoid", offset=7)
    assert definitions and definitions[0].is_stub


def test_tag_stack_pops_in_order_and_drops_newer_entries_on_a_new_jump():
    a, b, c, d = (Location(Path("f.py"), n) for n in (1, 2, 3, 4))
    tags = TagStack()
    tags.push("x", a, b)
    tags.push("y", b, c)
    assert tags.pop().origin == b
    tags.push("z", b, d)  # from the middle: the entry for "y" is gone
    assert [e.name for e in tags.entries()] == ["x", "z"]
    assert tags.pop().origin == b and tags.pop().origin == a
    assert tags.pop() is None


def test_source_refuses_binary_and_non_utf8(tmp_path):
    (tmp_path / "b.bin").write_bytes(b"\x00\x01\x02")
    (tmp_path / "l1.py").write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    with pytest.raises(SourceError, match="binary"):
        read_source(tmp_path / "b.bin")
    with pytest.raises(SourceError, match="not UTF-8"):
        read_source(tmp_path / "l1.py")
    with pytest.raises(SourceError, match="does not exist"):
        read_source(tmp_path / "nope.py")


def test_token_lines_match_source_lines():
    source = COLLAB.read_text()
    lines = token_lines(source, "collab.py")
    assert len(lines) == len(source.splitlines())
    assert "".join(text for _, text in lines[0]) == source.splitlines()[0]


def test_a_script_is_reused_while_the_text_is_unchanged(navigator):
    source = COLLAB.read_text()
    line, column = position_of(source, "nn.Embedding(n_users", offset=4)
    navigator.goto(source, COLLAB, line, column).result(timeout=60)
    script = navigator._scripts[(str(COLLAB), source)]
    navigator.goto(source, COLLAB, line, column).result(timeout=60)
    assert navigator._scripts[(str(COLLAB), source)] is script
    edited = source + "\n# edited\n"
    navigator.goto(edited, COLLAB, line, column).result(timeout=60)
    assert (str(COLLAB), source) not in navigator._scripts  # one Script per file


def test_references_include_the_definition_and_the_uses(navigator):
    source = COLLAB.read_text()
    line, column = position_of(source, "def sigmoid_range", offset=4)
    references = navigator.references(source, COLLAB, line, column).result(timeout=60)
    assert [r.is_definition for r in references].count(True) == 1
    uses = [r for r in references if not r.is_definition]
    assert uses and all("sigmoid_range" in r.text for r in uses)
    assert all(r.location.path == COLLAB for r in references)


def test_help_gives_signature_and_docstring(navigator):
    source = COLLAB.read_text()
    line, column = position_of(source, "nn.Embedding(n_users", offset=4)
    help = navigator.help(source, COLLAB, line, column).result(timeout=60)
    assert help.name == "Embedding" and help.kind == "class"
    assert help.signatures and help.signatures[0].startswith("Embedding(num_embeddings")
    assert "lookup table" in help.docstring


def test_warming_looks_each_dotted_name_up_once_code_only():
    from l4tui.code.navigator import names_to_warm

    source = 'import torch\n"""torch.sigmoid in a docstring"""\n# x.relu in a comment\ny = torch.sigmoid(x.relu)\n'
    positions = names_to_warm(source)
    lines = source.splitlines()
    names = [lines[line - 1][column:].split("(")[0].split(")")[0] for line, column in positions]
    assert positions.count((4, 10)) == 1  # `sigmoid` of torch.sigmoid on line 4, not the docstring's
    assert (2, 3) not in positions and (3, 4) not in positions
    assert "torch" in names and "relu" in " ".join(names)
    broken = "def f(:\n    torch.sigmoid\n"  # doesn't tokenize: every identifier is taken
    assert (2, 10) in names_to_warm(broken)


def test_warm_file_makes_the_first_jump_fast(navigator):
    source = COLLAB.read_text()
    targets = navigator.warm_file(source, COLLAB).result(timeout=120)
    assert {path.name for path in targets} >= {"sparse.py", "module.py", "_VariableFunctions.pyi"}
    line, column = position_of(source, "torch.sigmoid", offset=7)
    import time

    start = time.perf_counter()
    [definition] = navigator.goto(source, COLLAB, line, column).result(timeout=60)
    assert definition.is_stub and time.perf_counter() - start < 0.5  # seconds when cold


def test_a_stub_with_a_python_twin_points_at_it(tmp_path):
    from l4tui.code.navigator import stub_to_source

    (tmp_path / "m.pyi").write_text("def f(x: int) -> int: ...\n")
    (tmp_path / "m.py").write_text("import os\n\n\ndef f(x):\n    return x\n")
    assert stub_to_source(tmp_path / "m.pyi", "f") == Location(tmp_path / "m.py", 4, 4)
    assert stub_to_source(tmp_path / "m.pyi", "g") is None
    (tmp_path / "c.pyi").write_text("def f(x: int) -> int: ...\n")
    assert stub_to_source(tmp_path / "c.pyi", "f") is None  # compiled: nothing beside it


def test_parse_place():
    from l4tui.code.location import parse_place

    assert parse_place("a/b.py:12:3") == Location(Path("a/b.py"), 12, 2)
    assert parse_place("a/b.py:12") == Location(Path("a/b.py"), 12, 0)
    assert parse_place("a/b.py") == Location(Path("a/b.py"), 1, 0)
    assert parse_place("c:/x.py:4:1") == Location(Path("c:/x.py"), 4, 0)
    with pytest.raises(ValueError, match="LINE:COLUMN"):
        parse_place("a/b.py:12", need_column=True)
    with pytest.raises(ValueError, match="from 1"):
        parse_place("a/b.py:0:1")


@pytest.mark.parametrize("editor, expected", [
    ("vim", ["vim", "+call cursor(12, 5)", "/p/my file.py"]),
    ("nvim -u NONE", ["nvim", "-u", "NONE", "+call cursor(12, 5)", "/p/my file.py"]),
    ("vi", ["vi", "+12", "/p/my file.py"]),
    ("emacsclient -t", ["emacsclient", "-t", "+12:5", "/p/my file.py"]),
    ("nano", ["nano", "+12", "/p/my file.py"]),
    ("code --wait", ["code", "--wait", "-g", "/p/my file.py:12:5"]),
    ("/opt/bin/subl", ["/opt/bin/subl", "/p/my file.py:12:5"]),
    ("ed", ["ed", "/p/my file.py"]),
])
def test_editor_commands(editor, expected):
    from l4tui.code.editor import editor_command, editor_from_environment

    words = editor_from_environment({"EDITOR": editor})
    assert editor_command(words, Path("/p/my file.py"), 12, 5) == expected


def test_visual_wins_over_editor_and_vi_is_the_fallback():
    from l4tui.code.editor import editor_from_environment

    assert editor_from_environment({"VISUAL": "nvim", "EDITOR": "nano"}) == ["nvim"]
    assert editor_from_environment({"EDITOR": "  "}) == ["vi"]
    assert editor_from_environment({}) == ["vi"]


def test_documents_are_kept_until_the_file_changes_and_big_ones_highlight_later(tmp_path, monkeypatch):
    import os

    from l4tui.code import documents as documents_module
    from l4tui.code.documents import Documents, split_lines

    small = tmp_path / "small.py"
    small.write_text("def f(x):\n    return x\n")
    docs = Documents(max_lines=10)
    first = docs.get(small)
    assert first.highlighted and [fold.name for fold in first.folds] == ["f"]
    assert docs.get(small) is first  # nothing read again
    small.write_text("def g(x):\n    return x\n\n")
    os.utime(small, ns=(first.stamp[0] + 10**9, first.stamp[0] + 10**9))
    second = docs.get(small)
    assert second is not first and second.folds[0].name == "g"

    monkeypatch.setattr(documents_module, "HIGHLIGHT_INLINE_LINES", 5)
    big = tmp_path / "big.py"
    big.write_text("x = 1\n" * 8)
    document = docs.get(big)
    assert not document.highlighted and len(document.lines) == 8
    docs.highlight(document)
    assert document.highlighted and len(document.tokens) == 8
    assert big in docs and small not in docs  # 8 + 3 lines is over the budget of 10: the oldest went

    assert split_lines("a\x0cb\r\nc\n") == ["a\x0cb", "c"]  # a form feed is no new line


def test_looking_into_torch_does_not_import_it():
    """jedi warms up on `import torch` and follows torch.sigmoid to its stub without importing
    torch into the app (its import holds the GIL for 100+ ms: keys wait). In a fresh process,
    since this one may have imported torch already."""
    import subprocess
    import sys

    program = f"""
import sys
from pathlib import Path
from l4tui.code.navigator import Navigator
nav = Navigator(Path({str(REPO)!r}))
nav.warm().result(timeout=120)
source = Path({str(COLLAB)!r}).read_text()
line = next(n for n, text in enumerate(source.splitlines(), 1) if "torch.sigmoid" in text)
column = source.splitlines()[line - 1].index("torch.sigmoid") + 7
definitions = nav.goto(source, Path({str(COLLAB)!r}), line, column).result(timeout=60)
print(definitions[0].location.path.suffix, "torch" in sys.modules)
nav.close()
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == [".pyi", "False"], done.stderr[-2000:]
