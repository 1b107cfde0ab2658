"""How a big project is listed and indexed: the Code pane's background work on a 50,000-file tree.

    .venv/bin/python bench/workspace.py [--files 50000]

Makes a project in a temporary folder (`.git`, a .gitignore, packages of small modules, an
ignored build/ folder and a virtualenv that must be skipped), then prints the time and peak
memory (tracemalloc, Python objects only) of listing it (workspace.list_workspace), indexing its
Python files cold (no cache) and warm (from the cache), and ranking the files for a query.
The budget: listing a few seconds at most, memory in tens of MB, ranking well under 100 ms.
"""

import sys
from pathlib import Path

# bench/tokenize.py would shadow the standard library's tokenize: take bench/ off the import
# path before anything else is imported, and put the repository first.
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

from l4tui.code.fuzzy import fuzzy_rank  # noqa: E402
from l4tui.code.index import build_index  # noqa: E402
from l4tui.code.workspace import display_path, list_workspace  # noqa: E402

MODULE = "import os\n\n\nclass Thing{n}:\n    size = {n}\n\n    def grow(self, by):\n        return by\n\n\n" \
         "def helper_{n}(x):\n    return x\n"


def make_project(root: Path, files: int) -> None:
    (root / ".git").mkdir()
    (root / ".gitignore").write_text("build/\n*.log\n")
    per_folder = 100
    for n in range(files):
        folder = root / "src" / f"pkg{n // 1000:02d}" / f"sub{(n // per_folder) % 10}"
        if n % per_folder == 0:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod{n}.py").write_text(MODULE.format(n=n))
    for skipped in ("build", "venv/lib/site-packages"):
        folder = root / skipped
        folder.mkdir(parents=True)
        for n in range(2000):
            (folder / f"x{n}.py").write_text("x = 1\n")
    (root / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")


def measure(label: str, work, memory: bool = True):
    """The time of `work` (untraced), then its peak memory in a second, traced run (tracemalloc
    slows Python down several times, so it never runs under the clock)."""
    start = time.perf_counter()
    result = work()
    took = time.perf_counter() - start
    peak = ""
    if memory:
        tracemalloc.start()
        work()
        peak = f"peak {tracemalloc.get_traced_memory()[1] / 2**20:6.1f} MB"
        tracemalloc.stop()
    print(f"{label:<34} {took:7.2f} s   {peak}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp) / "proj"
        root.mkdir()
        print(f"making {args.files:,} files ...", flush=True)
        make_project(root, args.files)
        files = measure("list the project", lambda: list_workspace(root))
        assert len(files) == args.files, len(files)  # build/ and the venv left out
        sources = [p for p in files if p.suffix == ".py"]
        cache = Path(temp) / "cache"
        index = measure("index it cold (2 worker processes)",
                        lambda: build_index([root], cache_dir=cache, processes=2, listings={root: sources}),
                        memory=False)  # a second run would be warm: the warm run's peak is below
        measure("index it warm (from the cache)",
                lambda: build_index([root], cache_dir=cache, processes=2, listings={root: sources}))
        candidates = [(display_path(p, root, []), p) for p in files]
        measure("rank the files for 'sub3mod77'",
                lambda: fuzzy_rank("sub3mod77", candidates, key=lambda c: c[0], limit=200))
        measure("rank the symbols for 'helper77'", lambda: index.search("helper77", limit=200))
        print(f"{len(files):,} files listed, {len(index):,} definitions; "
              f"the process's peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
