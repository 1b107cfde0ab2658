"""The definition index, fuzzy matching and ctags files (no UI)."""

import ast
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from conftest import REPO
from l4tui.code import index as index_module
from l4tui.code.fuzzy import fuzzy_rank, fuzzy_score
from l4tui.code.index import (
    SymbolIndex, build_index, default_roots, iter_source_files, scan_rows, scan_source,
)
from l4tui.code.tags import TagsFile, find_tags_file, read_tags, tag_pattern, tags_main, write_tags

MODELS = REPO / "models"
COLLAB = MODELS / "collab.py"

SNIPPET = textwrap.dedent('''\
    """A module docstring that mentions
    def fake(x): and class Fake: which are not definitions.
    """
    import os

    LIMIT = 10
    ratio: float = 0.5
    pending: list
    LIMIT += 1
    LIMIT == 3
    os.environ = {}
    a, b = 1, 2
    settings = dict(
        name="x",
        size=3,
    )


    class Outer(Base):
        """Docstring with
        def also_fake(self):
        """
        count = 0
        label: str = "outer"
        width: int

        class Inner:
            depth = 1

            def inner_method(self, x: int = 1) -> int:
                local = x
                return local

        def method(self, a,
                   b: dict[str, int] = {},   # a comment
                   *args, **kwargs):
            def helper():
                nested_local = 1
            return helper

        async def fetch(self):
            pass

        @property
        def size(self):
            return 1


    async def main():
        value = 1


    def outer_function():
        class LocalClass:
            attr = 1
        return LocalClass
    ''')


def kinds(symbols):
    return {(s.name, s.kind, s.scope) for s in symbols}


def test_scan_finds_definitions_and_their_scopes():
    symbols = scan_source(SNIPPET, Path("snippet.py"))
    found = kinds(symbols)
    assert found == {
        ("LIMIT", "variable", ""),
        ("ratio", "variable", ""),
        ("pending", "variable", ""),
        ("settings", "variable", ""),
        ("Outer", "class", ""),
        ("count", "member", "Outer"),
        ("label", "member", "Outer"),
        ("width", "member", "Outer"),
        ("Inner", "class", "Outer"),
        ("depth", "member", "Outer.Inner"),
        ("inner_method", "method", "Outer.Inner"),
        ("method", "method", "Outer"),
        ("helper", "function", "Outer.method"),
        ("fetch", "method", "Outer"),
        ("size", "method", "Outer"),
        ("main", "function", ""),
        ("outer_function", "function", ""),
        ("LocalClass", "class", "outer_function"),
        ("attr", "member", "outer_function.LocalClass"),
    }
    by_name = {s.name: s for s in symbols}
    lines = SNIPPET.split("\n")
    for symbol in symbols:
        assert lines[symbol.line - 1] == symbol.text
        assert symbol.text[symbol.column:].startswith(symbol.name)
        assert symbol.path == Path("snippet.py")
    assert by_name["method"].signature == "(self, a, b: dict[str, int] = {}, *args, **kwargs)"
    assert by_name["inner_method"].signature == "(self, x: int = 1)"
    assert by_name["inner_method"].scope_kind == "class"
    assert by_name["inner_method"].qualified == "Outer.Inner.inner_method"
    assert by_name["helper"].scope_kind == "function"
    assert by_name["Outer"].scope_kind == "" and by_name["Outer"].signature == ""
    assert by_name["main"].text == "async def main():"


def test_scan_matches_ast_for_the_models():
    for path in sorted(MODELS.glob("*.py")):
        source = path.read_text()
        expected = set()

        def visit(node, scope, scope_kind):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    if isinstance(child, ast.ClassDef):
                        kind = "class"
                    else:
                        kind = "method" if scope_kind == "class" else "function"
                    expected.add((child.name, kind, child.lineno, scope))
                    inner = "class" if kind == "class" else "function"
                    visit(child, f"{scope}.{child.name}" if scope else child.name, inner)
                else:
                    visit(child, scope, scope_kind)

        visit(ast.parse(source), "", "")
        found = {(s.name, s.kind, s.line, s.scope) for s in scan_source(source, path)
                 if s.kind in ("class", "function", "method")}
        assert found == expected, path.name


