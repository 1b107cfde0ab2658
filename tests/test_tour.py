"""The guided tour: its steps file read and checked (one line per problem), where the user stopped
kept between sessions, and in the app every shipped step opening what it says."""

import json
import re
from pathlib import Path

import pytest

from conftest import l4tui, wait_until
from fake_runs import write_fake_run
from l4tui.tour.steps import (RUN_FAMILIES, StepsError, lesson_models_dir, load_steps,
                              read_position, save_position, state_path)


@pytest.fixture(autouse=True)
def state_home(tmp_path, monkeypatch):
    """The tour's place is remembered in a private state folder, never the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no keymap of the person running them
    return tmp_path / "state"


def write_steps(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "steps.toml"
    path.write_text(text, encoding="utf-8")
    return path


STEP = '[[step]]\nid = "a"\ntitle = "A"\ntext = "Some words."\n'


# ---- the steps file ------------------------------------------------------------------------------


def test_the_shipped_steps_follow_the_lesson_and_each_code_step_lands_on_its_line():
    steps = load_steps()
    assert [step.id for step in steps][:3] == ["tokens", "vocab", "language-model"]
    assert steps[-1].id == "loss"
    assert {step.pane for step in steps} == {"code", "data", "model"}
    for step in steps:
        if step.pane == "code":
            line = (lesson_models_dir() / step.file).read_text().splitlines()[step.line - 1]
            assert step.find in line
    # The families a step may start a run of are the recipes'.
    from l4tui.train.options import RECIPES
    assert set(RUN_FAMILIES) == set(RECIPES)


def test_the_shipped_steps_name_only_keys_that_exist():
    from l4tui.ui.bindings import binding_ids

    ids = binding_ids()
    named = {name for step in load_steps() for name in re.findall(r"\{([^}]*)\}", step.try_keys)}
    assert named and named <= ids, named - ids


@pytest.mark.parametrize("text, says", [
    ("[[step]\n", "not valid TOML"),
    ("", "no steps"),
    ("[other]\nx = 1\n", "unknown table 'other'"),
    (STEP + 'pane = "nowhere"\n', "step 1 (a): pane 'nowhere' is none of code, data, model"),
    (STEP, "step 1 (a): pane is missing"),
    ('[[step]]\nid = "a"\ntitle = "A"\npane = "code"\nfile = "collab.py"\n', "step 1 (a): text is missing"),
    (STEP + 'pane = "code"\nfile = "nope.py"\n', "file 'nope.py' is not one of the lesson's models"),
    (STEP + 'pane = "code"\nfile = "../paths.py"\n', "is not one of the lesson's models"),
    (STEP + 'pane = "code"\nfile = "collab.py"\nfind = "no such text anywhere"\n', "is on no line of models/collab.py"),
    (STEP + 'pane = "code"\nfile = "collab.py"\nline = 100000\n', "line must be a number from 1 to"),
    (STEP + 'pane = "model"\nmodel = "resnet"\n', "model 'resnet' is none of"),
    (STEP + 'pane = "model"\nmodel = "lm"\ntab = "weights"\n', "tab 'weights' is none of"),
    (STEP + 'pane = "model"\nmodel = "lm"\nfile = "collab.py"\n', "file does not go with pane 'model'"),
    (STEP + 'pane = "data"\nscreen = "embeddings"\n', "the embeddings screen needs a run"),
    (STEP + 'pane = "data"\ncolour = "red"\n', "unknown field 'colour'"),
    (STEP + 'pane = "data"\n' + STEP + 'pane = "data"\n', "step 2 (a): the id 'a' is used by an earlier step"),
    ('[[step]]\nid = "a"\ntitle = "A"\npane = "data"\ntext = """\n' + "word " * 200 + '\n"""\n',
     "lines at 80 columns; keep it to 6"),
    (STEP + 'pane = "data"\ntry = 3\n', "try must be a string, not int"),
])
def test_a_bad_steps_file_says_what_is_wrong_in_one_line(tmp_path, text, says):
    path = write_steps(tmp_path, text)
    with pytest.raises(StepsError) as raised:
        load_steps(path)
    message = str(raised.value)
    assert says in message and "\n" not in message and message.startswith(str(path))


def test_a_missing_or_binary_steps_file_is_one_line_too(tmp_path):
    with pytest.raises(StepsError, match="cannot read it"):
        load_steps(tmp_path / "absent.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(StepsError, match="not UTF-8"):
        load_steps(binary)


def test_a_teachers_own_steps_file_is_read(tmp_path):
    path = write_steps(tmp_path, STEP + 'pane = "code"\nfile = "collab.py"\nfind = "def sigmoid_range"\n'
                                 'try = "{app.pane_code}"\n' + STEP.replace('"a"', '"b"') + 'pane = "model"\nmodel = "lm"\n')
    first, second = load_steps(path)
    lines = (lesson_models_dir() / "collab.py").read_text().splitlines()
    assert first.file == "collab.py" and first.path == lesson_models_dir() / "collab.py"
    assert first.line == 1 + next(i for i, text in enumerate(lines) if "def sigmoid_range" in text)
    assert first.try_keys == "{app.pane_code}"  # filled in by the app, from the live bindings
    assert (second.model, second.tab) == ("lm", "layers")  # the Layers tab unless one is named


def test_where_the_user_stopped_is_kept_per_steps_file(tmp_path, state_home):
    steps = load_steps()
    assert read_position(steps) == 0
    assert save_position(steps, 5) is None
    assert state_path().parent == state_home / "l4tui"
    assert read_position(steps) == 5
    own = write_steps(tmp_path, STEP + 'pane = "data"\n' + STEP.replace('"a"', '"b"') + 'pane = "data"\n')
    own_steps = load_steps(own)
    assert read_position(own_steps, own) == 0  # another file has a place of its own
    save_position(own_steps, 1, own)
    assert (read_position(steps), read_position(own_steps, own)) == (5, 1)
    state_path().write_text("{not json")  # a damaged state file: the tour starts from the top
    assert read_position(steps) == 0
    assert save_position(steps, 2) is None and read_position(steps) == 2


def test_the_state_folder_follows_xdg():
    from l4tui.paths import user_state_dir

    assert user_state_dir({"XDG_STATE_HOME": "/srv/state"}) == Path("/srv/state/l4tui")
    home = Path("~").expanduser()
    for unset in ({}, {"XDG_STATE_HOME": ""}, {"XDG_STATE_HOME": "relative/state"}):  # the spec ignores a relative one
        assert user_state_dir(unset) == home / ".local" / "state" / "l4tui"


def test_a_place_that_cannot_be_written_is_one_line(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))  # a file where the folder should be
    problem = save_position(load_steps(), 3)
    assert problem.startswith("could not remember the tour's place in ") and "\n" not in problem
    assert read_position(load_steps()) == 0


def test_a_step_removed_from_the_file_resumes_at_the_start(tmp_path):
    own = write_steps(tmp_path, STEP + 'pane = "data"\n' + STEP.replace('"a"', '"b"') + 'pane = "data"\n')
    save_position(load_steps(own), 1, own)
    own.write_text(STEP + 'pane = "data"\n')
    assert read_position(load_steps(own), own) == 0


# ---- the command ---------------------------------------------------------------------------------


def test_tour_list_prints_the_steps_and_a_bad_file_is_one_line(tmp_path):
    listed = l4tui("tour", "--list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == len(load_steps())
    assert lines[0].startswith(" 1. Tokens") and "models/collab.py:" in listed.stdout
    bad = l4tui("tour", "--steps", str(write_steps(tmp_path, "[[step]\n")), cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "not valid TOML" in bad.stderr and "Traceback" not in bad.stderr


# ---- in the app ----------------------------------------------------------------------------------


def app_with_tour(runs_dir, **tour):
    from l4tui.ui.app import L4App

    return L4App(runs_dir=runs_dir, workspace=Path(__file__).resolve().parent.parent, tour=tour)


async def card_for(pilot, app, index):
    from l4tui.ui.tour_screen import TourCard

    assert await wait_until(pilot, lambda: isinstance(app.screen, TourCard) and app.screen.index == index
                            and app.tour.index == index and app.screen.is_mounted, timeout=60), \
        f"no card for step {index + 1}"
    return app.screen


async def first_file_shown(pilot, app) -> None:
    """The Code pane has shown its first file: an app closed before that fails in the pane's worker."""
    assert await wait_until(pilot, lambda: app.query_one("#code-view").path is not None)


