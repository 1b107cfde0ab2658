"""The tokenized corpus (l4tui/data/corpus.py): the same tokens, vocab and ids as the list path,
in worker processes with progress, as a memmap, cached; and the IMDB split of the ULMFiT recipes."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from l4tui.data import corpus as corpus_module
from l4tui.data.corpus import Docs, tokenized_corpus
from l4tui.data.text_batches import ClassifierBatches, LMBatches
from l4tui.data.texts import open_texts
from l4tui.data.tokenizer import PARALLEL_MIN_CHARS, tokenize, tokenize_many
from l4tui.data.vocab import Vocab, count_tokens
from l4tui.runs.fields import check_event
from l4tui.runs.progress import Progress, preparing_text
from l4tui.train.recipes import RECIPES

REPO = Path(__file__).resolve().parent.parent
SENTENCES = ["The movie was GREAT!!! I loved it.", "A dull film; the plot was thin.",
             "Tom Hanks is my favourite actor.", "Sooo bad, don't watch it <br /> ever.", "Ça m'a plu :)"]


def big_corpus(n_texts: int = 12_000) -> list[str]:
    """Texts of differing lengths and words (ties and first-seen order matter), over the size
    tokenized in worker processes."""
    texts = [" ".join(SENTENCES[(i + j) % 5] for j in range(1 + i % 7)) + f" word{i % 977} w{i % 13}"
             for i in range(n_texts)]
    assert sum(map(len, texts)) > PARALLEL_MIN_CHARS
    return texts


def test_the_bundled_sample_gives_the_list_paths_tokens_vocab_and_ids():
    texts = open_texts(None).texts
    tokens = tokenize_many(texts)
    corpus = tokenized_corpus(texts)
    assert corpus.folder is None and not corpus.cache_hit  # small: in memory, not cached
    assert corpus.token_lists() == tokens
    valid = np.random.default_rng(0).random(len(texts)) < 0.1
    train = np.flatnonzero(~valid)
    vocab = corpus.vocab(train, 60000, 3)
    assert vocab.itos == Vocab.build([t for t, v in zip(tokens, valid) if not v], 60000, 3).itos
    ids = corpus.numericalized(vocab)
    assert ids.ids.dtype == np.int32
    assert [doc.tolist() for doc in ids] == [vocab.numericalize(t) for t in tokens]
    assert [doc.tolist() for doc in ids.pick(train)] == [vocab.numericalize(tokens[i]) for i in train]


def test_a_big_corpus_is_tokenized_in_workers_with_progress_into_a_memmap(tmp_path):
    texts = big_corpus()
    seen = []
    corpus = tokenized_corpus(texts, progress=lambda *step: seen.append(step), n_workers=2, cache=tmp_path)
    assert isinstance(corpus.tokens, np.memmap) and corpus.folder.parent == tmp_path
    tokens = [tokenize(text) for text in texts]
    assert corpus.token_lists() == tokens
    assert corpus.n_tokens == sum(map(len, tokens))
    # Vocab and ids for a subset (the classifier's labelled texts, every third), with fastai's ties.
    subset = np.arange(0, len(texts), 3)
    vocab = corpus.vocab(subset, max_vocab=40, min_freq=2)
    assert vocab.itos == Vocab.build([tokens[i] for i in subset], max_vocab=40, min_freq=2).itos
    assert list(corpus.token_counts(subset).items()) == list(count_tokens(tokens[i] for i in subset).items())
    ids = corpus.numericalized(vocab)
    assert isinstance(ids.ids, np.memmap)
    assert all(ids[i].tolist() == vocab.numericalize(tokens[i]) for i in range(0, len(texts), 97))
    # The ids are kept for the next run with this vocab; a spoilt file is made again.
    [path] = corpus.folder.glob("ids-*.i32")
    assert np.array_equal(corpus.numericalized(vocab).ids, ids.ids)
    spoilt = np.memmap(path, dtype=np.int32, mode="r+")
    spoilt[5] = len(vocab) + 3
    spoilt.flush()
    del spoilt
    assert corpus.numericalized(vocab)[0].tolist() == vocab.numericalize(tokens[0])
    assert int(corpus.numericalized(vocab).ids.max()) < len(vocab)
    # Progress: one step a chunk, growing, the last at the whole corpus and all its tokens.
    total = sum(map(len, texts))
    assert len(seen) == len(corpus_module.chunks_of(texts)) >= 3
    assert [done for done, *_ in seen] == sorted(done for done, *_ in seen)
    assert seen[-1] == (total, total, corpus.n_tokens)


def test_the_cache_is_used_and_made_again_when_the_texts_or_the_tokenizer_change(tmp_path, monkeypatch):
    texts = big_corpus(9_000)
    first = tokenized_corpus(texts, cache=tmp_path)
    assert not first.cache_hit

    def no_tokenizing(chunk):
        raise AssertionError("tokenized again")

    monkeypatch.setattr(corpus_module, "_tokenize_chunk", no_tokenizing)
    again = tokenized_corpus(texts, cache=tmp_path, n_workers=1)
    assert again.cache_hit and again.folder == first.folder
    assert np.array_equal(again.tokens, first.tokens) and again.itos == first.itos
    monkeypatch.undo()
    # One text changed: another key, tokenized again; both kept.
    changed = [*texts[:-1], texts[-1] + " More."]
    other = tokenized_corpus(changed, cache=tmp_path, n_workers=1)
    assert not other.cache_hit and other.folder != first.folder
    assert other.token_lists([len(texts) - 1]) == [tokenize(changed[-1])]
    # A changed tokenizer (its source) makes another key too.
    monkeypatch.setattr(corpus_module, "tokenizer_version", lambda: "something else")
    assert not tokenized_corpus(texts, cache=tmp_path, n_workers=1).cache_hit
    monkeypatch.undo()
    # A spoilt cached corpus is made again, not read.
    with open(first.folder / corpus_module.TOKENS_FILE, "r+b") as f:
        f.truncate(8)
    remade = tokenized_corpus(texts, cache=tmp_path, n_workers=1)
    assert not remade.cache_hit and remade.token_lists([0]) == [tokenize(texts[0])]
    (remade.folder / corpus_module.ITOS_FILE).write_text("{not json")
    assert not tokenized_corpus(texts, cache=tmp_path, n_workers=1).cache_hit
    # Three corpora were made (the texts, the changed texts, another tokenizer's; the spoilt one
    # remade in its place), all of them used just now: none is pruned.
    assert len([p for p in tmp_path.iterdir() if not p.name.startswith(".")]) == 3


def test_only_the_most_recently_used_corpora_are_kept_but_none_in_use(tmp_path):
    """Beyond MAX_CACHED, the least recently used go, unless used in the last IN_USE_S seconds
    (a run preparing on it): five runs at once on five corpora each keep theirs."""
    import os
    import time

    now = time.time()
    ages = {"a": 5 * 3600, "b": 4 * 3600, "c": 3 * 3600, "d": 2 * 3600, "e": 3600, "f": 60, "g": 1}
    for name, age in ages.items():
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (now - age, now - age))
    (tmp_path / ".h.123.tmp").mkdir()  # a build killed just now: another process may still be making it
    corpus_module.prune_cache(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".h.123.tmp", "d", "e", "f", "g"]
    for name in "hijkl":  # five more, all in use: all kept, over MAX_CACHED
        (tmp_path / name).mkdir()
    corpus_module.prune_cache(tmp_path)
    assert {"f", "g", "h", "i", "j", "k", "l"} <= {p.name for p in tmp_path.iterdir()}
    assert not {"d", "e"} & {p.name for p in tmp_path.iterdir()}


def test_lm_batches_from_a_memmap_are_the_batches_from_arrays(tmp_path):
    corpus = tokenized_corpus(big_corpus(), cache=tmp_path, n_workers=1)
    ids = corpus.numericalized(corpus.vocab(max_vocab=200, min_freq=1))
    docs = ids.pick(np.arange(0, len(ids), 2))
    arrays = [np.array(doc) for doc in docs]
    for shuffle in (True, False):
        a = LMBatches(docs, bs=16, seq_len=20, shuffle=shuffle, seed=3)
        b = LMBatches(arrays, bs=16, seq_len=20, shuffle=shuffle, seed=3)
        assert a.flat is ids.ids  # the memmap itself, not a copy
        for (xa, ya), (xb, yb) in zip(a.epoch_batches(1), b.epoch_batches(1), strict=True):
            assert xa.dtype == np.int64 and xa.flags.c_contiguous
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)
        np.testing.assert_array_equal(a.stream(1), np.concatenate([arrays[i] for i in a.order(1)]))
    labels = np.arange(len(docs)) % 2
    for (xa, ya), (xb, yb) in zip(ClassifierBatches(docs, labels, bs=32, seed=1),
                                  ClassifierBatches(arrays, labels, bs=32, seed=1), strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_docs_are_views_and_pick_slices_and_counts():
    ids = np.arange(10, dtype=np.int32)
    docs = Docs(ids, np.array([0, 3, 3, 7, 10]))
    assert [d.tolist() for d in docs] == [[0, 1, 2], [], [3, 4, 5, 6], [7, 8, 9]]
    assert np.shares_memory(docs[2], ids)
    assert [d.tolist() for d in docs.pick([3, 0])] == [[7, 8, 9], [0, 1, 2]]
    assert docs.pick([3, 0]).lengths().tolist() == [3, 3] and docs.n_tokens() == 10
    assert docs.pick([0, 3]).bincount(12).tolist() == [1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0]
    # Blocks, whether the documents are in the array's order (masked stretches) or not (a loop).
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 30, size=500)
    docs = Docs(rng.integers(0, 99, size=lengths.sum()).astype(np.int32), np.concatenate([[0], np.cumsum(lengths)]))
    for picked in (np.flatnonzero(rng.random(500) < 0.7), rng.permutation(500)[:200], [7]):
        expected = np.concatenate([docs[i] for i in picked] or [np.zeros(0, np.int32)])
        for size in (1, 50, 10_000):
            blocks = list(docs.pick(picked).blocks(size))
            np.testing.assert_array_equal(np.concatenate(blocks), expected)
            assert size > 1 or len(blocks) >= len(picked) // 2


def make_acl_imdb(root: Path) -> dict[str, int]:
    """A tiny aclImdb tree: the number of reviews in each folder."""
    counts = {"train/pos": 12, "train/neg": 12, "train/unsup": 20, "test/pos": 8, "test/neg": 8}
    n = 0
    for folder, count in counts.items():
        (root / folder).mkdir(parents=True)
        for i in range(count):
            good = "pos" in folder or (folder.endswith("unsup") and i % 2)
            words = SENTENCES[0] if good else SENTENCES[1]
            (root / folder / f"{i}_{8 if good else 2}.txt").write_text(f"{words} Review {n}. {SENTENCES[n % 5]}")
            n += 1
    return counts


def test_imdb_folders_feed_the_lm_every_text_and_the_classifier_train_against_test(tmp_path):
    counts = make_acl_imdb(tmp_path / "aclImdb")
    config = RECIPES["lm"][0].from_dict({"data": str(tmp_path / "aclImdb"), "bs": 4, "bptt": 8, "preset": "small"})
    reports = []
    task = RECIPES["lm"][1](config, "cpu", report=lambda **fields: reports.append(fields))
    # The language model: every review, test and unsup included; a tenth of them at random validate it.
    assert task.start["n_train"] + task.start["n_valid"] == sum(counts.values())
    assert 0 < task.start["n_valid"] < sum(counts.values()) / 4
    assert reports[-1]["step"] == "tokenize" and reports[-1]["done"] == reports[-1]["total"] > 0
    task.regularizer.remove()
    # The classifier: the labelled reviews; trained on train/, checked on test/.
    config = RECIPES["classifier"][0].from_dict({"data": str(tmp_path / "aclImdb"), "bs": 4, "preset": "small"})
    task = RECIPES["classifier"][1](config, "cpu")
    assert task.start["n_train"] == counts["train/pos"] + counts["train/neg"]
    assert task.start["n_valid"] == counts["test/pos"] + counts["test/neg"]
    assert task.start["classes"] == ["neg", "pos"]


def test_prepare_events_are_sound_and_shown_until_the_start():
    event = {"t": 1.0, "type": "prepare", "step": "tokenize", "done": 45, "total": 100, "tokens": 12_300_000}
    assert check_event(event) is None
    assert check_event({**event, "done": -1}) is not None
    progress = Progress()
    progress.update([event])
    assert preparing_text(progress) == "tokenizing 45% · 12.3M tokens"
    progress.update([{"t": 2.0, "type": "start", "epochs": 1}])
    assert preparing_text(progress) == ""


def test_the_run_monitor_shows_the_tokenizing_before_the_first_epoch():
    from l4tui.ui.run_monitor import RunMonitor

    monitor = RunMonitor()
    monitor.progress.update([{"t": 1.0, "type": "prepare", "step": "tokenize", "done": 5, "total": 10,
                              "tokens": 1500}])
    assert monitor._metrics_text("running") == "tokenizing 50% · 1.5k tokens ..."
    monitor.progress.update([{"t": 2.0, "type": "start", "epochs": 1}])
    assert monitor._metrics_text("running") == "waiting for the first epoch ..."


STOPPED = textwrap.dedent("""
    import signal, sys, time
    sys.path.insert(0, sys.argv[1])
    signal.signal(signal.SIGTERM, lambda *_: None)  # as the run process does: stop at the next batch
    from l4tui.data.corpus import tokenize_corpus

    texts = [f"Review {i}: the film was GREAT, I loved it... " * (1 + i % 20) for i in range(20_000)]

    class Stop(Exception):
        pass

    def progress(done, total, tokens):
        raise Stop()  # the run was asked to stop

    started = time.monotonic()
    try:
        tokenize_corpus(texts, None, progress, n_workers=2)
    except Stop:
        print(f"stopped in {time.monotonic() - started:.1f} s")
