from pathlib import Path

from conftest import REPO, l4tui

from l4tui import __version__


def test_version_and_help():
    assert l4tui("--version").stdout.strip() == f"l4tui {__version__}"
    help_text = l4tui("--help").stdout
    for command in ("train", "runs", "summary", "data"):
        assert command in help_text


def test_unknown_subcommand_is_a_clear_error():
    result = l4tui("frobnicate")
    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_to_open_that_is_not_there_says_so(tmp_path):
    """`l4tui FILE[:LINE]` that can't be opened: one line naming why, not argparse's "invalid choice"."""
    (tmp_path / "use.py").write_text("x = 1\n")
    for place, says in (("nosuch.py", "nosuch.py: no such file or folder"),
                        ("use.py:0", "lines and columns count from 1, got 'use.py:0'"),
                        ("sub/dir/", "sub/dir: no such file or folder")):
        done = l4tui(place, cwd=tmp_path)
        assert done.returncode == 2 and done.stderr.startswith(f"l4tui: error: {says}"), (place, done.stderr)
        assert "invalid choice" not in done.stderr
    typo = l4tui("trian", cwd=tmp_path)  # a mistyped command still lists the commands
    assert typo.returncode == 2 and "invalid choice: 'trian'" in typo.stderr


def test_summary_prints_the_layer_table_and_total():
    out = l4tui("summary", "collab").stdout.splitlines()
    assert out[0].split()[:4] == ["Layer", "(type)", "Output", "shape"]
    row = next(line for line in out if "u_weight" in line).split()
    assert row == ["u_weight:", "Embedding(944,", "50)", "[2,", "50]", "47,200", "yes", "35.2%"]  # no layer groups
    assert out[-1] == "total parameters: 133,977"


def test_summary_sizes_come_from_the_options():
    out = l4tui("summary", "collab", "--n-users", "600", "--n-items", "900", "--n-factors", "10").stdout
    assert out.splitlines()[-1] == f"total parameters: {600 * 10 + 900 * 10 + 600 + 900:,}"
    out = l4tui("summary", "tabular", "--cardinalities", "10,17,8", "--n-cont", "2", "--n-out", "1",
                "--layers", "20,10").stdout
    # embeddings 10x6 + 17x8 + 8x5, bn_cont 2x2, Linear(21,20)+BN, Linear(20,10)+BN, Linear(10,1)
    expected = 60 + 136 + 40 + 4 + (21 * 20 + 40) + (20 * 10 + 20) + (10 + 1)
    assert out.splitlines()[-1] == f"total parameters: {expected:,}"
    small = l4tui("summary", "lm", "--preset", "small", "--vocab-size", "1000").stdout
    assert "Embedding(1000, 64" in small  # the small preset the text recipes train (l4tui/presets.py)
    # The AWD-LSTM's layer groups, as the Model pane shows them: one per LSTM, then embedding and decoder.
    group_of = {line.split()[0]: line.split()[-1] for line in small.splitlines() if line.startswith("    ")}
    assert group_of["decoder:"] == "3" and "layer groups: 4" in small


def test_summary_rejects_unknown_models_and_bad_sizes():
    result = l4tui("summary", "transformer")
    assert result.returncode == 2 and "unknown model 'transformer'" in result.stderr
    assert "collab-nn" in result.stderr
    result = l4tui("summary", "tabular", "--layers", "200,x")
    assert result.returncode == 2 and "expected numbers separated by commas" in result.stderr
    result = l4tui("summary", "collab", "--n-users", "0")
    assert result.returncode == 2 and "n-users must be at least 1" in result.stderr


def test_data_show_on_the_sample_and_on_bad_files(tmp_path):
    out = l4tui("data", "show").stdout
    assert "users    600" in out and "items    900" in out
    bad = tmp_path / "u.data"
    bad.write_text("user,item,rating\n1,2,3\n")
    result = l4tui("data", "show", str(bad))
    assert result.returncode == 2
    assert "expected 4 tab-separated columns" in result.stderr and "Traceback" not in result.stderr
    result = l4tui("data", "show", str(tmp_path / "missing"))
    assert result.returncode == 2 and "no such file or folder" in result.stderr
    code = tmp_path / "main.py"
    code.write_text("import torch\n")
    result = l4tui("data", "show", str(code))  # was: "a CSV l4tui does not recognise"
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "main.py: is a Python file, not a dataset" in result.stderr and "l4tui data list" in result.stderr


def test_train_refuses_bad_data_and_bad_options(tmp_path, runs_dir):
    bad = tmp_path / "u.data"
    bad.write_bytes(b"\x00\x00binary")
    result = l4tui("train", "collab", "--data", str(bad))
    assert result.returncode == 2 and "binary" in result.stderr and "Traceback" not in result.stderr
    result = l4tui("train", "collab", "--epochs", "0")
    assert result.returncode == 2 and "epochs must be at least 1" in result.stderr
    assert not runs_dir.exists() or not any(runs_dir.iterdir())  # nothing half-made is left behind


def test_runs_with_no_runs_and_unknown_run(runs_dir):
    assert "no runs in" in l4tui("runs").stdout
    result = l4tui("runs", "stop", "nope")
    assert result.returncode == 2 and "no run 'nope'" in result.stderr


