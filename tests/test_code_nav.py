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
