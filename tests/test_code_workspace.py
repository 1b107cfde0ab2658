"""The code pane's plain parts: the workspace's files and short paths, and the `:` commands."""

from pathlib import Path

from l4tui.code.ex_commands import ExCommand, not_a_command, parse_ex_command
from l4tui.code.workspace import display_path, workspace_files


def make_files(root: Path, names: list[str]) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x = 1\n")


def test_workspace_files_skip_caches_runs_hidden_and_checkpoints(tmp_path):
    make_files(tmp_path, ["b.py", "a.py", "models/m.py", "notes.md", ".env", ".git/config", "runs/r/events.jsonl",
                          "__pycache__/a.cpython.pyc", "pkg/x.pyc", "ckpt/best.pt", ".hidden/y.py", "venv/z.py"])
    found = [p.relative_to(tmp_path).as_posix() for p in workspace_files(tmp_path)]
    assert found == ["a.py", "b.py", "notes.md", "models/m.py"]


def test_workspace_files_stop_at_the_cap(tmp_path):
    make_files(tmp_path, [f"f{i:03d}.py" for i in range(50)])
    assert len(workspace_files(tmp_path, most=7)) == 7
    assert workspace_files(tmp_path / "no-such-folder") == []


def test_display_path_prefers_the_workspace_then_the_longest_import_root(tmp_path):
    site = tmp_path / "env" / "site-packages"
    roots = [str(tmp_path / "env"), str(site), ""]
    assert display_path(tmp_path / "ws" / "models" / "a.py", tmp_path / "ws", roots) == "models/a.py"
    assert display_path(site / "torch" / "nn.py", tmp_path / "ws", roots) == "torch/nn.py"
    assert display_path(Path("/elsewhere/x.py"), tmp_path / "ws", roots) == "/elsewhere/x.py"


def test_a_line_number_goes_to_that_line(tmp_path):
    assert parse_ex_command("42", tmp_path, tmp_path) == ExCommand("goto_line", line=42)
    assert parse_ex_command(":7 ", tmp_path, tmp_path).line == 7


def test_aliases_name_one_action(tmp_path):
    for text, action in [("ju", "jumps"), ("fin", "find_file"), ("Tags", "find_symbol"), ("nohlsearch", "no_highlight"),
                         ("qa!", "quit"), ("wq", "quit"), ("h", "help"), ("tags", "tags")]:
        assert parse_ex_command(text, tmp_path, tmp_path).action == action, text


def test_tag_and_edit_need_an_argument(tmp_path):
    assert parse_ex_command("ts  forward ", tmp_path, tmp_path) == ExCommand("tag", "forward")
    assert parse_ex_command("tag", tmp_path, tmp_path) == ExCommand("unknown", "tag")
    assert parse_ex_command("e", tmp_path, tmp_path).action == "unknown"


def test_unknown_commands_keep_their_text_for_the_message(tmp_path):
    command = parse_ex_command("wat now", tmp_path, tmp_path)
    assert command == ExCommand("unknown", "wat now")
    assert not_a_command(command.argument) == "E492: Not an editor command: wat now"
    assert parse_ex_command("", tmp_path, tmp_path).action == "unknown"
    assert parse_ex_command("TAGS", tmp_path, tmp_path).action == "unknown"  # case matters, as in vim


def test_edit_finds_a_relative_path_in_the_workspace_else_in_the_start_folder(tmp_path):
    workspace, cwd = tmp_path / "ws", tmp_path / "cwd"
    make_files(workspace, ["models/a.py"])
    assert parse_ex_command("e models/a.py", workspace, cwd).argument == str(workspace / "models" / "a.py")
    assert parse_ex_command("edit new.py", workspace, cwd).argument == str(cwd / "new.py")
    assert parse_ex_command(f"e {tmp_path}/abs.py", workspace, cwd).argument == str(tmp_path / "abs.py")
    assert parse_ex_command("e ~/x.py", workspace, cwd).argument == str(Path.home() / "x.py")


def test_preview_lines_are_read_once_and_refused_files_are_none(tmp_path):
    import os

    from l4tui.code.source import preview_lines

    cache: dict = {}
    source = tmp_path / "a.py"
    source.write_text("def f():\n\treturn 1\n")
    assert preview_lines(source, cache) == ["def f():", "    return 1"]
    source.write_text("changed\n")
    assert preview_lines(source, cache) == ["def f():", "    return 1"]  # one finder, one read
    (tmp_path / "b.bin").write_bytes(b"\0\1\2")
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    for refused in (tmp_path / "b.bin", tmp_path / "missing.py", tmp_path, fifo):
        assert preview_lines(refused, cache) is None  # the finder says it can't read it; no wait on a pipe
