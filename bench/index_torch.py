"""How fast the definition index reads torch, against Universal Ctags on the same tree.

    .venv/bin/python bench/index_torch.py [--runs 3]

Indexes the installed torch package (found without importing it) and prints medians of
`--runs` runs: cold (no cache; with the default worker processes, and in this process only),
warm (a cache in a temporary folder, built once before timing), `ctags -R` when ctags is on
PATH, and fuzzy ranking of every torch definition name for a few 3-letter queries.
The budget: cold under 3 s, warm well under 1 s, ranking well under 100 ms.
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
import importlib.util  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from l4tui.code.fuzzy import fuzzy_rank  # noqa: E402
from l4tui.code.index import build_index  # noqa: E402

QUERIES = ("edb", "ten", "fwd", "lin")


def median_time(runs: int, fn) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        print("torch is not installed here", file=sys.stderr)
        return 1
    torch_dir = Path(list(spec.submodule_search_locations)[0])
    print(f"torch: {torch_dir}")

    cold, index = median_time(args.runs, lambda: build_index([torch_dir], cache_dir=False))
    cold_serial, _ = median_time(args.runs, lambda: build_index([torch_dir], cache_dir=False, processes=1))
    with tempfile.TemporaryDirectory() as cache:
        build_index([torch_dir], cache_dir=Path(cache))
        warm, _ = median_time(args.runs, lambda: build_index([torch_dir], cache_dir=Path(cache)))
    stats = index.stats()
    print(f"files: {stats['files']}   symbols: {len(index)}   "
          + ", ".join(f"{kind} {stats[kind]}" for kind in ("class", "function", "method", "variable", "member")))
    print(f"cold (no cache, worker processes): {cold:.2f} s")
    print(f"cold (no cache, this process only): {cold_serial:.2f} s")
    print(f"warm (cache):                       {warm:.2f} s")

    ctags = shutil.which("ctags")
    if ctags:
        with tempfile.TemporaryDirectory() as out:
            tags = Path(out) / "tags"
            command = [ctags, "-R", "-f", str(tags), "--languages=Python", str(torch_dir)]
            ctags_time, _ = median_time(args.runs, lambda: subprocess.run(command, check=True))
            ctags_count = sum(1 for line in tags.open(encoding="utf-8", errors="replace") if not line.startswith("!_"))
        print(f"Universal Ctags -R:                 {ctags_time:.2f} s ({ctags_count} tags)")
        print(f"cold / ctags: {cold / ctags_time:.2f}   warm / ctags: {warm / ctags_time:.2f}")
    else:
        print("ctags: not on PATH")

    names = [symbol.name for symbol in index]
    unique = index.names()
    for query in QUERIES:
        t_all, best = median_time(max(args.runs, 5), lambda: fuzzy_rank(query, names))
        t_unique, _ = median_time(max(args.runs, 5), lambda: fuzzy_rank(query, unique))
        print(f"fuzzy {query!r}: {t_all * 1000:.0f} ms over {len(names)} names, "
              f"{t_unique * 1000:.0f} ms over {len(unique)} distinct; best: {', '.join(best[:3])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