def what_opened(app) -> dict:
    """Where the app is now, under the card: the pane shown, the screen under the card, the code line,
    the model and its tab."""
    from textual.widgets import TabbedContent

    under = app.screen_stack[-2] if len(app.screen_stack) > 1 else None
    seen = {"pane": app.query_one("#panes", TabbedContent).active,
            "screen": type(under).__name__ if under is not app.screen_stack[0] else ""}
    if seen["pane"] == "code":
        view = app.query_one("#code-view")
        seen["code"] = (view.path, view.cursor_line + 1) if view.path else None
    if seen["pane"] == "model":
        pane = app.query_one("#model-pane")
        seen["model"] = pane.subject.name if pane.subject is not None else None
        seen["tab"] = app.query_one("#model-tabs", TabbedContent).active
        seen["layer"] = app.query_one("ParametersTab").module_name
    if seen["pane"] == "data":
        watched = app.query_one("#data-pane").watched
        seen["run"] = watched.name if watched else None
    return seen


SCREEN_CLASSES = {"text": "TextScreen", "tabular": "TabularScreen", "spreadsheet": "SpreadsheetScreen",
                  "embeddings": "EmbeddingsScreen"}


@pytest.mark.slow
async def test_every_shipped_step_opens_what_it_says_at_80x24(runs_dir):
    """Walks the shipped tour with → at 80x24 and checks each step's pane, screen, line, model and tab.
    A finished collab run is there, so the run steps watch it instead of training one."""
    from l4tui.ui.tour_screen import TAB_IDS

    run = write_fake_run(runs_dir, "2026-01-01-collab-abcd", family="collab")
    steps = load_steps()
    app = app_with_tour(runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        for index, step in enumerate(steps):
            card = await card_for(pilot, app, index)
            assert card.query_one("#tour-title").render().plain.startswith(f"Tour {index + 1}/{len(steps)}")
            assert "{" not in str(card.query_one("#tour-try").render())  # every key named was filled in
            if step.pane == "model":
                assert await wait_until(pilot, lambda: app.tour.model_ready.is_set(), timeout=300), step.id
            if step.pane == "code":
                assert await wait_until(pilot, lambda: what_opened(app).get("code") == (step.path, step.line)), \
                    (step.id, what_opened(app))
            seen = what_opened(app)
            assert seen["pane"] == step.pane, step.id
            assert seen["screen"] == SCREEN_CLASSES.get(step.screen, ""), step.id
            if step.pane == "model":
                assert (seen["model"], seen["tab"]) == (step.model, TAB_IDS[step.tab]), step.id
                if step.layer:
                    assert await wait_until(pilot, lambda: what_opened(app)["layer"] == step.layer), step.id
            if step.run:
                assert seen["run"] == run.name, step.id
            # The card fits at 80x24 and leaves room for what it opened.
            assert card.query_one("#tour-card").outer_size.height <= 16, step.id
            await pilot.press("right")
        assert app.tour.index == len(steps) - 1  # → on the last step stays there
        assert "last step" in str(app.screen.query_one("#tour-note").render())


async def test_f6_opens_the_tour_esc_leaves_it_and_f6_comes_back_to_the_same_step(runs_dir, state_home):
    from l4tui.ui.app import L4App
    from l4tui.ui.tour_screen import TourCard

    app = L4App(runs_dir=runs_dir, workspace=Path(__file__).resolve().parent.parent)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        await pilot.press("f6")
        await card_for(pilot, app, 0)
        assert what_opened(app)["screen"] == "TextScreen"
        await pilot.press("right")
        card = await card_for(pilot, app, 1)  # the vocab step: awd_lstm.py, in the Code pane
        assert "xxunk" in str(card.query_one("#tour-text").render())
        assert await wait_until(pilot, lambda: what_opened(app).get("code") == (load_steps()[1].path,
                                                                                 load_steps()[1].line))
        await pilot.press("left")
        await card_for(pilot, app, 0)
        await pilot.press("right")
        await card_for(pilot, app, 1)
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: not isinstance(app.screen, TourCard))
        assert len(app.screen_stack) == 1
        await pilot.press("f6")
        await card_for(pilot, app, 1)
        await pilot.press("r")
        await card_for(pilot, app, 0)
        await pilot.press("right")
        await card_for(pilot, app, 1)
    saved = json.loads((state_home / "l4tui" / "tour.json").read_text())
    assert saved["positions"]["shipped"] == "vocab"
    # `l4tui tour` starts where it was left; --restart from the top.
    again = app_with_tour(runs_dir)
    async with again.run_test(size=(80, 24)) as pilot:
        await card_for(pilot, again, 1)
    fresh = app_with_tour(runs_dir, restart=True)
    async with fresh.run_test(size=(80, 24)) as pilot:
        await card_for(pilot, fresh, 0)


