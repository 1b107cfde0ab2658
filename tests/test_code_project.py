"""The project is where the user is: the workspace rule, the project's listing (.gitignore,
environments, bad folders), the ranking of the user's own files, `:lesson`, and the app opened
on a project's main.py."""

import os
import sys
from pathlib import Path

import pytest

from conftest import REPO, wait_until
from l4tui.code.ex_commands import parse_ex_command
from l4tui.code.fuzzy import fuzzy_rank
from l4tui.code.gitignore import decide, parse_rules
from l4tui.code.index import OWN_BONUS, build_index, project_roots
from l4tui.code.workspace import ProjectFilter, lesson_file, list_workspace
from l4tui.paths import project_root, workspace_root


def make(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def a_project(root: Path) -> Path:
    """A user's project: git, a sibling module, a package, a src/ layout, an ignored folder,
    a virtualenv, caches and runs."""
    return make(root, {
        ".git/HEAD": "ref: refs/heads/main\n",
        ".gitignore": "# build output\nbuild/\n*.log\n/data\n!keep.log\ndocs/**/draft.md\n",
        "pyproject.toml": "[project]\nname = 'proj'\n",
        "main.py": "import torch\nfrom util import add_tax, Cart\n\nprint(add_tax(1), Cart())\n",
        "util.py": "def add_tax(price):\n    return price * 1.2\n\n\nclass Cart:\n    pass\n",
        "pkg/__init__.py": "",
        "pkg/models.py": "class Net:\n    pass\n",
        "src/lib/__init__.py": "",
        "src/lib/core.py": "def core_util():\n    pass\n",
        "build/gen.py": "x = 1\n",
        "data/big.csv": "a,b\n",
        "sub/data/kept.py": "y = 2\n",  # /data is anchored: only the top one is ignored
        "app.log": "log\n",
        "keep.log": "kept\n",
        "docs/a/draft.md": "draft\n",
        "docs/index.md": "docs\n",
        "env/pyvenv.cfg": "home = /usr/bin\n",
        "env/lib/python3/site-packages/torch_fake.py": "x = 1\n",
        "runs/r1/run.json": "{}\n",
        "node_modules/x/index.js": "\n",
        "pkg/__pycache__/models.cpython-312.pyc": "\n",
        ".hidden/secret.py": "\n",
    })


def names(files, root):
    return [p.relative_to(root).as_posix() for p in files]


# ---- the workspace rule ---------------------------------------------------------------------

def test_the_workspace_is_the_project_of_the_file_or_folder_opened(tmp_path):
    project = a_project(tmp_path / "proj")
    assert workspace_root(project / "main.py") == project
    assert workspace_root(project / "src" / "lib" / "core.py") == project
    assert workspace_root(project / "src" / "lib") == project
    assert workspace_root(project) == project
    assert workspace_root(project / "no-such-file.py") == project  # `l4tui new.py` in the project


def test_each_marker_makes_a_project_and_the_nearest_wins(tmp_path):
    for marker in ("pyproject.toml", "setup.cfg", "setup.py", ".git"):
        root = tmp_path / marker.strip(".")
        make(root, {marker if marker != ".git" else ".git/HEAD": "", "a/b/c.py": ""})
        assert project_root(root / "a" / "b") == root, marker
    inner = make(tmp_path / "outer" / "inner", {"pyproject.toml": "", "m.py": ""})
    make(tmp_path / "outer", {".git/HEAD": ""})
    assert workspace_root(inner / "m.py") == inner


def test_without_a_project_the_files_folder_or_the_folder_itself(tmp_path):
    loose = make(tmp_path / "loose", {"script.py": "", "notes/readme.md": ""})
    assert workspace_root(loose / "script.py") == loose
    assert workspace_root(loose / "notes") == loose / "notes"


def test_the_current_folder_is_the_default(tmp_path, monkeypatch):
    project = a_project(tmp_path / "proj")
    monkeypatch.chdir(project / "pkg")
    assert workspace_root() == project
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    assert workspace_root() == empty  # no project, no Python: the folder itself; the lesson stays beside it


def test_the_checkout_is_its_own_project_with_its_models(monkeypatch):
    monkeypatch.chdir(REPO / "models")
    assert workspace_root() == REPO
    assert (workspace_root() / "models" / "collab.py").is_file()  # the Model pane's <workspace>/models/


def test_a_home_kept_in_git_is_not_every_scripts_project(tmp_path, monkeypatch):
    home = make(tmp_path / "home", {".git/HEAD": "", "code/loose/s.py": ""})
    monkeypatch.setenv("HOME", str(home))
    assert workspace_root(home / "code" / "loose" / "s.py") == home / "code" / "loose"
    assert workspace_root(home) == home  # opened there on purpose: the home is the project


def test_a_link_loop_gets_its_folder_not_a_traceback(tmp_path):
    loop = tmp_path / "loop.py"
    loop.symlink_to(loop)
    assert workspace_root(loop) == tmp_path


# ---- .gitignore -----------------------------------------------------------------------------

@pytest.mark.parametrize("pattern, path, is_folder, ignored", [
    ("*.log", "a.log", False, True),
    ("*.log", "deep/er/a.log", False, True),
    ("*.log", "a.logx", False, None),
    ("build/", "build", True, True),
    ("build/", "build", False, None),  # a file called build is not the folder
    ("/data", "data", True, True),
    ("/data", "sub/data", True, None),
    ("docs/*.md", "docs/a.md", False, True),
    ("docs/*.md", "docs/x/a.md", False, None),
    ("docs/**/draft.md", "docs/x/y/draft.md", False, True),
    ("docs/**/draft.md", "docs/draft.md", False, True),
    ("**/tmp", "a/b/tmp", True, True),
    ("out/**", "out/x/y.py", False, True),
    ("file?.py", "file1.py", False, True),
    ("[ab].py", "b.py", False, True),
    ("[!ab].py", "b.py", False, None),
    ("\\#hash", "#hash", False, True),
])
def test_gitignore_patterns(pattern, path, is_folder, ignored):
    assert decide(parse_rules(pattern), path, is_folder) is ignored


def test_the_last_matching_line_wins_and_comments_are_skipped():
    rules = parse_rules("# a comment\n\n*.log\n!keep.log\n")
    assert decide(rules, "a.log", False) is True
    assert decide(rules, "keep.log", False) is False
    assert len(rules) == 2


def test_a_deeper_gitignore_decides_first(tmp_path):
    make(tmp_path, {".gitignore": "*.csv\n", "sub/.gitignore": "!wanted.csv\n", "sub/wanted.csv": "",
                    "sub/other.csv": "", ".git/info/exclude": "secret.txt\n", "secret.txt": ""})
    rules = ProjectFilter(tmp_path)
    assert rules.ignored("sub/wanted.csv", False) is False
    assert rules.ignored("sub/other.csv", False) is True
    assert rules.ignored("secret.txt", False) is True  # .git/info/exclude counts too


# ---- the listing ----------------------------------------------------------------------------

def test_the_listing_is_the_users_files_only(tmp_path):
    project = a_project(tmp_path / "proj")
    found = names(list_workspace(project), project)
    assert found == ["keep.log", "main.py", "pyproject.toml", "util.py", "docs/index.md", "pkg/__init__.py",
                     "pkg/models.py", "src/lib/__init__.py", "src/lib/core.py", "sub/data/kept.py"]
    for left_out in ("build/gen.py", "data/big.csv", "app.log", "docs/a/draft.md", "runs/r1/run.json",
                     "node_modules/x/index.js", ".hidden/secret.py", ".gitignore"):
        assert left_out not in found, left_out
    assert not any(name.startswith("env/") or name.endswith(".pyc") for name in found)


def test_a_project_that_is_itself_a_virtualenv_lists_its_code_not_the_environment(tmp_path):
    project = make(tmp_path / "venvproj", {"pyvenv.cfg": "home = /usr\n", "lib/python3/site-packages/x.py": "",
                                           "bin/python": "", "app.py": "", "mylib/lib/thing.py": ""})
    assert names(list_workspace(project), project) == ["app.py", "pyvenv.cfg", "mylib/lib/thing.py"]


def test_link_loops_linked_folders_and_unreadable_folders_are_left_out_with_a_reason(tmp_path):
    project = make(tmp_path / "proj", {"a.py": "", "pkg/b.py": "", "locked/c.py": ""})
    (project / "loop.py").symlink_to(project / "loop.py")
    (project / "again").symlink_to(project)  # a folder linking to its own project: never followed
    os.chmod(project / "locked", 0)
    try:
        skipped: list = []
        found = names(list_workspace(project, skipped=skipped), project)
        reasons = {Path(path).name: why for path, why in skipped}
        assert reasons["loop.py"] == "a symbolic link loop"
        assert "again/a.py" not in found and "loop.py" not in found
        if os.access(project / "locked", os.R_OK):  # root reads anything: nothing to leave out there
            assert found == ["a.py", "locked/c.py", "pkg/b.py"]
        else:
            assert found == ["a.py", "pkg/b.py"]
            assert "permission denied" in reasons["locked"]
    finally:
        os.chmod(project / "locked", 0o755)


def test_the_listing_stops_at_its_cap_and_reports_progress(tmp_path):
    make(tmp_path, {f"m{i:04d}.py": "" for i in range(2500)})
    counts: list[int] = []
    into: list = []
    assert list_workspace(tmp_path, most=2100, progress=counts.append, into=into) is into
    assert len(into) == 2100 and counts == [1000, 2000]


# ---- indexing and ranking -------------------------------------------------------------------

def test_the_index_covers_the_project_and_ranks_its_names_first(tmp_path):
    project = a_project(tmp_path / "proj")
    make(tmp_path / "site", {"torchish/__init__.py": "def add_tax():\n    pass\n\n\ndef utils():\n    pass\n"})
    sources = [p for p in list_workspace(project) if p.suffix == ".py"]
    # The environment's root first: without a preference its definitions come first.
    index = build_index([tmp_path / "site" / "torchish", project], cache_dir=False, processes=1,
                        listings={project: sources})
    paths = {p.relative_to(tmp_path).as_posix() for p in index.files()}
    assert "proj/src/lib/core.py" in paths and "proj/build/gen.py" not in paths
    assert not any("env/" in p for p in paths)
    assert index.search("add_tax")[0].path.parent.name == "torchish"
    assert index.search("util")[0].name == "utils"  # a prefix, and shorter
    index.prefer(project)
    assert index.search("add_tax")[0].path == project / "util.py"  # the same name: the project's first
    assert index.search("util")[0].name == "core_util"  # the project's name ranks above a better one
    assert [s.name for s in index.search("util")][:2] == ["core_util", "utils"]


def test_a_package_in_the_projects_own_venv_is_the_environments(tmp_path, monkeypatch):
    project = make(tmp_path / "proj", {"pyproject.toml": "", "main.py": "import envpkg\nimport mine\n",
                                       "mine.py": "", ".venv/pyvenv.cfg": "",
                                       ".venv/site/envpkg/__init__.py": "def f():\n    pass\n"})
    monkeypatch.syspath_prepend(str(project / ".venv" / "site"))
    monkeypatch.syspath_prepend(str(project))
    sources = list_workspace(project)
    roots = project_roots(project, [p for p in sources if p.suffix == ".py"])
    assert roots[0] == project
    assert project / ".venv" / "site" / "envpkg" in roots  # inside the folder, outside the listing
    assert project / "mine.py" not in roots  # the project's own, indexed with it


def test_the_users_files_rank_above_the_environments_in_the_file_finder():
    candidates = [("torch/utils/hooks.py", False), ("torch/utils/data.py", False), ("src/pkg/util.py", True)]
    ranked = fuzzy_rank("util", candidates, key=lambda c: c[0], bonus=lambda c: OWN_BONUS if c[1] else 0.0)
    assert ranked[0] == ("src/pkg/util.py", True)
    # ... and what only the environment matches is still found.
    ranked = fuzzy_rank("nn/mod/sparse", [("torch/nn/modules/sparse.py", False), *candidates],
                        key=lambda c: c[0], bonus=lambda c: OWN_BONUS if c[1] else 0.0)
    assert ranked == [("torch/nn/modules/sparse.py", False)]


# ---- :lesson --------------------------------------------------------------------------------

def test_lesson_command_names_a_bundled_model(tmp_path):
    assert parse_ex_command("lesson", tmp_path, tmp_path).action == "lesson"
    assert parse_ex_command("lesson tabular", tmp_path, tmp_path).argument == "tabular"
    bundled = tmp_path / "bundled"
    make(bundled, {"models/tabular.py": ""})
    edit = parse_ex_command("e models/tabular.py", tmp_path / "proj", tmp_path / "cwd", bundled)
    assert edit.argument == str(bundled / "models" / "tabular.py")  # neither the project nor the cwd has one
    lesson = REPO / "models"
    assert lesson_file(lesson) == lesson / "collab.py"
    assert lesson_file(lesson, "tabular.py") == lesson / "tabular.py"
    for bad in ("nope", "../pyproject", ".hidden"):
        assert lesson_file(lesson, bad) is None


# ---- the app, opened on a project's main.py ------------------------------------------------

async def test_the_app_opened_on_a_projects_main_shows_the_project(tmp_path, runs_dir, monkeypatch):
    from l4tui.code.location import Location
    from l4tui.ui.app import L4App
    from l4tui.ui.code_pane import LESSON_LABEL, CodePane, ProjectTree
    from l4tui.ui.code_view import CodeView
    from l4tui.ui.picker import PickerScreen

    project = a_project(tmp_path / "proj")
    (project / "again").symlink_to(project)  # a loop, if the tree followed linked folders
    monkeypatch.chdir(tmp_path)  # started from elsewhere: `l4tui proj/main.py`
    app = L4App(runs_dir=runs_dir, workspace=workspace_root(project / "main.py"),
                open_at=Location(project / "main.py", 2, 0))
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(CodeView)
        pane = app.query_one(CodePane)
        tree = app.query_one(ProjectTree)
        assert await wait_until(pilot, lambda: view.path == project / "main.py")
        labels = lambda: [str(child.label) for child in tree.root.children]  # noqa: E731
        assert await wait_until(pilot, lambda: "util.py" in labels(), timeout=10), labels()
        assert labels()[0] == LESSON_LABEL
        assert {"main.py", "util.py", "pkg", "src", "sub", "docs"} <= set(labels())
        for hidden in ("build", "data", "env", "runs", "node_modules", "app.log", ".git", "again"):
            assert hidden not in labels(), hidden

        assert await wait_until(pilot, lambda: pane.listing_done, timeout=30)
        progress = app.query_one("#code-progress")
        assert await wait_until(pilot, lambda: pane.index is not None and pane.index.done() and not progress.display, timeout=60)
        await pilot.press("ctrl+p")
        assert await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.press(*"util")
        labels = lambda: [item.label for item in app.screen.items]  # noqa: E731
        assert await wait_until(pilot, lambda: labels()[:1] == ["util.py"], timeout=10), labels()
        assert any(label.startswith("torch/utils/") for label in labels()), labels()  # torch is there, below
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: view.path == project / "util.py", timeout=10), view.path

        await pilot.press("colon", *"lesson", "enter")
        assert await wait_until(pilot, lambda: view.path is not None and view.path.name == "collab.py"
                                and view.path.parent == pane.lesson_dir, timeout=10)
        assert "lesson/collab.py" in str(app.query_one("#code-status").render())


