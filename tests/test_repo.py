"""The README's test command is exactly what CI runs."""

import re

from conftest import REPO


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, re.S)
    test_command = next(b for b in blocks if "pytest" in b)
    assert test_command in (REPO / ".ci" / "run").read_text()
    assert any(b.endswith(".venv/bin/l4tui") for b in blocks)  # the run command launches the app
