from conftest import l4tui

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


def test_summary_prints_the_module_tree_and_total():
    out = l4tui("summary", "collab").stdout
    assert "EmbeddingDotBias" in out and "u_weight: Embedding(600, 50)" in out
    assert "Total params" in out and "76,500" in out


def test_data_show_on_the_sample_and_on_bad_files(tmp_path):
    out = l4tui("data", "show").stdout
    assert "users    600" in out and "items    900" in out
    bad = tmp_path / "u.data"
    bad.write_text("user,item,rating\n1,2,3\n")
    result = l4tui("data", "show", str(bad))
    assert result.returncode == 2
    assert "expected 4 tab-separated columns" in result.stderr and "Traceback" not in result.stderr
    result = l4tui("data", "show", str(tmp_path / "missing"))
    assert result.returncode == 2 and "No ratings file" in result.stderr


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
