"""Names resolve where the user's code runs: imports as Python would find them (the file's folder,
the project root, a src/ layout), in the user's environment ($VIRTUAL_ENV, $CONDA_PREFIX, the
project's .venv, --python, :python), with the environment named in the status line.

Everything is made here: the projects in tmp_path, and a virtualenv (`python -m venv
--without-pip`) holding packages that l4tui's own interpreter does not have."""

import importlib.machinery
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import Static

from conftest import l4tui, wait_until
from l4tui.code.environment import OWN, candidate, choose_environment, version_of
from l4tui.code.ex_commands import parse_ex_command
from l4tui.code.import_roots import import_roots
from l4tui.code.location import Location
from l4tui.code.navigator import Navigator

VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def project(tmp_path) -> Path:
    """A user's project: a sibling module, a package, a src/ layout, a relative import, a
    `models` package (a name l4tui's own checkout also has), and a file named like a standard module."""
    root = tmp_path / "shop"
    write(root / "pyproject.toml", "[project]\nname = 'shop'\n")
    write(root / "util.py", "def add_tax(x):\n    return x * 1.2\n\n\nclass Cart:\n    pass\n")
    write(root / "main.py", "from util import add_tax, Cart\n\nimport tokenize\n\n"
                            "total = add_tax(10)\ncart = Cart()\ntokenize.generate_tokens\n")
    write(root / "tokenize.py", "def generate_tokens(readline):\n    return []\n")
    write(root / "models" / "__init__.py", "")
    write(root / "models" / "util.py", "def x():\n    return 1\n")
    write(root / "models" / "main.py", "from models.util import x\nfrom .util import x as y\nx()\ny()\n")
    write(root / "models" / "types.py", "Mine = 1\n")
    write(root / "models" / "uses_types.py", "import types\ntypes.SimpleNamespace\n")
    write(root / "src" / "shoplib" / "__init__.py", "")
    write(root / "src" / "shoplib" / "core.py", "def checkout():\n    pass\n")
    write(root / "scripts" / "run.py", "from shoplib.core import checkout\nimport helper\ncheckout()\nhelper.go\n")
    write(root / "scripts" / "helper.py", "def go():\n    pass\n")
    return root


def goto(navigator: Navigator, path: Path, line: int, column: int) -> list:
    found = navigator.goto(path.read_text(), path, line, column).result(timeout=60)
    return [(d.location.path, d.location.line) for d in found if d.location]


# ---- import roots -----------------------------------------------------------------------------

def test_import_roots_are_pythons(project):
    # A loose script: its own folder first (as `python scripts/run.py`), then the project, then src/.
    assert import_roots(project / "scripts" / "run.py", project) == [project / "scripts", project, project / "src"]
    assert import_roots(project / "main.py", project) == [project, project / "src"]
    # A module of a package is imported, not run: the folder above the package, never its own
    # (its types.py must not shadow the standard library's).
    assert import_roots(project / "models" / "main.py", project) == [project, project / "src"]
    assert import_roots(project / "src" / "shoplib" / "core.py", project) == [project / "src", project]
    # Outside the workspace (torch's files): nothing of the project, only where the file lives.
    torch_file = Path(importlib.util.find_spec("torch").origin)
    assert import_roots(torch_file, project) == [torch_file.parent.parent]
    # A workspace that is itself a package folder: the folder above it.
    assert import_roots(project / "models" / "util.py", project / "models") == [project]
    assert import_roots(None, project) == [project, project / "src"]