async def test_a_run_step_starts_a_tiny_run_when_there_is_none(runs_dir, monkeypatch, tmp_path):
    """With no run of its family, a run step starts one (its start is recorded here, not trained)."""
    started = []

    def start_training(self, family="collab", config=None):
        started.append((family, config))

    monkeypatch.setattr("l4tui.ui.data_pane.DataPane.start_training", start_training)
    own = write_steps(tmp_path, STEP + 'pane = "data"\nrun = "collab"\n')
    app = app_with_tour(runs_dir, steps=own)
    async with app.run_test(size=(80, 24)) as pilot:
        card = await card_for(pilot, app, 0)
        assert started == [("collab", {"epochs": 1})]
        assert "Starting a tiny collab run" in str(card.query_one("#tour-note").render())
        await first_file_shown(pilot, app)


async def test_a_bad_steps_file_in_the_app_is_one_notification(runs_dir, tmp_path):
    app = app_with_tour(runs_dir, steps=write_steps(tmp_path, STEP + 'pane = "moon"\n'))
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_until(pilot, lambda: any("pane 'moon'" in str(n.message) for n in app._notifications))
        assert app.tour is None and len(app.screen_stack) == 1
        await first_file_shown(pilot, app)


async def test_a_model_step_with_a_layer_the_model_lacks_says_so_on_its_card(runs_dir, tmp_path):
    own = write_steps(tmp_path, STEP + 'pane = "model"\nmodel = "collab"\ntab = "params"\nlayer = "u_wieght"\n')
    app = app_with_tour(runs_dir, steps=own)
    async with app.run_test(size=(80, 24)) as pilot:
        card = await card_for(pilot, app, 0)
        assert await wait_until(pilot, lambda: app.tour.model_ready.is_set(), timeout=120)
        assert "No layer 'u_wieght'" in str(card.query_one("#tour-note").render())
        assert what_opened(app)["tab"] == "tab-params"


