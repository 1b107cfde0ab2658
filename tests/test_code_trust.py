"""The Code pane can be trusted: a torn jedi cache never breaks a look-up, a look-up never spins
forever nor offers another file's names, every key typed is honoured in order (bursts from a
paste, a slow SSH link or tmux), and `l4tui goto` / `refs` / `tags` say what is wrong with a
path in one line (issue 17, items 6, 7 and 10)."""

import os
import pickle
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from textual import events
from textual.widgets import Static

from conftest import REPO, wait_until
from l4tui.code import jedi_cache
from l4tui.code.location import Location
from l4tui.code.navigator import Navigator
from l4tui.ui.app import L4App
from l4tui.ui.code_pane import CodePane
from l4tui.ui.code_view import CodeView
from l4tui.ui.picker import PickerScreen

COLLAB = REPO / "models" / "collab.py"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private HOME and cache: the user's own ~/.cache is never touched."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.delenv("L4TUI_CACHE", raising=False)
    return home


@pytest.fixture
def workspace(tmp_path):
    """A workspace whose main.py calls a function of helper.py: jedi reads helper.py from disk
    (and pickles its tree), a file no earlier test has put in jedi's memory."""
    folder = tmp_path / "ws"
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "__init__.py").write_text("")
    (folder / "models" / "helper.py").write_text("def helper(x):\n    return x\n")
    (folder / "models" / "main.py").write_text("from .helper import helper\n\nhelper(1)\n")
    return folder