@pytest.mark.parametrize("where, line, column, lands", [
    ("main.py", 5, 9, ("util.py", 1)),  # a sibling module (the E426)
    ("main.py", 1, 26, ("util.py", 5)),  # Cart, in the import line
    ("main.py", 7, 10, ("tokenize.py", 1)),  # the project's tokenize.py shadows the standard one, as in Python
    ("models/main.py", 3, 0, ("models/util.py", 1)),  # models.util: the project's, not l4tui's models/
    ("models/main.py", 4, 0, ("models/util.py", 1)),  # a relative import
    ("scripts/run.py", 3, 0, ("src/shoplib/core.py", 1)),  # a src/ layout
    ("scripts/run.py", 4, 8, ("scripts/helper.py", 1)),  # the script's own folder
])
def test_the_projects_imports_resolve(project, where, line, column, lands):
    navigator = Navigator(project)
    assert goto(navigator, project / where, line, column) == [(project / lands[0], lands[1])]


def test_a_package_module_named_like_the_standard_library_does_not_shadow_it(project):
    found = goto(Navigator(project), project / "models" / "uses_types.py", 2, 6)
    assert found and all(path.name == "types.pyi" or "typeshed" in str(path) or path.name == "types.py"
                         and path.parent != project / "models" for path, _ in found), found


def test_jedi_never_swaps_this_processes_sys_path(project, monkeypatch):
    """While jedi looks a module up, another thread's first import must not see the project
    first on sys.path (it would run the project's tokenize.py inside l4tui)."""
    seen = []
    original = importlib.machinery.PathFinder.find_spec

    def spy(cls, name, path=None, target=None):
        seen.append(any(p == str(project) for p in sys.path))
        return original(name, path, target)

    monkeypatch.setattr(importlib.machinery.PathFinder, "find_spec", classmethod(spy))
    navigator = Navigator(project)
    assert goto(navigator, project / "main.py", 7, 10) == [(project / "tokenize.py", 1)]
    assert seen and not any(seen)


# ---- choosing the environment -----------------------------------------------------------------

def fake_env(folder: Path, version: str = "3.99") -> Path:
    """An environment folder as a venv lays it out (bin/python and pyvenv.cfg), not runnable."""
    python = write(folder / "bin" / "python", "#!/bin/sh\nexit 1\n")
    python.chmod(0o755)
    write(folder / "pyvenv.cfg", f"home = /usr/bin\nversion = {version}.1\n")
    return folder


def test_the_environment_is_chosen_in_the_shells_order(tmp_path):
    workspace = tmp_path / "proj"
    venv, conda, local, hand = (fake_env(tmp_path / n) for n in ("venv", "conda", "proj/.venv", "hand"))
    environ = {"VIRTUAL_ENV": str(venv), "CONDA_PREFIX": str(conda)}
    assert choose_environment(workspace, hand, environ).path == hand
    assert choose_environment(workspace, hand / "bin" / "python", environ).path == hand / "bin" / "python"
    assert choose_environment(workspace, None, environ).source == "$VIRTUAL_ENV"
    assert choose_environment(workspace, None, {"CONDA_PREFIX": str(conda)}).source == "$CONDA_PREFIX"
    chosen = choose_environment(workspace, None, {})
    assert (chosen.source, chosen.label) == (".venv", "env: .venv (3.99)")
    assert choose_environment(tmp_path / "elsewhere", None, {}).label == f"env: {OWN} ({VERSION})"
    # l4tui's own, however it is named, is analysed in-process.
    assert choose_environment(workspace, sys.prefix, {}).is_own
    assert choose_environment(workspace, None, {"VIRTUAL_ENV": sys.prefix}).is_own


def test_a_bad_environment_is_said_in_one_line_and_the_next_one_used(tmp_path):
    workspace = fake_env(tmp_path / "proj" / ".venv").parent
    write(tmp_path / "empty" / "x.txt", "")
    chosen = choose_environment(workspace, tmp_path / "nope", {"VIRTUAL_ENV": str(tmp_path / "empty")})
    assert chosen.source == ".venv"
    assert chosen.problems == (f"--python {tmp_path / 'nope'}: no such file or folder",
                               f"$VIRTUAL_ENV {tmp_path / 'empty'}: not a Python environment (no bin/python in it)")
    assert candidate(tmp_path / "empty" / "x.txt", ":python")[0] is None  # a file that can't run
    assert version_of(tmp_path / "empty") == ""
    (tmp_path / "conda" / "lib" / "python3.12").mkdir(parents=True)  # conda has no pyvenv.cfg
    assert version_of(tmp_path / "conda") == "3.12"


