"""What resolving names in the user's environment costs, beside l4tui's own interpreter.

    python bench/environment.py [--rounds 5]

Makes a small project and a virtualenv (`python -m venv --without-pip`, nothing downloaded)
whose site-packages hold a stand-in fastai and a `.pth` to l4tui's own torch, so both
environments see the same torch. For each environment, in a fresh process each round
(`python -c`), the navigator's look-up time (no UI):
- the first jump (l4tui's own: jedi in-process; a venv: jedi starts a Python of that
  environment first), a jump into the project, into fastai (venv only), into torch (nn.Embedding)
  and into torch's 30k-line stub (torch.sigmoid), each the first of its kind in that process;
- a later jump from the same unchanged file (its jedi Script kept).
p50 and max over the rounds, in ms.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CHILD = r"""
import json, os, sys, time
from pathlib import Path
sys.path[:] = [p for p in sys.path if not p.endswith("bench")]
sys.path.insert(0, sys.argv[1])
from l4tui.code.navigator import Navigator
project, env = Path(sys.argv[2]), sys.argv[3]
if env:
    os.environ["VIRTUAL_ENV"] = env
lesson = project / "lesson.py"
source = lesson.read_text()
navigator = Navigator(project)
times = {}
for name, line, column in [("first: project", 5, 9), ("fastai", 6, 10), ("nn.Embedding", 7, 4),
                           ("torch.sigmoid", 8, 7), ("later: project", 5, 9)]:
    if name == "fastai" and not env:
        continue
    start = time.perf_counter()
    found = navigator.goto(source, lesson, line, column).result()
    times[name] = (time.perf_counter() - start) * 1000
    assert found, (name, navigator.environment_label)
print(json.dumps(times))
"""

LESSON = ("from util import add_tax\nimport torch\nfrom torch import nn\n{fastai}\n"
          "total = add_tax(1)\n{call}\nnn.Embedding\ntorch.sigmoid\n")


def make(root: Path) -> tuple[Path, Path]:
    project, env = root / "shop", root / "lesson-env"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    (project / "util.py").write_text("def add_tax(x):\n    return x\n")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    site = next(env.glob("lib/python3*/site-packages"))
    (site / "fastai").mkdir()
    (site / "fastai" / "__init__.py").write_text("")
    (site / "fastai" / "collab.py").write_text("def collab_learner(dls):\n    pass\n")
    import importlib.util

    torch_site = Path(importlib.util.find_spec("torch").origin).parent.parent
    (site / "l4tui_torch.pth").write_text(f"{torch_site}\n")
    return project, env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        project, env = make(Path(name))
        for label, env_arg in (("l4tui's own", ""), ("a venv (jedi subprocess)", str(env))):
            fastai = "from fastai.collab import collab_learner" if env_arg else ""
            call = "collab_learner(None)" if env_arg else "add_tax(2)"
            (project / "lesson.py").write_text(LESSON.format(fastai=fastai, call=call))
            rounds = []
            for _ in range(args.rounds):
                done = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(project), env_arg],
                                      capture_output=True, text=True, check=True)
                rounds.append(json.loads(done.stdout))
            print(f"{label}:")
            for key in rounds[0]:
                values = [r[key] for r in rounds]
                print(f"  {key:16} p50 {statistics.median(values):7.1f} ms   max {max(values):7.1f} ms")


if __name__ == "__main__":
    main()
