"""The text screen driven as a user drives it: tokens and ids, min_freq, your own text, the vocab, a batch."""

from textual.widgets import Static

from conftest import REPO, wait_until
from l4tui.data.texts import load_texts_csv
from l4tui.data.tokenizer import tokenize
from l4tui.inspect.text_steps import vocab_figures
from l4tui.ui.app import L4App
from l4tui.ui.text_screen import TextScreen


def shown(screen, selector) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_text_to_numbers(runs_dir):
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await pilot.pause()
        await pilot.press("t")
        assert await wait_until(pilot, lambda: isinstance(app.screen, TextScreen) and app.screen.figures)
        screen = app.screen
        first = load_texts_csv(REPO / "datasets" / "imdb-sample" / "texts.csv").texts[0]
        tokens = shown(screen, "#text-tokens")
        token_line, id_line = tokens.splitlines()[:2]  # a line of tokens, their ids under them
        assert token_line.split()[:3] == tokenize(first)[:3] == ["xxbos", "xxmaj", "the"]
        assert id_line.split()[:3] == [str(i) for i in screen.figures["vocab"].numericalize(tokenize(first)[:3])]
        assert "xxrep" in shown(screen, "#text-rules") and "replace_rep" in shown(screen, "#text-rules")
        # min_freq up by one: the vocab and its unknown rate are what vocab_figures gives by hand.
        await pilot.press("right_square_bracket")
        assert await wait_until(pilot, lambda: screen.figures and screen.figures["min_freq"] == 4)
        by_hand = vocab_figures([tokenize(text) for text in screen.texts], min_freq=4)
        assert f"unknown rate {by_hand['unknown_rate']:.2%}" in shown(screen, "#text-vocab")
        assert screen.figures["unknown"] == by_hand["unknown"] > 0
        # Your own text: capitals and a word the vocab has never seen.
        await pilot.press("e", *"The ZZYZX film", "enter")
        tokens = shown(screen, "#text-tokens")
        assert "xxup" in tokens and "zzyzx" in tokens
        assert "not in the vocab, so xxunk (id 0): zzyzx" in shown(screen, "#text-rules")
        assert screen.text != first
        # Find in the vocab.
        await pilot.press("slash", *"the")
        table = screen.query_one("#vocab-table")
        assert await wait_until(pilot, lambda: table.row_count > 0)
        assert all("the" in str(table.get_row_at(i)[1]) for i in range(table.row_count))
        await pilot.press("escape", "b")
        assert "batch 1" in shown(screen, "#text-batch")
        await pilot.press("escape")
        assert not isinstance(app.screen, TextScreen)


async def test_a_big_corpus_is_counted_in_workers_while_the_screen_keeps_answering(runs_dir, tmp_path, monkeypatch):
    import csv

    monkeypatch.setenv("L4TUI_DATA", str(tmp_path / "cache"))  # the corpus cache: a private one

    from test_corpus_counts import corpus

    texts = corpus(40_000)  # about 4 million characters: counted in worker processes, chunk by chunk
    path = tmp_path / "big.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["label", "text", "is_valid"])
        writer.writerows([["pos", text, "False"] for text in texts])
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = TextScreen(str(path))
        await app.push_screen(screen)
        assert await wait_until(pilot, lambda: 0 < screen.counted[0] < screen.counted[1])
        assert "counting the tokens of 40,000 texts:" in shown(screen, "#text-title")
        assert screen.figures is None
        await pilot.press("right_square_bracket")  # a key while counting is taken at once
        assert screen.min_freq == 4
        assert await wait_until(pilot, lambda: screen.figures is not None)
        assert screen.counted[0] == screen.counted[1] == sum(map(len, texts))
        by_hand = vocab_figures([tokenize(text) for text in texts], min_freq=4)
        assert screen.figures["min_freq"] == 4
        assert screen.figures["vocab"].itos == by_hand["vocab"].itos
        assert f"unknown rate {by_hand['unknown_rate']:.2%}" in shown(screen, "#text-vocab")
        assert "batch 0" in shown(screen, "#text-batch")


async def open_texts_screen(runs_dir, screen):
    app = L4App(runs_dir=runs_dir, workspace=REPO)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(screen)
        assert await wait_until(pilot, lambda: screen.figures is not None or "Can't" in shown(screen, "#text-title"))
        return shown(screen, "#text-title"), screen


async def test_the_screen_opens_an_imdb_folder_as_the_recipes_do(runs_dir, tmp_path):
    root = tmp_path / "imdb" / "aclImdb"  # fastai's download holds the tree one level down
    reviews = {("train", "pos"): "A great film, I loved it.", ("train", "neg"): "Dull and far too long.",
               ("test", "pos"): "Lovely acting.", ("test", "neg"): "Not worth it.", ("train", "unsup"): "Seen it."}
    for (split, label), text in reviews.items():
        (root / split / label).mkdir(parents=True)
        for i in range(3):
            (root / split / label / f"{i}_7.txt").write_text(f"{text} Review {i}.")
    title, screen = await open_texts_screen(runs_dir, TextScreen(str(tmp_path / "imdb")))
    assert title.startswith("From text to numbers: 15 texts of aclImdb")
    assert screen.text == "A great film, I loved it. Review 0."  # train/pos comes first


async def test_a_texts_csv_under_another_name_and_bad_ones(runs_dir, tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("text,label\n" + "".join(f"\"Text number {i}, fine.\",pos\n" for i in range(5)))
    title, screen = await open_texts_screen(runs_dir, TextScreen(str(path)))
    assert title.startswith("From text to numbers: 5 texts of reviews.csv")
    path.write_text("review,label\nnice,pos\n")
    title, _ = await open_texts_screen(runs_dir, TextScreen(str(path)))
    assert title.startswith("Can't read the texts") and "no column 'text'" in title
    path.write_bytes("text\ncaf\u00e9\n".encode("latin-1"))
    title, _ = await open_texts_screen(runs_dir, TextScreen(str(path)))
    assert "Can't read the texts" in title and "is not UTF-8" in title
    (tmp_path / "empty").mkdir()
    title, _ = await open_texts_screen(runs_dir, TextScreen(str(tmp_path / "empty")))
    assert "Can't read the texts" in title and "is not an IMDB folder" in title