async def test_the_apps_keys_work_with_a_card_up(runs_dir):
    """`?` lists the card's keys with their ids, and the panes switch under the card."""
    from textual.widgets import TabbedContent

    from l4tui.ui.help_screen import HelpScreen

    app = app_with_tour(runs_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await card_for(pilot, app, 0)
        await pilot.press("right")
        card = await card_for(pilot, app, 1)
        await pilot.press("question_mark")
        assert await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = app.screen.text()
        for expected in ("tour.next", "tour.back", "tour.leave", "tour.restart", "app.tour", "first step"):
            assert expected in text
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: app.screen is card)
        await pilot.press("3")
        assert await wait_until(pilot, lambda: app.query_one("#panes", TabbedContent).active == "model")
        assert app.screen is card


async def test_a_try_line_naming_no_key_is_refused_in_one_line(runs_dir, tmp_path):
    own = write_steps(tmp_path, STEP + 'pane = "data"\ntry = "press {data.spreadshet}"\n')
    app = app_with_tour(runs_dir, steps=own)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_until(pilot, lambda: any("{data.spreadshet}, which is no key's id" in str(n.message)
                                                   for n in app._notifications))
        assert app.tour is None and len(app.screen_stack) == 1
        await first_file_shown(pilot, app)


async def test_a_model_step_never_builds_the_workspaces_own_model_file(runs_dir, tmp_path):
    """A workspace with its own models/collab.py: the tour does not import it, and says how to."""
    workspace = tmp_path / "project"
    (workspace / "models").mkdir(parents=True)
    marker = tmp_path / "imported"
    (workspace / "models" / "collab.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nimport torch\n\n\nclass EmbeddingDotBias(torch.nn.Module):\n"
        "    def example_input(self):\n        return torch.zeros(2, 2, dtype=torch.long)\n")
    (workspace / "pyproject.toml").write_text("")
    own = write_steps(tmp_path, STEP + 'pane = "model"\nmodel = "collab"\ntab = "params"\n')
    from l4tui.ui.app import L4App

    app = L4App(runs_dir=runs_dir, workspace=workspace, tour={"steps": own})
    async with app.run_test(size=(80, 24)) as pilot:
        card = await card_for(pilot, app, 0)
        assert await wait_until(pilot, lambda: app.tour.model_ready.is_set(), timeout=60)
        assert "your models/collab.py here" in str(card.query_one("#tour-note").render())
        assert app.query_one("#model-pane").subject is None
        await first_file_shown(pilot, app)
    assert not marker.exists()


