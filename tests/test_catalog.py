"""Finding models in a workspace's models/ folder, without running their files."""

import pytest

from conftest import REPO
from l4tui.inspect.catalog import LESSON_MODELS, Sizes, all_models, build_model, find_model


@pytest.fixture
def workspace(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    for name in ("awd_lstm.py", "tabular.py", "collab.py"):
        (models / name).write_text((REPO / "models" / name).read_text())
    return tmp_path


def test_user_models_are_found_by_reading_the_source(workspace):
    (workspace / "models" / "net.py").write_text(
        "import sys\nsys.exit('importing this file would end the process')\n\n"
        "class Net:\n    def example_input(self):\n        return None\n\nclass Helper:\n    pass\n")
    (workspace / "models" / "syntax.py").write_text("class Oops(:\n")
    (workspace / "models" / "_private.py").write_text("class Hidden:\n    def example_input(self): pass\n")
    names = [entry.name for entry in all_models(workspace)]
    assert names[:len(LESSON_MODELS)] == [e.name for e in LESSON_MODELS]
    assert names[len(LESSON_MODELS):] == ["net.Net", "syntax.?"]  # Helper has no example_input
    assert "invalid syntax" in find_model("syntax.?", workspace).title
    assert find_model("Net", workspace).name == "net.Net"  # by class name too


def test_a_broken_user_model_raises_a_plain_error(workspace):
    (workspace / "models" / "syntax.py").write_text("class Oops(:\n")
    with pytest.raises(ValueError, match="syntax.py"):
        build_model(find_model("syntax.?", workspace), Sizes(), workspace)


def test_unknown_preset_is_refused():
    with pytest.raises(ValueError, match="unknown preset"):
        build_model(find_model("collab"), Sizes(preset="huge"))