def test_tokenize_prints_one_line_of_tokens_per_text(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("Hello World, I'm HERE.\nIt was sooo good<br />Yes\n")
    lines = l4tui("tokenize", str(path)).stdout.splitlines()
    assert lines == ["xxbos xxmaj hello xxmaj world , xxmaj i 'm xxup here .",
                     "xxbos xxmaj it was s xxrep 3 o good \\n xxmaj yes"]
    from_stdin = l4tui("tokenize", input="Hello World, I'm HERE.\n").stdout
    assert from_stdin.splitlines() == lines[:1]
    csv_lines = l4tui("tokenize", "--csv", str(REPO / "datasets" / "imdb-sample" / "texts.csv")).stdout.splitlines()
    assert len(csv_lines) == 1000 and all(line.startswith("xxbos ") for line in csv_lines)
    result = l4tui("tokenize", "--csv", str(REPO / "datasets" / "imdb-sample" / "texts.csv"), "--column", "body")
    assert result.returncode == 2 and "no column 'body'" in result.stderr


def test_train_options_must_fit_the_family(runs_dir):
    result = l4tui("train", "lm", "--n-factors", "3")
    assert result.returncode == 2 and "--n-factors does not apply to lm" in result.stderr
    result = l4tui("train", "classifier", "--encoder", "nope")
    assert result.returncode == 2 and "no run 'nope'" in result.stderr
    result = l4tui("train", "tabular", "--data", "nowhere.csv")
    assert result.returncode == 2 and "no such file or folder" in result.stderr


def test_train_schedule_options(runs_dir):
    result = l4tui("train", "collab", "--pct-start", "2")
    assert result.returncode == 2 and "pct_start must be between 0 and 1" in result.stderr
    result = l4tui("train", "collab", "--moms", "0.9,x")
    assert result.returncode == 2 and "expected numbers separated by commas" in result.stderr


def test_refs_of_a_file_in_no_project_look_in_the_current_folder(tmp_path):
    """No .git or pyproject.toml: `l4tui refs pkg/core.py:...` from the folder above finds the uses
    in ./use.py too, as the app opened there does (it looked in pkg/ alone)."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "core.py").write_text("def area(r):\n    return r\n")
    (tmp_path / "use.py").write_text("from pkg.core import area\n\narea(2)\n")
    result = l4tui("refs", "pkg/core.py:1:5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [line.split(": ")[0] for line in result.stdout.splitlines()] == [
        f"{tmp_path / 'pkg' / 'core.py'}:1:5", f"{tmp_path / 'use.py'}:1:22", f"{tmp_path / 'use.py'}:3:1"]


def test_goto_and_refs_print_places_for_scripts(tmp_path):
    collab = REPO / "models" / "collab.py"
    lines = collab.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "nn.Embedding(n_users" in text)
    column = lines[line - 1].index("nn.Embedding") + 4 + 1
    result = l4tui("goto", f"{collab}:{line}:{column}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    path, found_line, found_column = result.stdout.strip().rsplit(":", 2)
    assert path.endswith("torch/nn/modules/sparse.py")
    assert Path(path).read_text().splitlines()[int(found_line) - 1][int(found_column) - 1:].startswith("Embedding")

    define = next(i for i, text in enumerate(lines, 1) if "def sigmoid_range" in text)
    result = l4tui("refs", f"{collab}:{define}:5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    places = [line.split(": ", 1)[0] for line in result.stdout.splitlines()]
    assert f"{collab}:{define}:5" in places and len(places) >= 2

    result = l4tui("goto", f"{collab}:{len(lines) + 5}:1", cwd=tmp_path)
    assert result.returncode == 2 and "past the end" in result.stderr
    result = l4tui("goto", f"{collab}:3", cwd=tmp_path)
    assert result.returncode == 2 and "PATH:LINE:COLUMN" in result.stderr


def test_goto_and_refs_count_lines_in_a_notebooks_joined_view(tmp_path):
    from test_code_notebook import JOINED, LESSON
    from test_code_notebook_pane import UTIL

    (tmp_path / "util.py").write_text(UTIL)
    (tmp_path / "lesson.ipynb").write_text(LESSON)
    assert JOINED[12] == "x = area(2)" and JOINED[7] == "def area(r):"
    result = l4tui("goto", "lesson.ipynb:13:5", cwd=tmp_path)  # `area`, defined in the cell before
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{tmp_path / 'lesson.ipynb'}:8:5"
    result = l4tui("goto", "lesson.ipynb:17:9", cwd=tmp_path)  # `add_tax`, from util.py beside it
    assert result.stdout.strip() == f"{tmp_path / 'util.py'}:1:5", result.stderr
    result = l4tui("refs", "lesson.ipynb:8:5", cwd=tmp_path)
    assert [line.split(": ", 1)[0] for line in result.stdout.splitlines()] == [
        f"{tmp_path / 'lesson.ipynb'}:8:5", f"{tmp_path / 'lesson.ipynb'}:13:5"]

    (tmp_path / "bad.ipynb").write_text("[1, 2]")
    result = l4tui("goto", "bad.ipynb:1:1", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "bad.ipynb: JSON, but not a notebook: the top level is a list" in result.stderr


def test_train_refuses_a_batch_larger_than_the_data_with_the_forms_check(runs_dir):
    from conftest import l4tui
    from l4tui.train import launch_form
    from l4tui.train.options import batch_size_problem

    done = l4tui("train", "collab", "--bs", "100000", "--detach")
    items = launch_form.count_training_items("collab", "bundled-ml")
    assert done.returncode == 2 and not runs_dir.exists()
    assert done.stderr.strip().splitlines() == [
        f"l4tui: error: --bs 100000: {batch_size_problem(100000, items)}; give --bs {items} or less"]
    # The launch form says the same beside its field: one check for both.
    spec = next(spec for spec in launch_form.fields_for("collab") if spec.name == "bs")
    assert launch_form.parse_field(spec, "100000", items) == (None, batch_size_problem(100000, items))