def test_python_is_an_ex_command(tmp_path):
    assert parse_ex_command("python", tmp_path, tmp_path).action == "python"
    command = parse_ex_command("python .venv", tmp_path, tmp_path / "cwd")
    assert (command.action, command.argument) == ("python", str(tmp_path / "cwd" / ".venv"))


def test_jedi_failing_on_a_chosen_environment_falls_back_to_l4tuis_own(tmp_path, project):
    navigator = Navigator(project, fake_env(tmp_path / "broken"))  # its python exits at once
    assert navigator.environment_label == "env: broken (3.99)"
    assert goto(navigator, project / "main.py", 5, 9) == [(project / "util.py", 1)]
    assert navigator.choice.is_own and navigator.environment_label == f"env: {OWN} ({VERSION})"
    assert len(navigator.problems) == 1 and "jedi could not use it" in navigator.problems[0]


def test_a_projects_own_venv_python_is_not_run_unless_jedi_knows_it(tmp_path):
    """A cloned repository may bring a .venv/bin/python that is anything: opening the project
    must not run it (jedi's safe check); picked by hand (:python, --python), it is run."""
    project = tmp_path / "cloned"
    marker = tmp_path / "ran"
    fake_env(project / ".venv").joinpath("bin", "python").write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    main = write(project / "main.py", "import util\nutil.f\n")
    write(project / "util.py", "def f():\n    pass\n")
    navigator = Navigator(project)
    assert navigator.choice.source == ".venv" and not navigator.choice.trusted
    assert goto(navigator, main, 2, 5) == [(project / "util.py", 1)]
    assert not marker.exists()
    assert navigator.problems == [f".venv {project / '.venv'}: not a Python install jedi knows, so not run "
                                  "(`:python PATH` runs it)"]
    assert navigator.environment_label == f"env: {OWN} ({VERSION})"
    chosen, _ = candidate(project / ".venv", ":python")
    assert chosen.trusted
    navigator.set_environment(chosen).result(timeout=60)
    assert marker.exists()  # the user asked for it: jedi ran it (and it failed)


@pytest.mark.slow
def test_a_projects_real_venv_is_used(tmp_path):
    project = tmp_path / "proj"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(project / ".venv")], check=True, timeout=120)
    write(site_of(project / ".venv") / "shopkit" / "__init__.py", "def price():\n    pass\n")
    main = write(project / "main.py", "import shopkit\nshopkit.price\n")
    navigator = Navigator(project)
    assert goto(navigator, main, 2, 9) == [(site_of(project / ".venv") / "shopkit" / "__init__.py", 1)]
    assert navigator.environment_label == f"env: .venv ({VERSION})" and not navigator.problems


# ---- a real virtualenv with packages l4tui does not have --------------------------------------

FAKE_FASTAI = {
    "fastai/__init__.py": "",
    "fastai/collab.py": "from torch import nn\n\n\nclass EmbeddingDotBias(nn.Module):\n"
                        "    def __init__(self, n_factors, n_users, n_items):\n"
                        "        self.u_weight = nn.Embedding(n_users, n_factors)\n\n\n"
                        "def collab_learner(dls, n_factors=50):\n"
                        "    return EmbeddingDotBias(n_factors, 3, 4)\n",
    "shopkit/__init__.py": "from .prices import price\n",
    "shopkit/prices.py": "def price(item):\n    \"\"\"What an item costs.\"\"\"\n    return 1\n",
}
LESSON = "from fastai.collab import collab_learner\nimport shopkit\n\nlearn = collab_learner(None)\nshopkit.price\n"


