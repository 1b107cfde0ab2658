"""The full IMDB's text pipeline at scale, on a generated aclImdb-sized folder tree.

    python bench/imdb_scale.py [--reviews 100000] [--workers N] [--root FOLDER] [--batches] [--list-path]

Makes (once; kept in --root) an aclImdb-like tree of review files: train/{pos,neg} 12,500 each,
train/unsup 50,000, test/{pos,neg} 12,500 each for 100,000 reviews (the same shares for any
--reviews), about 250 tokens a review (~25 million tokens), the text made by bench/tokenize.py's
deterministic review-like generator. Then times what a language-model run does with it:

- load: open_texts (every file read);
- tokenize: corpus.tokenized_corpus with an empty cache, in worker processes, with its progress
  line (the tokens land in a memmap in the cache folder);
- vocab + ids: the vocab of the training texts (fastai's rules) and the numericalized memmap;
- cache hit: the same three steps again, as the classifier run or a later run does them;
- with --batches: one epoch of LMBatches over the training texts (bs 64, bptt 72), no model;
- with --list-path: instead, the path before the corpus (tokenize_many's lists of str,
  Vocab.build, ids as int64 arrays), for comparison.

Memory: this process's peak (VmHWM) and the workers', sampled from /proc every 0.1 s: the peak of
all of them together (their RSS summed at one moment; pages the workers share with this process
after fork are counted twice, so this is an upper bound), and the sum of every process's own
peak (a looser bound). The cache goes into a private folder, emptied first. Asserts nothing.
The anchor: fastai 2.8's tokenizer with its default 2 worker processes, about 110,000 tokens/s
on a 2-core machine.
"""

import sys
from pathlib import Path

# bench/ holds a tokenize.py, named like the standard library's: off the import path first.
REPO = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

FASTAI_TOKENS_PER_S = 110_000
TOKENS_PER_REVIEW = 250  # about the full IMDB's: 25 million tokens over 100,000 reviews
SHARES = (("train", "pos", 0.125), ("train", "neg", 0.125), ("train", "unsup", 0.5),
          ("test", "pos", 0.125), ("test", "neg", 0.125))


def review_generator():
    """bench/tokenize.py's make_corpus (imported by path: that file's name is the standard
    library's `tokenize`)."""
    spec = importlib.util.spec_from_file_location("bench_tokenize", REPO / "bench" / "tokenize.py")
    module = importlib.util.module_from_spec(spec)
    path = list(sys.path)
    spec.loader.exec_module(module)
    sys.path[:] = path  # it edits the import path for itself
    return module.make_corpus


def make_tree(root: Path, n_reviews: int, seed: int = 0) -> None:
    """The aclImdb-like tree, unless `root` already holds one for these arguments."""
    marker = root / f".made-{n_reviews}-{seed}"
    if marker.exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    # make_corpus's texts are shorter than reviews (~150 tokens) and overshoot its target by ~10%.
    texts = review_generator()(int(n_reviews * TOKENS_PER_REVIEW / 1.1), seed)
    bounds = [round(i * len(texts) / n_reviews) for i in range(n_reviews + 1)]
    n = 0
    for split, label, share in SHARES:
        folder = root / split / label
        folder.mkdir(parents=True)
        count = round(n_reviews * share) if label != "neg" or split != "test" else n_reviews - n
        for i in range(count):
            rating = (7 + n % 4) if label == "pos" else (1 + n % 4) if label == "neg" else 0
            (folder / f"{i}_{rating}.txt").write_text(" ".join(texts[bounds[n]:bounds[n + 1]]) or "Fine.",
                                                      encoding="utf-8")
            n += 1
    marker.touch()
    print(f"made {n:,} review files in {root} ({time.perf_counter() - started:.1f} s)")


class MemorySampler:
    """Samples the RSS of this process and all its descendants from /proc (Linux), in another
    process: a thread here would make the tokenizer's pool use forkserver instead of fork."""

    def __enter__(self):
        import subprocess

        self.process = subprocess.Popen([sys.executable, __file__, "--sample", str(os.getpid())],
                                        stdout=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *exc):
        import json
        import signal

        self.process.send_signal(signal.SIGTERM)
        self.result = json.loads(self.process.communicate()[0])

    def report(self) -> str:
        main = self.result["peak_of"].get(str(os.getpid()), 0)
        others = [v for pid, v in self.result["peak_of"].items() if pid != str(os.getpid())]
        gib = 1024 ** 3
        return (f"peak memory: this process {main / gib:.2f} GiB; {len(others)} other processes (the pool's "
                f"workers), each at most {max(others, default=0) / gib:.2f} GiB; all together (sampled) "
                f"{self.result['peak_total'] / gib:.2f} GiB; sum of each one's peak {(main + sum(others)) / gib:.2f} GiB")