def test_collab_model():
    symbols = scan_source(COLLAB.read_bytes(), COLLAB)
    lines = COLLAB.read_text().splitlines()
    (cls,) = [s for s in symbols if s.name == "EmbeddingDotBias"]
    assert cls.kind == "class" and lines[cls.line - 1].startswith("class EmbeddingDotBias(")
    forward = [s for s in symbols if s.name == "forward" and s.scope == "EmbeddingDotBias"]
    assert len(forward) == 1
    assert forward[0].kind == "method" and forward[0].scope_kind == "class"
    assert forward[0].line > cls.line
    assert lines[forward[0].line - 1].strip() == "def forward(self, x):"
    assert forward[0].signature == "(self, x)"


def test_scan_tolerates_bad_files():
    broken = b"class Broken(:\n    def still_found(self):\n        pass\n\ndef after(\n"
    assert {s.name for s in scan_source(broken, Path("b.py"))} == {"Broken", "still_found", "after"}
    assert scan_source(b"", Path("e.py")) == []
    assert scan_source(b"\xff\xfe\x00garbage\n\x80def ok(): pass\ndef fine(): pass\n", Path("x.py"))[-1].name == "fine"
    # CRLF, a byte-order mark and latin-1 bytes.
    crlf = "\ufeffclass A:\r\n    x = 1\r\n    def m(self):\r\n        pass\r\n".encode() + b"# caf\xe9\r\ny = 2\r\n"
    found = scan_source(crlf, Path("c.py"))
    assert [(s.name, s.kind, s.line, s.column) for s in found] == [
        ("A", "class", 1, 6), ("x", "member", 2, 4), ("m", "method", 3, 8), ("y", "variable", 6, 0),
    ]
    assert all("\r" not in s.text for s in found)
    # Tabs indent like 8 spaces.
    tabs = "class T:\n\tdef m(self):\n\t\tv = 1\n\tw = 2\nz = 3\n"
    assert kinds(scan_source(tabs, Path("t.py"))) == {
        ("T", "class", ""), ("m", "method", "T"), ("w", "member", "T"), ("z", "variable", ""),
    }


def test_scan_stubs_keeps_every_overload():
    stub = textwrap.dedent('''\
        from typing import overload
        class Tensor:
            shape: Size
            @overload
            def view(self, dtype: dtype) -> Tensor: ...
            @overload
            def view(self, *size: int) -> Tensor: ...
        def sigmoid(input: Tensor, *, out: Tensor | None = None) -> Tensor: ...
        ''')
    symbols = scan_source(stub, Path("t.pyi"))
    views = [s for s in symbols if s.name == "view"]
    assert [v.line for v in views] == [5, 7] and all(v.kind == "method" for v in views)
    assert views[1].signature == "(self, *size: int)"
    assert kinds(symbols) >= {("shape", "member", "Tensor"), ("sigmoid", "function", "")}


def test_scan_ignores_triple_quotes_inside_short_strings_and_comments():
    source = (
        "def f():\n"
        "    text = text.replace('\"\"\"', \"\'\'\'\")  # \"\"\"\n"
        "    return text\n"
        "def g():\n"
        "    pass\n"
    )
    assert [s.name for s in scan_source(source, Path("q.py"))] == ["f", "g"]


def test_continuation_at_column_zero_stays_in_its_function():
    source = 'class A:\n    def m(self):\n        log("long \\\nmessage")\n        x = 1\n    y = 2\n'
    assert kinds(scan_source(source, Path("c.py"))) == {
        ("A", "class", ""), ("m", "method", "A"), ("y", "member", "A"),
    }


# ---------------------------------------------------------------------------------------------
# Files and the index

def make_tree(root: Path) -> None:
    (root / "pkg" / "__pycache__").mkdir(parents=True)
    (root / "pkg" / "__pycache__" / "cached.py").write_text("def cached(): pass\n")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "h.py").write_text("def hidden(): pass\n")
    (root / "venv" / "lib").mkdir(parents=True)
    (root / "venv" / "lib" / "v.py").write_text("def in_venv(): pass\n")
    (root / "pkg" / "a.py").write_text("class Alpha:\n    def run(self): pass\n")
    (root / "pkg" / "b.pyi").write_text("def beta() -> int: ...\n")
    (root / "pkg" / "notes.txt").write_text("def nope(): pass\n")
    (root / "top.py").write_text("GAMMA = 3\n")