@pytest.fixture(scope="module")
def user_env(tmp_path_factory) -> Path:
    """A virtualenv made here, with a fake fastai and a shopkit in its site-packages."""
    env = tmp_path_factory.mktemp("envs") / "lesson-env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, timeout=120)
    site = next(env.glob("lib/python3*/site-packages"))
    for name, text in FAKE_FASTAI.items():
        write(site / name, text)
    assert importlib.util.find_spec("shopkit") is None  # l4tui's interpreter does not have it
    return env


def site_of(env: Path) -> Path:
    return next(env.glob("lib/python3*/site-packages"))


@pytest.mark.slow
def test_names_resolve_in_the_virtualenv_and_the_lesson_walk_works(user_env, project, monkeypatch):
    monkeypatch.setenv("VIRTUAL_ENV", str(user_env))
    lesson = write(project / "lesson.py", LESSON)
    navigator = Navigator(project)
    site = site_of(user_env)
    assert goto(navigator, lesson, 4, 9) == [(site / "fastai" / "collab.py", 9)]
    assert navigator.environment_label == f"env: lesson-env ({VERSION})"
    assert goto(navigator, lesson, 5, 9) == [(site / "shopkit" / "prices.py", 1)]
    collab = site / "fastai" / "collab.py"
    assert goto(navigator, collab, 10, 12) == [(collab, 4)]  # collab_learner -> EmbeddingDotBias
    # nn.Embedding: torch is not in this environment, so jedi finds nothing there (nor does the
    # app's index, which leaves l4tui's own torch out for another environment: the app test).
    assert goto(navigator, collab, 6, 28) == []
    assert goto(navigator, project / "main.py", 5, 9) == [(project / "util.py", 1)]  # the project still
    references = navigator.references(LESSON, lesson, 1, 26).result(timeout=60)
    assert {r.location.path for r in references} == {lesson, collab}


@pytest.mark.slow
def test_a_project_inside_the_virtualenv(user_env, monkeypatch):
    monkeypatch.setenv("VIRTUAL_ENV", str(user_env))
    inside = user_env / "work"
    write(inside / "util.py", "def add_tax(x):\n    return x\n")
    main = write(inside / "main.py", "from util import add_tax\nimport shopkit\nadd_tax(1)\nshopkit.price\n")
    navigator = Navigator(inside)
    assert goto(navigator, main, 3, 0) == [(inside / "util.py", 1)]
    assert goto(navigator, main, 4, 9) == [(site_of(user_env) / "shopkit" / "prices.py", 1)]


@pytest.mark.slow
def test_goto_and_refs_from_the_shell_use_the_environment(user_env, project, monkeypatch):
    write(project / "lesson.py", LESSON)
    site = site_of(user_env)
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    done = l4tui("goto", "lesson.py:5:10", cwd=project)
    assert done.returncode == 1 and "no definition found" in done.stderr  # not in l4tui's own
    done = l4tui("goto", "--python", str(user_env), "lesson.py:5:10", cwd=project)
    assert (done.returncode, done.stdout) == (0, f"{site / 'shopkit' / 'prices.py'}:1:5\n"), done.stderr
    done = l4tui("goto", "shop/main.py:5:11", cwd=project.parent)  # from outside the project
    assert done.stdout == f"{project / 'util.py'}:1:5\n", done.stderr
    monkeypatch.setenv("VIRTUAL_ENV", str(user_env))
    done = l4tui("goto", str(project / "lesson.py") + ":4:9", cwd=project.parent)
    assert done.stdout == f"{site / 'fastai' / 'collab.py'}:9:5\n", done.stderr
    done = l4tui("refs", "lesson.py:1:27", cwd=project)
    assert f"{site / 'fastai' / 'collab.py'}:9:5: def collab_learner(dls, n_factors=50):" in done.stdout
    done = l4tui("goto", "--python", str(project / "nope"), "main.py:5:11", cwd=project)
    assert done.returncode == 0 and done.stdout == f"{project / 'util.py'}:1:5\n"
    assert done.stderr == (f"l4tui: --python {project / 'nope'}: no such file or folder; "
                           f"using env: lesson-env ({VERSION})\n")


