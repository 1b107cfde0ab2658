"""The wheel carries models/ and datasets/ inside the package, never as top-level packages."""

import subprocess
import sys
import zipfile

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out), str(REPO)], check=True, capture_output=True, text=True)
    [path] = out.glob("l4tui-*.whl")
    return path


def test_wheel_has_no_top_level_models_or_datasets(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert "models" not in top_level and "datasets" not in top_level
    assert "l4tui/_bundled/models/collab.py" in names
    assert "l4tui/_bundled/datasets/ml-sample/u.data" in names
    assert "l4tui/ui/app.tcss" in names
    assert "l4tui/tour/steps.toml" in names  # the guided tour's steps are data, read at run time


def test_installed_wheel_finds_its_bundled_files(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                    str(wheel)], check=True, capture_output=True)
    # Run from a folder with no models/ of its own: the model files come from the wheel.
    code = ("from l4tui.paths import default_ratings_dir, bundled_root\n"
            "from l4tui.modelfiles import model_file_path\n"
            "print(bundled_root()); print(model_file_path('collab').is_file() and "
            "model_file_path('collab').is_relative_to(bundled_root()));"
            "print((default_ratings_dir() / 'u.data').is_file())\n"
            "from l4tui.tour.steps import load_steps\n"  # the tour's code steps find the bundled models
            "print(all(s.path.is_file() for s in load_steps() if s.pane == 'code'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(target), "PATH": ""}, check=True).stdout.split()
    assert out == [str(target / "l4tui" / "_bundled"), "True", "True", "True"]