""")


def test_a_corpus_stopped_half_way_ends_its_workers_in_a_run_process():
    """A forked worker inherits the run's SIGTERM handler: the pool must still end it."""
    result = subprocess.run([sys.executable, "-c", STOPPED, str(REPO)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("stopped in")


MEASURE = textwrap.dedent("""
    import json, sys
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    from l4tui.data.corpus import tokenized_corpus
    from l4tui.data.text_batches import LMBatches

    def hwm():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM"):
                return int(line.split()[1]) * 1024

    words = [f"w{i}" for i in range(30_000)]
    rng = np.random.default_rng(0)
    picks = rng.zipf(1.3, size=2_400_000) % len(words)
    texts = [" ".join(words[j] for j in picks[i:i + 120]) + "." for i in range(0, len(picks), 120)]
    before = hwm()
    corpus = tokenized_corpus(texts, cache=sys.argv[2], n_workers=2)
    a = hwm()
    ids = corpus.numericalized(corpus.vocab())
    b = hwm()
    for x, y in LMBatches(ids, bs=64, seq_len=72, seed=0):
        pass
    print(json.dumps({"tokens": corpus.n_tokens, "before": before, "after": hwm(), "steps": [a, b]}))
""")


@pytest.mark.slow
def test_peak_memory_stays_bounded_on_a_mid_size_corpus(tmp_path):
    """~2.4 million tokens, tokenized in 2 workers, a vocab, the ids and an epoch of LM batches."""
    result = subprocess.run([sys.executable, "-c", MEASURE, str(REPO), str(tmp_path)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    grown = figures["after"] - figures["before"]
    assert figures["tokens"] > 2_000_000
    # The ids (tokens and ids memmaps, 4 bytes each, paged in) and a fixed amount (the distinct
    # tokens, a block's temporaries, imports). The list path (tokenize_many, Vocab.build, ids
    # as int64 arrays) grew by about 80 bytes a token here.
    assert grown < 8 * figures["tokens"] + 48e6, figures


@pytest.mark.parametrize("n_texts", [40, 12_000])  # in this process; over the size done in workers
def test_tokenize_many_reports_progress(n_texts):
    texts = big_corpus()[:n_texts] if n_texts > 40 else SENTENCES * 8
    seen = []
    assert tokenize_many(texts, n_workers=2, chunk_size=7, progress=lambda *step: seen.append(step)) == \
        [tokenize(text) for text in texts]
    total = sum(map(len, texts))
    assert len(seen) == -(-len(texts) // 7) and seen[-1] == (total, total)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


@pytest.mark.slow
def test_tokenize_data_fills_the_cache_the_runs_read(tmp_path):
    from conftest import l4tui

    root = tmp_path / "aclImdb"
    make_acl_imdb(root)
    filler = " ".join(SENTENCES) * 400  # the unsup reviews made long: over the size that is cached
    for file in (root / "train" / "unsup").iterdir():
        file.write_text(file.read_text() + filler)
    env = {**__import__("os").environ, "L4TUI_DATA": str(tmp_path / "cache")}
    first = l4tui("tokenize", "--data", str(root), env=env)
    assert first.returncode == 0, first.stderr
    assert "60 texts" in first.stdout and "tokenized in" in first.stdout
    again = l4tui("tokenize", "--data", str(root), env=env)
    assert "read from the cache" in again.stdout
    [folder] = (tmp_path / "cache" / "corpora").iterdir()
    assert str(folder) in again.stdout
    # The run's recipe finds that corpus: no tokenizing.
    texts = open_texts(str(root)).texts
    assert tokenized_corpus(texts, cache=tmp_path / "cache" / "corpora").cache_hit
    missing = l4tui("tokenize", "--data", str(tmp_path / "nothing"), env=env)
    assert missing.returncode != 0 and len(missing.stderr.strip().splitlines()) == 1