def status(app) -> str:
    return str(app.query_one("#code-status", Static).render())


@pytest.mark.slow
async def test_ctrl_bracket_in_the_app_lands_in_the_virtualenv(user_env, project, runs_dir, monkeypatch):
    from l4tui.ui.app import L4App
    from l4tui.ui.code_view import CodeView

    monkeypatch.setenv("VIRTUAL_ENV", str(user_env))
    lesson = write(project / "lesson.py", LESSON)
    write(project / "models" / "net.py", "import torch\n")  # its models import torch: the index reads l4tui's
    collab = site_of(user_env) / "fastai" / "collab.py"
    app = L4App(runs_dir=runs_dir, workspace=project, open_at=Location(lesson, 4, 8))
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(CodeView)
        assert await wait_until(pilot, lambda: view.path == lesson)
        await pilot.pause()
        assert status(app).endswith(f"env: lesson-env ({VERSION})")
        await pilot.press("ctrl+right_square_bracket")
        assert await wait_until(pilot, lambda: view.path == collab), status(app)
        assert view.lines[view.cursor_line].startswith("def collab_learner")
        assert status(app).startswith("fastai/collab.py:9:")  # short, relative to the env's site-packages
        view.move_to(9, view.lines[9].index("EmbeddingDotBias"))
        await pilot.press("ctrl+right_square_bracket")
        assert await wait_until(pilot, lambda: view.cursor_line == 3), status(app)
        # nn.Embedding: this environment has no torch. The index (built from l4tui's own packages,
        # its torch included) is not the answer either: E426, as docs/code.md says.
        pane = app.query_one("CodePane")
        assert await wait_until(pilot, lambda: pane.index is not None and pane.index.done(), timeout=120)
        assert any("torch" in str(s.path) for s in pane.index.result().find("Embedding"))  # l4tui's own torch ...
        embedding = next(i for i, text in enumerate(view.lines) if "nn.Embedding" in text)
        view.move_to(embedding, view.lines[embedding].index("Embedding"))
        await pilot.press("ctrl+right_square_bracket")
        assert await wait_until(pilot, lambda: "E426: tag not found: Embedding" in status(app)), status(app)
        assert view.path == collab  # ... and no jump into it
        # :python switches by hand; a bad path is refused and the current one kept.
        await pilot.press("colon", *f"python {project / 'nope'}", "enter")
        assert await wait_until(pilot, lambda: "no such file" in status(app))
        assert status(app).endswith(f"still env: lesson-env ({VERSION})")
        await pilot.press("colon", *"python", "enter")
        said = f"env: lesson-env ({VERSION}) (from $VIRTUAL_ENV): {user_env}"
        assert await wait_until(pilot, lambda: status(app) == said)
        await pilot.press("colon", *f"python {sys.prefix}", "enter")
        assert await wait_until(pilot, lambda: status(app) == f"names now resolve in env: {OWN} ({VERSION})")
        await pilot.press("ctrl+o", "ctrl+o")
        assert await wait_until(pilot, lambda: view.path == lesson)
        view.move_to(4, 9)
        await pilot.press("ctrl+right_square_bracket")  # shopkit is not in l4tui's own
        assert await wait_until(pilot, lambda: "E426" in status(app) or "not found" in status(app)), status(app)