def _status(pid: int) -> dict[str, int]:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {line.split(":")[0]: int(line.split()[1]) * 1024 for line in lines if line.startswith(("VmRSS", "VmHWM"))}


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*/children"):
            try:
                children = [int(p) for p in task.read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def sample_memory(pid: int, interval: float = 0.1) -> None:
    """--sample PID: sample until SIGTERM, then print {"peak_total", "peak_of": {pid: VmHWM}}."""
    import json
    import signal

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    peak_total, peak_of, me = 0, {}, os.getpid()
    while True:
        total = 0
        for p in [pid, *_descendants(pid)]:
            if p == me:
                continue
            status = _status(p)
            total += status.get("VmRSS", 0)
            if "VmHWM" in status:
                peak_of[p] = max(peak_of.get(p, 0), status["VmHWM"])
        peak_total = max(peak_total, total)
        if stop.wait(interval):
            break
    print(json.dumps({"peak_total": peak_total, "peak_of": peak_of}))


def progress_line(done: int, total: int, tokens: int) -> None:
    if sys.stdout.isatty() or done == total:
        print(f"\r  tokenizing {done / total:4.0%}  {tokens:,} tokens", end="", flush=True)


def corpus_path(data, train, args) -> None:
    """What the ULMFiT recipes do now: l4tui.data.corpus, twice (the second a cache hit)."""
    from l4tui.data.corpus import tokenized_corpus

    def pipeline(progress=None):
        times = [time.perf_counter()]
        corpus = tokenized_corpus(data.texts, progress=progress, n_workers=args.workers)
        times.append(time.perf_counter())
        vocab = corpus.vocab(train)
        ids = corpus.numericalized(vocab)
        times.append(time.perf_counter())
        return corpus, vocab, ids, [b - a for a, b in zip(times, times[1:])]

    corpus, vocab, ids, (tokenize_s, vocab_s) = pipeline(progress_line)
    print()
    rate = corpus.n_tokens / tokenize_s
    from l4tui.data.tokenizer import PARALLEL_MIN_CHARS

    how = f"{args.workers} workers" if sum(map(len, data.texts)) >= PARALLEL_MIN_CHARS else "in this process"
    print(f"tokenize: {corpus.n_tokens:,} tokens ({len(corpus.itos):,} distinct) in {tokenize_s:.2f} s "
          f"({how}): {rate:,.0f} tokens/s, {rate / FASTAI_TOKENS_PER_S:.1f}x fastai's "
          f"~{FASTAI_TOKENS_PER_S:,} tokens/s")
    print(f"vocab + ids: {len(vocab):,} tokens in the vocab (training texts), ids memmap in {vocab_s:.2f} s")
    hit, _, ids, (hit_s, hit_vocab_s) = pipeline()
    if hit.cache_hit:
        print(f"cache hit: corpus {hit_s:.2f} s (hashing the texts), vocab + ids {hit_vocab_s:.2f} s; "
              f"on disk {sum(f.stat().st_size for f in hit.folder.iterdir()) / 1e6:.0f} MB")
    else:
        print(f"no cache: a corpus this small is tokenized again each time ({hit_s:.2f} s)")
    if args.batches:
        from l4tui.data.text_batches import LMBatches

        lm = LMBatches(ids.pick(train), bs=64, seq_len=72, seed=0)
        started, n = time.perf_counter(), 0
        for _ in lm:
            n += 1
        print(f"LM batches: one epoch, {n:,} batches of 64 x ~72 in {time.perf_counter() - started:.2f} s")


def list_path(data, train, args) -> None:
    """What the recipes did before the corpus: lists of str, Vocab.build, ids as int64 arrays."""
    import numpy as np

    from l4tui.data.tokenizer import tokenize_many
    from l4tui.data.vocab import Vocab

    started = time.perf_counter()
    tokens = tokenize_many(data.texts, n_workers=args.workers)
    tokenize_s = time.perf_counter() - started
    vocab = Vocab.build(tokens[i] for i in train)
    ids = [np.asarray(vocab.numericalize(t), dtype=np.int64) for t in tokens]
    vocab_s = time.perf_counter() - started - tokenize_s
    n_tokens = sum(map(len, tokens))
    print(f"list path: {n_tokens:,} tokens in {tokenize_s:.2f} s with {args.workers} workers "
          f"({n_tokens / tokenize_s:,.0f} tokens/s), vocab + ids {vocab_s:.2f} s ({len(ids):,} arrays)")


def main() -> None:
    if sys.argv[1:2] == ["--sample"]:
        return sample_memory(int(sys.argv[2]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=100_000, help="reviews in the tree (default 100,000)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(),
                        help=f"tokenizing processes (default: every core, {os.cpu_count()} here)")
    parser.add_argument("--root", type=Path, help="where the generated tree is kept (default: a folder in /tmp)")
    parser.add_argument("--batches", action="store_true", help="also time one epoch of the LM's batches")
    parser.add_argument("--list-path", action="store_true",
                        help="time the path before the corpus instead (tokenize_many's lists of str, Vocab.build, "
                             "ids as int64 arrays), for comparison")
    args = parser.parse_args()
    root = args.root or Path(tempfile.gettempdir()) / f"l4tui-imdb-scale-{args.reviews}"
    make_tree(root, args.reviews)
    cache = Path(tempfile.mkdtemp(prefix="l4tui-corpus-cache-"))
    os.environ["L4TUI_DATA"] = str(cache)

    import numpy as np

    from l4tui.data.texts import open_texts
    from l4tui.train.text import LM_VALID_PCT, _held_out

    try:
        with MemorySampler() as memory:
            started = time.perf_counter()
            data = open_texts(str(root))
            load_s = time.perf_counter() - started
            n_chars = sum(map(len, data.texts))
            print(f"load: {len(data):,} reviews, {n_chars / 1e6:.1f} M characters in {load_s:.2f} s")
            train = np.flatnonzero(~_held_out(len(data), LM_VALID_PCT, 0))
            (list_path if args.list_path else corpus_path)(data, train, args)
        print(memory.report())
    finally:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