@pytest.mark.slow
async def test_a_run_step_trains_a_real_tiny_run_and_watches_it(runs_dir, tmp_path):
    from l4tui.runs.store import list_runs

    own = write_steps(tmp_path, STEP + 'pane = "data"\nrun = "collab"\n')
    app = app_with_tour(runs_dir, steps=own)
    async with app.run_test(size=(80, 24)) as pilot:
        await card_for(pilot, app, 0)
        pane = app.query_one("#data-pane")
        assert await wait_until(pilot, lambda: pane.watched is not None, timeout=60)
        assert await wait_until(pilot, lambda: [run.state for run in list_runs(runs_dir)] == ["finished"],
                                timeout=240)
        [run] = list_runs(runs_dir)
        assert (run.family, run.config["epochs"], pane.watched) == ("collab", 1, run.run_dir)
        await first_file_shown(pilot, app)


async def test_a_data_step_opens_the_embeddings_of_its_run(runs_dir, tmp_path):
    """The embeddings screen reads the run under the runs list's cursor: the step puts it there."""
    write_fake_run(runs_dir, "2026-01-01-collab-aaaa", family="collab")
    newest = write_fake_run(runs_dir, "2026-01-02-collab-bbbb", family="collab")
    write_fake_run(runs_dir, "2026-01-03-tabular-cccc", family="tabular")
    own = write_steps(tmp_path, STEP + 'pane = "data"\nrun = "collab"\nscreen = "embeddings"\n')
    app = app_with_tour(runs_dir, steps=own)
    async with app.run_test(size=(80, 24)) as pilot:
        await card_for(pilot, app, 0)
        under = app.screen_stack[-2]
        assert type(under).__name__ == "EmbeddingsScreen" and under.run_dir == newest
        assert app.query_one("#data-pane").watched == newest
        await first_file_shown(pilot, app)