def test_l4tui_with_a_file_or_folder_opens_its_project(tmp_path, monkeypatch):
    """The CLI gives the app the project of what it is given, wherever it was started from."""
    import l4tui.cli as cli
    import l4tui.ui.app as app_module

    project = a_project(tmp_path / "proj")
    monkeypatch.chdir(tmp_path)
    opened = []
    monkeypatch.setattr(app_module, "run_app", lambda app: opened.append(app) or 0)
    assert cli.main([f"{project / 'src' / 'lib' / 'core.py'}:1"]) == 0
    assert cli.main([str(project / "pkg")]) == 0
    assert [app.workspace for app in opened] == [project, project]
    assert opened[0].open_at.path == project / "src" / "lib" / "core.py"


def test_the_symbol_finder_ranks_own_and_lesson_code_then_public_then_private(tmp_path):
    """`s` ranked torch/testing/_internal's definitions above the user's own and the lesson's."""
    project = make(tmp_path / "proj", {"main.py": "def embed_users():\n    pass\n",
                                       "tests/test_main.py": "def test_embed_users_once():\n    pass\n"})
    lesson = make(tmp_path / "lesson", {"collab.py": "class EmbeddingDotBias:\n    pass\n"})
    # The environment inside the project, a venv of its own: still the environment's.
    site = make(project / "venv" / "lib" / "site-packages" / "torchish", {
        "testing/_internal/common.py": "def embed_users_test():\n    pass\n\n\nclass EmbeddingDotBiasTest:\n    pass\n",
        "nn/modules/sparse.py": "class Embedding:\n    pass\n\n\ndef _embedding_impl():\n    pass\n",
        "ao/nn/qat/modules/embedding_ops.py": "class Embedding:\n    pass\n",
        "_dynamo/embed.py": "def embedding_dot():\n    pass\n"})
    sources = [p for p in list_workspace(project) if p.suffix == ".py"]  # the app's listing leaves venv/ out
    index = build_index([site, lesson, project], cache_dir=False, processes=1, listings={project: sources})
    index.prefer(project, lesson)

    def where(query):
        return [(s.name, "env" if "site-packages" in s.path.parts else s.path.relative_to(tmp_path).parts[0])
                for s in index.search(query)]

    assert where("EmbeddingDotBias")[0] == ("EmbeddingDotBias", "lesson")  # the lesson's model first
    assert where("embed_users")[0] == ("embed_users", "proj")
    # The project's tests after its code (ranked as the environment's public names).
    assert where("embedus")[:2] == [("embed_users", "proj"), ("test_embed_users_once", "proj")]
    found = where("embed")
    assert found.index(("Embedding", "env")) < found.index(("embedding_dot", "env"))  # public before _dynamo
    assert found[-1][0] in ("_embedding_impl", "embedding_dot", "embed_users_test", "EmbeddingDotBiasTest")
    # One name in two places: the shallower, public path first.
    assert [s.path.parts[-4:] for s in index.search("Embedding") if s.name == "Embedding"][0] == \
        ("torchish", "nn", "modules", "sparse.py")