def test_iter_source_files(tmp_path):
    make_tree(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in iter_source_files(tmp_path)] == [
        "pkg/a.py", "pkg/b.pyi", "top.py",
    ]
    # A root that is itself an environment folder is walked: indexing site-packages/torch works.
    assert [p.name for p in iter_source_files(tmp_path / "venv")] == ["v.py"]
    assert list(iter_source_files(tmp_path / "top.py")) == [tmp_path / "top.py"]


def test_symbol_index(tmp_path):
    make_tree(tmp_path)
    index = build_index([tmp_path], cache_dir=False)
    assert len(index) == 4
    assert {p.name for p in index.files()} == {"a.py", "b.pyi", "top.py"}
    (run,) = index.find("run")
    assert run.qualified == "Alpha.run" and run.path == (tmp_path / "pkg" / "a.py").resolve()
    assert index.find("missing") == []
    assert [s.name for s in index.symbols_in(run.path)] == ["Alpha", "run"]
    assert index.search("alp")[0].name == "Alpha"
    assert index.search("Alpha.r")[0].qualified == "Alpha.run"
    assert index.search("") == []
    assert index.stats()["class"] == 1


def test_build_index_cache(tmp_path, monkeypatch):
    make_tree(tmp_path / "work")
    cache = tmp_path / "cache"
    first = build_index([tmp_path / "work"], cache_dir=cache)
    assert len(list(cache.iterdir())) == 1

    scanned = []
    real_scan = index_module.scan_rows

    def counting_scan(source):
        scanned.append(source)
        return real_scan(source)

    monkeypatch.setattr(index_module, "scan_rows", counting_scan)
    second = build_index([tmp_path / "work"], cache_dir=cache)
    assert scanned == []  # everything came from the cache
    assert sorted(map(repr, second)) == sorted(map(repr, first))

    # A changed file is rescanned, and only it.
    top = tmp_path / "work" / "top.py"
    top.write_text("GAMMA = 3\nDELTA = 4\n")
    stat = top.stat()
    os.utime(top, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    third = build_index([tmp_path / "work"], cache_dir=cache)
    assert len(scanned) == 1 and third.find("DELTA")

    # A corrupt cache is no cache: everything is rescanned, nothing fails.
    for path in cache.iterdir():
        path.write_bytes(b"\x00not marshal at all")
    scanned.clear()
    fourth = build_index([tmp_path / "work"], cache_dir=cache)
    assert len(scanned) == 3 and len(fourth) == 5


def test_build_index_progress_and_repeated_roots(tmp_path):
    make_tree(tmp_path)
    calls = []
    index = build_index([tmp_path, tmp_path / "pkg", tmp_path], cache_dir=False,
                        progress=lambda done, total: calls.append((done, total)))
    assert len(index.files()) == 3  # pkg/ is inside the first root: not indexed twice
    assert calls[-1] == (3, 3)


def test_worker_processes_scan_like_this_one():
    paths = [str(p) for p in sorted(MODELS.glob("*.py"))] * 3
    done = []
    rows = index_module._scan_in_workers(paths, 2, done.append)
    assert rows == [scan_rows(Path(p).read_bytes()) for p in paths]
    assert sum(done) == len(paths)


def test_default_roots_find_torch_without_importing_it():
    roots = default_roots(REPO)
    assert roots[0] == REPO / "models"
    assert any(root.name == "torch" and (root / "__init__.py").is_file() for root in roots)
    assert all(root.exists() for root in roots)


# ---------------------------------------------------------------------------------------------
# Fuzzy matching

def test_fuzzy_score():
    assert fuzzy_score("xyz", "EmbeddingDotBias") is None
    assert fuzzy_score("bde", "EmbeddingDotBias") is None  # order matters
    assert fuzzy_score("edb", "EmbeddingDotBias") > fuzzy_score("edb", "embedding_dropout_bias_x")
    assert fuzzy_score("edb", "EmbeddingDotBias") > fuzzy_score("edb", "feedback")
    assert fuzzy_score("emb", "embedding") > fuzzy_score("emb", "e_m_b")  # prefix beats scattered
    assert fuzzy_score("emb", "e_m_b") > fuzzy_score("emb", "remember")  # word starts beat inside
    assert fuzzy_score("forward", "forward") > fuzzy_score("forward", "forward_hook")
    # Smart case: an uppercase letter must match its case, a lowercase one matches both.
    assert fuzzy_score("EDB", "embedding_dropout_bias") is None
    assert fuzzy_score("EDB", "EmbeddingDotBias") is not None
    assert fuzzy_score("Emb", "EmbeddingDotBias") > fuzzy_score("emb", "EmbeddingDotBias") - 1


def test_fuzzy_rank():
    names = ["embedding_dropout_bias_x", "feedback", "EmbeddingDotBias", "unrelated", "edb_helper"]
    assert fuzzy_rank("edb", names)[:2] == ["edb_helper", "EmbeddingDotBias"]
    assert "unrelated" not in fuzzy_rank("edb", names)
    assert fuzzy_rank("", names) == []
    assert fuzzy_rank("edb", names, limit=1) == ["edb_helper"]
    # Ties go to the shorter candidate, then to the earlier one.
    assert fuzzy_rank("ab", ["abxx", "abx", "ab_y", "abz"]) == ["abx", "abz", "abxx", "ab_y"]
    # Paths, with a key function.
    files = [{"path": "models/collab.py"}, {"path": "l4tui/code/index.py"}, {"path": "models/tabular.py"}]
    assert fuzzy_rank("mcol", files, key=lambda f: f["path"])[0]["path"] == "models/collab.py"


# ---------------------------------------------------------------------------------------------
# Tags files

def test_tag_pattern_escapes_like_ctags():
    assert tag_pattern('def f(a="/\\\\"): pass') == '/^def f(a="\\/\\\\\\\\"): pass$/'
    assert tag_pattern("y = 1 # ends with $") == "/^y = 1 # ends with \\$$/"
    long_line = "x = " + "y" * 200
    assert tag_pattern(long_line) == "/^" + long_line[:96] + "/"


def write_models_tags(tmp_path) -> Path:
    index = build_index([MODELS], cache_dir=False)
    out = tmp_path / "tags"
    assert write_tags(index, out) == len(index)
    return out


def test_written_tags_are_sorted_with_headers(tmp_path):
    out = write_models_tags(tmp_path)
    raw = out.read_bytes().split(b"\n")
    assert raw[-1] == b""
    lines = raw[:-1]
    assert lines == sorted(lines)
    assert b'!_TAG_FILE_FORMAT\t2\t/extended format; --format=1 will not append ;" to lines/' in lines
    assert b"!_TAG_FILE_SORTED\t1\t/0=unsorted, 1=sorted, 2=foldcase/" in lines
    assert any(line.startswith(b"!_TAG_PROGRAM_NAME\tl4tui\t") for line in lines)
    headers = [i for i, line in enumerate(lines) if line.startswith(b"!_")]
    assert headers == list(range(len(headers)))
    line = next(line for line in lines if line.startswith(b"forward\t") and b"EmbeddingDotBias" in line)
    name, file_name, rest = line.decode().split("\t", 2)
    assert Path(file_name).is_absolute()  # models/ is not under tmp_path
    assert rest.startswith('/^    def forward(self, x):$/;"\tm\tline:')
    assert rest.endswith("\tclass:EmbeddingDotBias\tsignature:(self, x)")


def test_tags_paths_are_relative_under_the_tags_folder(tmp_path):
    shutil.copytree(MODELS, tmp_path / "models")
    index = build_index([tmp_path / "models"], cache_dir=False)
    write_tags(index, tmp_path / "tags")
    text = (tmp_path / "tags").read_text()
    assert "\tmodels/collab.py\t" in text and str(tmp_path) not in text


VIM = shutil.which("vim") or ("/usr/bin/vim" if Path("/usr/bin/vim").exists() else None)


def vim(tags: Path, *commands: str) -> None:
    args = [VIM, "-u", "NONE", "-i", "NONE", "-N", "-es", "-c", f"set tags={tags}"]
    for command in commands:
        args += ["-c", command]
    subprocess.run(args + ["-c", "qa!"], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)


@pytest.mark.skipif(VIM is None, reason="vim is not installed")
def test_vim_reads_the_tags(tmp_path):
    tags = write_models_tags(tmp_path)
    out = tmp_path / "out.txt"
    vim(tags, "tag EmbeddingDotBias",
        f'call writefile([expand("%:p") . ":" . line(".")], "{out}")')
    symbol = build_index([MODELS], cache_dir=False).find("EmbeddingDotBias")[0]
    assert out.read_text().strip() == f"{symbol.path}:{symbol.line}"

    forwards = [s for s in scan_source(COLLAB.read_text(), COLLAB)] + [
        s for p in MODELS.glob("*.py") if p != COLLAB for s in scan_source(p.read_text(), p)]
    forwards = [s for s in forwards if s.name == "forward"]
    vim(tags, f'call writefile([len(taglist("^forward$"))], "{out}")')
    assert int(out.read_text()) == len(forwards) > 1
    vim(tags, "tag forward", f'call writefile([expand("%:p") . ":" . line(".")], "{out}")')
    assert out.read_text().strip() in {f"{s.path}:{s.line}" for s in forwards}


def test_read_tags_round_trip(tmp_path):
    index = build_index([MODELS], cache_dir=False)
    out = tmp_path / "tags"
    write_tags(index, out)
    read = read_tags(out)
    assert sorted(map(repr, read)) == sorted(map(repr, index))
    tags = TagsFile(out)
    assert tags.sorted
    assert {s.qualified for s in tags.find("forward")} == {s.qualified for s in index.find("forward")}
    assert tags.find("nothing_called_this") == []


def test_read_tags_tolerates_other_writers(tmp_path):
    source = tmp_path / "src" / "m.py"
    source.parent.mkdir()
    source.write_text("import os\n\nclass K:\n    def run(self):\n        pass\n" + "x = '" + "z" * 200 + "'\n")
    (tmp_path / "tags").write_text(
        "!_TAG_FILE_SORTED\t0\t/unsorted/\n"
        "this line is malformed\n"
        "run\tsrc/m.py\t/^    def run(self):$/;\"\tkind:member\tscope:class:K\n"  # no line: field
        "K\tsrc/m.py\t3;\"\tc\n"  # a line number address
        "x\tsrc/m.py\t/^x = 'zzzz/;\"\tv\n"  # a cut pattern
        "gone\tsrc/m.py\t/^def gone():$/;\"\tf\n"  # not in the file any more
        "bad\tsrc/m.py\t/^unterminated\n"
    )
    tags = TagsFile(tmp_path / "tags")
    assert not tags.sorted
    (run,) = tags.find("run")
    assert (run.kind, run.line, run.column, run.scope, run.path) == ("method", 4, 8, "K", source)
    (k,) = tags.find("K")
    assert (k.kind, k.line, k.text) == ("class", 3, "class K:")
    (x,) = tags.find("x")
    assert x.line == 6 and x.text.endswith("z'")
    assert tags.find("gone") == [] and tags.find("bad") == []
    assert len(read_tags(tmp_path / "tags")) == 3


def test_find_tags_file(tmp_path):
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    assert find_tags_file(deep) is None or not str(find_tags_file(deep)).startswith(str(tmp_path))
    (tmp_path / "a" / "tags").write_text("")
    assert find_tags_file(deep) == tmp_path / "a" / "tags"
    (deep / "file.py").write_text("")
    assert find_tags_file(deep / "file.py") == tmp_path / "a" / "tags"
    (tmp_path / "a" / "b" / ".tags").write_text("")
    assert find_tags_file(deep) == tmp_path / "a" / "b" / ".tags"


def test_tags_main(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("L4TUI_CACHE", str(tmp_path / "cache"))
    work = tmp_path / "work"
    shutil.copytree(MODELS, work / "models")
    monkeypatch.chdir(work)
    assert tags_main([], None) == 0
    err = capsys.readouterr().err
    assert err.startswith("wrote ") and err.strip().endswith("files to tags")
    text = (work / "tags").read_text()
    assert "EmbeddingDotBias\tmodels/collab.py\t" in text

    assert tags_main(["models/collab.py"], "-") == 0
    captured = capsys.readouterr()
    assert "EmbeddingDotBias\tmodels/collab.py\t" in captured.out
    assert "TabularModel\t" not in captured.out
    assert "1 file to standard output" in captured.err

    assert tags_main(["models"], "sub.tags") == 0
    assert (work / "sub.tags").exists()

    with pytest.raises(ValueError, match="no such file or folder"):
        tags_main(["does/not/exist"], None)
    with pytest.raises(ValueError, match="is a folder"):
        tags_main(["models"], "models")
    with pytest.raises(ValueError, match="not a Python file"):
        tags_main(["tags"], "-")


def test_symbol_index_rejects_a_file_twice():
    index = SymbolIndex()
    index.add(Path("a.py"), [])
    with pytest.raises(ValueError):
        index.add(Path("a.py"), [])
