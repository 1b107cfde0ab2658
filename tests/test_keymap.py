"""The user's keymap file, read without the app: where it is, what it holds, what is wrong with it."""

import pytest

from l4tui.keymap import Keymap, config_path, drop_unknown_ids, read_keymap
from l4tui.ui.key_names import is_key


def write(tmp_path, text: str | bytes):
    path = tmp_path / "config.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_the_file_is_under_xdg_config_home_else_dot_config(tmp_path):
    assert config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "l4tui" / "config.toml"
    home = config_path({"HOME": str(tmp_path)}).parent.parent
    for environ in ({}, {"XDG_CONFIG_HOME": ""}, {"XDG_CONFIG_HOME": "relative/dir"}):  # the spec: ignore those
        assert config_path(environ).parent.parent.name == ".config"
    assert home.name == ".config"


def test_the_test_suite_never_reads_the_users_own_config():
    import os

    assert config_path() == config_path({"XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"]})
    assert ".config" not in str(config_path())


def test_no_file_is_no_keymap_and_no_problem(tmp_path):
    assert read_keymap(tmp_path / "config.toml", is_key) == Keymap()


def test_good_entries_are_kept_with_their_keys(tmp_path):
    path = write(tmp_path, '[keymap]\n"app.quit" = "ctrl+x"\n"app.help" = "f10, question_mark"\n'
                           '[other]\nsomething = 1\n')
    assert read_keymap(path, is_key) == Keymap({"app.quit": "ctrl+x", "app.help": "f10,question_mark"}, [])


@pytest.mark.parametrize("entry, says", [
    ('"app.quit" = 3', "app.quit = 3 is not a key string"),
    ('"app.quit" = ["ctrl+x"]', "is not a key string"),
    ('"app.quit" = ""', "is not a key string"),
    ('"app.quit" = "ctrl+xx"', "app.quit: 'ctrl+xx' is not a key name"),
    ('"app.quit" = "ctrl+x,hyperspace"', "'hyperspace' is not a key name"),
    ('"app.quit" = "plus_sign"', "'plus_sign' is not a key name"),  # Textual calls `+` plus
])
def test_a_bad_entry_is_one_line_and_the_others_stay(tmp_path, entry, says):
    path = write(tmp_path, f'[keymap]\n{entry}\n"app.help" = "f10"\n')
    keymap = read_keymap(path, is_key)
    assert keymap.keys == {"app.help": "f10"}
    assert len(keymap.problems) == 1 and says in keymap.problems[0] and "\n" not in keymap.problems[0]


@pytest.mark.parametrize("content, says", [
    ('[keymap\n"app.quit" = "ctrl+x"\n', "is not valid TOML (Expected ']'"),
    (b'[keymap]\n"app.quit" = "\xff"\n', "is not UTF-8"),
    ('keymap = "ctrl+x"\n', "keymap is not a table"),
    ("#" * 1_000_001, "is larger than"),
])
def test_a_broken_file_is_ignored_whole_with_one_line(tmp_path, content, says):
    path = write(tmp_path, content)
    keymap = read_keymap(path, is_key)
    assert keymap.keys == {}
    assert len(keymap.problems) == 1 and says in keymap.problems[0] and str(path) in keymap.problems[0]


def test_a_folder_or_a_fifo_in_its_place_is_not_read(tmp_path):
    import os

    folder = tmp_path / "config.toml"
    folder.mkdir()
    assert "is not a file" in read_keymap(folder, is_key).problems[0]
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)  # reading it would block the app's start for ever
    assert "is not a file" in read_keymap(fifo, is_key).problems[0]


def test_an_unreadable_file_says_why(tmp_path):
    path = tmp_path / "loop.toml"
    path.symlink_to(path)  # a link to itself: open() fails even for root
    problems = read_keymap(path, is_key).problems
    assert len(problems) == 1 and "can't be read" in problems[0]


def test_ids_that_name_no_binding_are_dropped_with_a_line_each():
    keymap = drop_unknown_ids(Keymap({"app.quit": "ctrl+x", "app.qiut": "ctrl+y"}, ["earlier"]), {"app.quit"})
    assert keymap.keys == {"app.quit": "ctrl+x"}
    assert keymap.problems[0] == "earlier" and "no key has the id 'app.qiut'" in keymap.problems[1]