def test_l4tui_python_opens_the_app_with_that_environment(monkeypatch, project):
    from l4tui import cli

    seen = {}

    class FakeApp:
        return_code = 0

        def __init__(self, runs_dir=None, workspace=None, open_at=None, python=None):
            seen.update(open_at=open_at, python=python, workspace=workspace)

        def run(self):
            pass

    monkeypatch.setattr("l4tui.ui.app.L4App", FakeApp)
    assert cli.main(["--python", "/some/env", f"{project / 'main.py'}:5"]) == 0
    assert seen == {"open_at": Location(project / "main.py", 5, 0), "python": "/some/env", "workspace": project}
    assert cli.main(["--python=/other"]) == 0 and seen["python"] == "/other"
    # After the file, as people type it too; and with a folder.
    assert cli.main([f"{project / 'main.py'}:5", "--python", "/after"]) == 0
    assert seen == {"open_at": Location(project / "main.py", 5, 0), "python": "/after", "workspace": project}
    assert cli.main([str(project), "--python=/folder"]) == 0
    assert seen["python"] == "/folder" and seen["workspace"] == project and seen["open_at"] is None


@pytest.mark.slow
def test_the_lesson_walk_reaches_nn_embedding_in_the_users_torch(tmp_path, project, monkeypatch):
    """With torch in the user's environment too (here: a .pth pointing at l4tui's own torch, so
    nothing is downloaded), the whole walk works: collab_learner -> EmbeddingDotBias -> nn.Embedding."""
    env = tmp_path / "torch-env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, timeout=120)
    site = site_of(env)
    for name, text in FAKE_FASTAI.items():
        write(site / name, text)
    torch_site = Path(importlib.util.find_spec("torch").origin).parent.parent
    write(site / "torch_from_l4tui.pth", f"{torch_site}\n")
    monkeypatch.setenv("VIRTUAL_ENV", str(env))
    lesson = write(project / "lesson.py", LESSON)
    navigator = Navigator(project)
    collab = site / "fastai" / "collab.py"
    assert goto(navigator, lesson, 4, 9) == [(collab, 9)]
    assert goto(navigator, collab, 10, 12) == [(collab, 4)]
    found = goto(navigator, collab, 6, 28)
    assert found and found[0][0] == torch_site / "torch" / "nn" / "modules" / "sparse.py", found
    assert navigator.environment_label == f"env: torch-env ({VERSION})"


@pytest.mark.slow
async def test_a_bad_python_at_start_is_said_once_in_the_status_line(project, runs_dir):
    from l4tui.ui.app import L4App
    from l4tui.ui.code_view import CodeView

    main = project / "main.py"
    app = L4App(runs_dir=runs_dir, workspace=project, open_at=Location(main, 5, 8),
                python=str(project / "nope"))
    async with app.run_test(size=(120, 30)) as pilot:
        view = app.query_one(CodeView)
        assert await wait_until(pilot, lambda: view.path == main and "nope" in status(app))
        assert status(app) == f"--python {project / 'nope'}: no such file or folder; using env: {OWN} ({VERSION})"
        await pilot.press("j")
        assert status(app) == f"main.py:6:9  env: {OWN} ({VERSION})"
        await pilot.press("colon", *"python", "enter")
        assert await wait_until(pilot, lambda: status(app) == f"env: {OWN} ({VERSION}): {sys.executable}")


@pytest.mark.slow
def test_nor_with_a_virtualenv(user_env, project, monkeypatch):
    """In another environment jedi's swap happens in its own subprocess: never in this one."""
    seen = []
    original = importlib.machinery.PathFinder.find_spec

    def spy(cls, name, path=None, target=None):
        seen.append(any(p == str(project) for p in sys.path))
        return original(name, path, target)

    monkeypatch.setenv("VIRTUAL_ENV", str(user_env))
    monkeypatch.setattr(importlib.machinery.PathFinder, "find_spec", classmethod(spy))
    navigator = Navigator(project)
    assert goto(navigator, project / "main.py", 7, 10) == [(project / "tokenize.py", 1)]
    assert navigator.environment_label == f"env: lesson-env ({VERSION})"
    assert not any(seen) and str(project) not in sys.path
