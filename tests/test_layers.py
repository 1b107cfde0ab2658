"""The layers stay apart: the core never imports textual, and the app starts without torch."""

import subprocess
import sys

CORE = ["l4tui.cli", "l4tui.paths", "l4tui.modelfiles", "l4tui.data.ratings", "l4tui.runs.store",
        "l4tui.runs.events", "l4tui.train.launcher", "l4tui.train.loop", "l4tui.train.collab",
        "l4tui.train.worker", "l4tui.runs.progress", "l4tui.inspect.summary", "l4tui.code.navigator",
        "l4tui.code.tagstack", "l4tui.code.source", "l4tui.keymap"]


def modules_after_import(*names):
    code = f"import sys\nfor n in {list(names)!r}: __import__(n)\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_core_never_imports_textual():
    loaded = modules_after_import(*CORE)
    assert "l4tui.runs.store" in loaded
    assert not any(m == "textual" or m.startswith("textual.") for m in loaded)


def test_app_module_imports_neither_torch_nor_jedi_nor_pandas():
    loaded = modules_after_import("l4tui.ui.app")
    assert "l4tui.ui.app" in loaded
    assert "textual" in loaded
    for heavy in ("torch", "jedi", "pandas"):
        assert heavy not in loaded, f"{heavy} is imported at start-up"


def test_app_module_leaves_the_later_panes_and_their_numpy_and_plotext_for_after_the_first_frame():
    loaded = modules_after_import("l4tui.ui.app")
    for later in ("numpy", "plotext", "l4tui.ui.data_pane", "l4tui.ui.model_pane"):
        assert later not in loaded, f"{later} is imported before the first frame (app.py's LATER_PANES)"


def test_the_l4tui_command_opens_the_app_without_pygments_the_parser_or_the_recipes():
    """`l4tui` alone: the code's colours (pygments), the help and K screens, every command's parser
    and the training options come after the first frame (docs/startup.md)."""
    loaded = modules_after_import("l4tui.cli", "l4tui.ui.app")
    for later in ("pygments", "l4tui.ui.help_screen", "l4tui.ui.doc_screen", "l4tui.train.options",
                  "l4tui.presets"):
        assert later not in loaded, f"{later} is imported before the first frame"