def l4tui(*args, cwd, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "l4tui", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def tear_every_pickle(root: Path) -> list[Path]:
    """Truncate every pickle under `root`, as a quit mid-write leaves one (the issue saw a 3.1 MB
    file cut short)."""
    torn = []
    for pickled in root.rglob("*.pkl"):
        data = pickled.read_bytes()
        pickled.write_bytes(data[: len(data) // 2])
        torn.append(pickled)
    return torn


def status(app) -> str:
    return str(app.query_one("#code-status", Static).render())


# ---- item 6: the jedi cache --------------------------------------------------------------------

def test_goto_survives_a_torn_cache_file_and_rebuilds_it(home, workspace):
    first = l4tui("goto", "models/main.py:3:1", cwd=workspace)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith("models/helper.py:1:5")
    cache = home / ".cache" / "l4tui" / "jedi"
    assert list(cache.rglob("*.pkl")), "jedi's pickles go to l4tui's own cache folder"
    assert not (home / ".cache" / "jedi").exists(), "the editor's shared ~/.cache/jedi is left alone"

    torn = tear_every_pickle(cache)
    again = l4tui("goto", "models/main.py:3:1", cwd=workspace)
    assert again.returncode == 0, again.stderr
    assert "Error" not in again.stderr and "Traceback" not in again.stderr
    assert again.stdout.strip().endswith("models/helper.py:1:5")
    for pickled in torn:
        assert pickled.with_name(pickled.name + ".torn").exists(), "the torn file is set aside"
        with open(pickled, "rb") as f:
            pickle.load(f)  # and a whole one written in its place


def test_a_torn_file_in_jedis_own_cache_folder_does_not_matter(home, workspace):
    """What the issue's machine had: a truncated pickle in ~/.cache/jedi."""
    env = {"XDG_CACHE_HOME": ""}  # jedi's default, ~/.cache/jedi, would be the one read
    import jedi

    plain = subprocess.run([sys.executable, "-c", "import jedi, sys; s = jedi.Script(path=sys.argv[1]);"
                            " s.goto(3, 0, follow_imports=True)", str(workspace / "models" / "main.py")],
                           cwd=workspace / "models", capture_output=True, text=True, env={**os.environ, **env})
    assert plain.returncode == 0, plain.stderr
    assert tear_every_pickle(home / ".cache" / "jedi"), jedi.__version__
    result = l4tui("goto", "models/main.py:3:1", cwd=workspace, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("models/helper.py:1:5")


def test_a_write_cut_short_leaves_the_old_pickle_whole(home, tmp_path):
    import parso.cache as parso_cache

    jedi_cache.install()
    source = tmp_path / "m.py"
    source.write_text("x = 1\n")
    target = Path(parso_cache._get_hashed_path("grammar", str(source), cache_path=jedi_cache.cache_dir()))
    jedi_cache._save_atomically("grammar", str(source), parso_cache._NodeCacheItem("old", []),
                                cache_path=jedi_cache.cache_dir())

    class Quits:
        def __reduce__(self):
            raise KeyboardInterrupt  # what quitting does to a thread that is mid-write

    with pytest.raises(KeyboardInterrupt):
        jedi_cache._save_atomically("grammar", str(source), parso_cache._NodeCacheItem(Quits(), []),
                                    cache_path=jedi_cache.cache_dir())
    with open(target, "rb") as f:
        assert pickle.load(f).node == "old"
    assert [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_quitting_while_jedi_warms_never_leaves_a_torn_pickle(home):
    """The issue's start-and-quit cycles: a process that ends mid-warm (os._exit, as the
    interpreter kills its daemon threads) leaves only whole pickles."""
    script = ("import os, sys, threading, time; from pathlib import Path;"
              "from l4tui.code.navigator import Navigator;"
              "n = Navigator(Path(sys.argv[1])); n.warm(('torch', 'torch.nn', 'torch.nn.functional'));"
              "time.sleep(float(sys.argv[2])); os._exit(0)")
    for delay in (0.8, 1.6, 2.4):
        subprocess.run([sys.executable, "-c", script, str(REPO), str(delay)], check=True, timeout=60)
    cache = home / ".cache" / "l4tui" / "jedi"
    pickles = list(cache.rglob("*.pkl"))
    assert pickles
    for pickled in pickles:
        with open(pickled, "rb") as f:
            pickle.load(f)


async def test_ctrl_bracket_works_over_a_torn_cache(home, workspace, runs_dir):
    assert l4tui("goto", "models/main.py:3:1", cwd=workspace).returncode == 0
    assert tear_every_pickle(home / ".cache" / "l4tui" / "jedi")
    app = L4App(runs_dir=runs_dir, workspace=workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(CodeView)
        app.query_one(CodePane).open_location(Location(workspace / "models" / "main.py", 3, 0))
        assert await wait_until(pilot, lambda: view.path == workspace / "models" / "main.py")
        await pilot.press("ctrl+right_square_bracket")
        assert await wait_until(pilot, lambda: view.path == workspace / "models" / "helper.py"), status(app)
        assert view.cursor_line == 0


async def test_a_failed_look_up_says_so_and_offers_no_other_files_names(runs_dir, monkeypatch):
    """Ctrl-] on nn.Embedding when jedi fails: a message, never a chooser of every `Embedding`
    (the issue saw five, led by models/tabular.py:27)."""
    def broken(self, *args):
        raise EOFError("Ran out of input")

    monkeypatch.setattr(Navigator, "_goto", broken)
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(CodeView)
        assert await wait_until(pilot, lambda: view.path == COLLAB)
        line = next(i for i, text in enumerate(view.lines) if "nn.Embedding(n_users" in text)
        view.move_to(line, view.lines[line].index("nn.Embedding") + 4)
        await pilot.press("ctrl+right_square_bracket")
        assert await wait_until(pilot, lambda: "looking up" not in status(app), timeout=10)
        assert "Embedding" in status(app) and "Ran out of input" in status(app)
        assert not isinstance(app.screen, PickerScreen)
        assert view.path == COLLAB


async def test_a_look_up_that_hangs_ends_with_a_message(runs_dir, monkeypatch):
    import l4tui.ui.code_pane as code_pane

    release = threading.Event()

    def hangs(self, *args):
        release.wait(30)
        return []

    monkeypatch.setattr(Navigator, "_goto", hangs)
    monkeypatch.setattr(code_pane, "LOOKUP_TIMEOUT_S", 1.0)
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            view = app.query_one(CodeView)
            assert await wait_until(pilot, lambda: view.path == COLLAB)
            line = next(i for i, text in enumerate(view.lines) if "return sigmoid_range" in text)
            view.move_to(line, view.lines[line].index("sigmoid_range"))
            started = time.monotonic()
            await pilot.press("ctrl+right_square_bracket")
            assert await wait_until(pilot, lambda: "looking up" not in status(app), timeout=10)
            assert time.monotonic() - started < 5
            assert "sigmoid_range" in status(app) and "took" in status(app)
            assert not isinstance(app.screen, PickerScreen)
    finally:
        release.set()  # the jedi thread is the process's: free it for the next test


async def test_the_by_name_fallback_keeps_to_the_qualifier(runs_dir, monkeypatch):
    """When jedi finds nothing for nn.Embedding, the index may only offer an Embedding that can
    be `nn`'s (torch/nn/...), not models/tabular.py's own class Embedding."""
    monkeypatch.setattr(Navigator, "_goto", lambda self, *args: [])
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(CodeView)
        pane = app.query_one(CodePane)
        assert await wait_until(pilot, lambda: view.path == COLLAB)
        assert await wait_until(pilot, lambda: pane.index.done(), timeout=120)
        line = next(i for i, text in enumerate(view.lines) if "nn.Embedding(n_users" in text)
        view.move_to(line, view.lines[line].index("nn.Embedding") + 4)
        await pilot.press("ctrl+right_square_bracket")
        assert await wait_until(pilot, lambda: "looking up" not in status(app), timeout=30)
        await pilot.pause(0.3)
        places = ([item.location.path for item in app.screen.items] if isinstance(app.screen, PickerScreen)
                  else [view.path])
        assert places and all("nn" in path.parts for path in places), places


# ---- item 10: paths given to goto, refs and tags ------------------------------------------------

@pytest.mark.parametrize("command", ["goto", "refs"])
def test_goto_and_refs_on_a_bad_path_say_so_in_one_line(tmp_path, command):
    (tmp_path / "loop.py").symlink_to(tmp_path / "loop.py")
    (tmp_path / "a.py").symlink_to(tmp_path / "b.py")
    (tmp_path / "b.py").symlink_to(tmp_path / "a.py")
    (tmp_path / "folder.py").mkdir()
    cases = {"loop.py": "symbolic link loop", "a.py": "symbolic link loop", "missing.py": "does not exist",
             "folder.py": "is a folder"}
    for name, words in cases.items():
        result = l4tui(command, f"{name}:1:1", cwd=tmp_path)
        assert result.returncode != 0, name
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0] and name in lines[0], result.stderr


def test_goto_on_an_unreadable_file_says_so(tmp_path, monkeypatch, capsys):
    from l4tui import cli

    target = tmp_path / "secret.py"
    target.write_text("x = 1\n")
    real = Path.read_bytes

    def denied(self):
        if self == target:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    assert cli.main(["goto", f"{target}:1:1"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "permission denied" in err[0] and "secret.py" in err[0]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file whatever its mode")
def test_goto_on_a_mode_000_file_says_so(tmp_path):
    target = tmp_path / "secret.py"
    target.write_text("x = 1\n")
    target.chmod(0)
    result = l4tui("goto", "secret.py:1:1", cwd=tmp_path)
    assert result.returncode != 0 and "permission denied" in result.stderr


def test_tags_lists_the_files_it_skipped_and_why(tmp_path, monkeypatch, capsys):
    from l4tui.code import index as index_module
    from l4tui.code.tags import tags_main

    models = tmp_path / "models"
    models.mkdir()
    (models / "good.py").write_text("def good():\n    pass\n")
    (models / "secret.py").write_text("def secret():\n    pass\n")
    (models / "loop.py").symlink_to(models / "loop.py")
    (models / "broken.py").symlink_to(models / "nowhere.py")
    (models / "blob.py").write_bytes(b"def x():\0\0\0 pass\n")
    (models / "elsewhere").symlink_to(REPO / "models")
    real_open = open

    def guarded(path, *args, **kwargs):
        if str(path).endswith("secret.py"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(index_module, "open", guarded, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("L4TUI_CACHE", str(tmp_path / "cache"))
    assert tags_main([], None) == 0
    err = capsys.readouterr().err
    expected = {"secret.py": "permission denied", "loop.py": "symbolic link loop", "broken.py": "broken link",
                "blob.py": "binary", "elsewhere": "link to a folder"}
    for name, why in expected.items():
        line = next((line for line in err.splitlines() if line.endswith(why) or why in line and name in line), "")
        assert name in line and why in line, (name, err)
    assert "wrote 1 tags from 1 file to tags (5 skipped" in err
    assert [line.split("\t")[0] for line in (tmp_path / "tags").read_text().splitlines()
            if not line.startswith("!")] == ["good"]
    # Skipped files are not cached as empty: once readable, the next run indexes them.
    monkeypatch.setattr(index_module, "open", real_open, raising=False)
    assert tags_main([], None) == 0
    assert "secret" in (tmp_path / "tags").read_text()


def test_tags_on_a_path_that_loops_says_so(tmp_path, monkeypatch):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    result = l4tui("tags", "loop", cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip() == "l4tui: error: loop: a symbolic link loop"
