"""`t` in the Data & training pane: a text becoming tokens, ids, a vocab and a language model's batch.

The lesson's steps on real reviews: the raw text, its tokens with the special ones explained and
the unknown ones (xxunk) in a warning colour, each token's id under it, the rules that fired;
the vocab built from the corpus with `max_vocab` and `min_freq` you can change, and what it
covers; and a batch of the language model's data, where y is x moved on by one word. The numbers
come from `l4tui.inspect.text_steps`.
"""

import threading
import time

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from l4tui.ui.tables import DataTable
from l4tui.ui.key_order import InOrderInput
from l4tui.ui.off_thread import in_thread

KIND_STYLES = {"special": "bold cyan", "unknown": "bold red", "word": ""}
VOCAB_ROWS = 500  # rows the vocab table lists (filtering searches them all)
LM_BS, LM_BPTT = 4, 8


def token_grid(cells, width: int) -> Text:
    """Tokens on one line and their ids under them, wrapped at `width` columns."""
    out = Text()
    line_tokens, line_ids, used = Text(), Text(), 0
    for cell in cells:
        shown = cell.token.replace("\n", "\\n") or " "
        size = max(len(shown), len(str(cell.id))) + 1
        if used + size > width and used:
            out.append_text(line_tokens)
            out.append("\n")
            out.append_text(line_ids)
            out.append("\n")
            line_tokens, line_ids, used = Text(), Text(), 0
        line_tokens.append(shown.ljust(size), style=KIND_STYLES[cell.kind])
        line_ids.append(str(cell.id).ljust(size), style="dim")
        used += size
    out.append_text(line_tokens)
    out.append("\n")
    out.append_text(line_ids)
    return out


class TextScreen(Screen):
    DEFAULT_CSS = """
    TextScreen #text-box { height: 1fr; padding: 0 1; }
    TextScreen #text-title { text-style: bold; }
    TextScreen #text-input { height: 1; border: none; padding: 0 1; margin: 1 0 0 0; }
    TextScreen #vocab-filter { height: 1; border: none; padding: 0 1; margin: 0; }
    TextScreen #text-raw { color: $text-muted; margin-bottom: 1; }
    TextScreen #text-rules { margin-top: 1; }
    TextScreen #text-vocab { margin-top: 1; }
    TextScreen #text-lower { height: 20; margin-top: 1; }
    TextScreen #text-vocab-side { width: 40; }
    TextScreen #vocab-table { height: 1fr; }
    TextScreen #text-batch { width: 1fr; padding-left: 2; }
    """

    AUTO_FOCUS = "#text-box"  # the page scrolls with the arrows; Tab reaches the vocab table
    # The footer at 80 columns: e n, the two settings as pairs of keys, / find, Esc back, ? help.
    MIN_FREQ = Binding.Group("min_freq", compact=True)
    MAX_VOCAB = Binding.Group("max_vocab", compact=True)
    BINDINGS = [
        Binding("e", "edit", "Edit", id="text.edit", tooltip="Type a text of your own"),
        Binding("n", "next_text(1)", "Next", id="text.next", tooltip="The next text of the corpus"),
        Binding("p", "next_text(-1)", "Previous", show=False, id="text.previous", tooltip="The previous text"),
        Binding("left_square_bracket", "min_freq(-1)", "min_freq-", id="text.min_freq_down",
                tooltip="Lower min_freq: rarer tokens join the vocab", group=MIN_FREQ),
        Binding("right_square_bracket", "min_freq(1)", "min_freq+", id="text.min_freq_up",
                tooltip="Raise min_freq: rarer tokens become xxunk", group=MIN_FREQ),
        Binding("minus", "max_vocab(0.5)", "max_vocab÷2", id="text.max_vocab_down", tooltip="Halve max_vocab",
                group=MAX_VOCAB),
        Binding("plus,equals_sign", "max_vocab(2)", "max_vocab×2", id="text.max_vocab_up",
                tooltip="Double max_vocab (= too: no Shift needed)", group=MAX_VOCAB),
        Binding("slash", "find", "Find", id="text.find", tooltip="Filter the vocab table"),
        Binding("b", "next_batch", "Next batch", show=False, id="text.batch", tooltip="The next LM batch"),
        Binding("escape,q", "back", "Back", id="text.back"),
    ]

    def __init__(self, data: str | None = None) -> None:
        super().__init__()
        self.data = data
        self.texts: list[str] = []
        self.counts = None  # each token's count in the whole corpus
        self.counted = (0, 0)  # characters of the corpus counted so far, and in all
        self.batch_tokens: list[list[str]] = []  # the first texts' tokens, for the LM batches
        self.stop_counting = threading.Event()
        self.index = 0
        self.text = ""
        self.min_freq, self.max_vocab = 3, 60000
        self.figures: dict | None = None
        self.batch = 0

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="text-box"):
            yield Static("tokenizing the corpus ...", id="text-title", markup=False)
            yield InOrderInput(placeholder="a text of your own; Enter shows its tokens", id="text-input")
            yield Static("", id="text-raw", markup=False)
            yield Static("", id="text-tokens")
            yield Static("", id="text-rules", markup=False)
            yield Static("", id="text-vocab", markup=False)
            with Horizontal(id="text-lower"):
                with Vertical(id="text-vocab-side"):
                    yield InOrderInput(placeholder="/ find a token", id="vocab-filter")
                    yield DataTable(id="vocab-table", cursor_type="row")
                yield Static("", id="text-batch")
        yield Footer(show_command_palette=False)  # Ctrl-K still opens it; the room goes to the keys

    def on_mount(self) -> None:
        table = self.query_one("#vocab-table", DataTable)
        table.add_columns("id", "token", "count")
        self.load()

    def on_unmount(self) -> None:
        self.stop_counting.set()  # a count still running in worker processes ends there

    @work(exclusive=True, group="text-load")
    async def load(self) -> None:
        from l4tui.data.texts import open_texts
        from l4tui.inspect.corpus_counts import Stopped, count_corpus
        from l4tui.inspect.text_steps import first_tokens

        title = self.query_one("#text-title", Static)
        try:
            dataset = await in_thread(open_texts, self.data or None)
            self.source, self.texts = dataset.source, dataset.texts
        except (ValueError, OSError) as error:
            title.update(f"Can't read the texts: {error}")
            return
        self.text = self.texts[0] if self.texts else ""
        total_mb = sum(map(len, self.texts)) / 1e6
        title.update(f"counting the tokens of {len(self.texts):,} texts ({total_mb:.1f} M characters) ...")
        started = time.monotonic()

        def show_progress(done: int, total: int) -> None:
            self.counted = (done, total)
            left = (time.monotonic() - started) * (total - done) / max(done, 1)
            title.update(f"counting the tokens of {len(self.texts):,} texts: {done / max(total, 1):.0%} "
                          f"of {total_mb:.1f} M characters, about {left:.0f} s left ...")

        def progress(done: int, total: int) -> None:  # called in the counting thread
            self.app.call_from_thread(show_progress, done, total)

        try:
            self.counts = await in_thread(count_corpus, self.texts, progress, self.stop_counting)
            self.batch_tokens = await in_thread(first_tokens, self.texts)
        except Stopped:
            return
        self.rebuild_vocab()

    @work(exclusive=True, group="text-vocab")
    async def rebuild_vocab(self) -> None:
        from l4tui.inspect.text_steps import vocab_figures_of_counts

        if self.counts is None:
            return  # still counting: load() builds the vocab when it is done
        self.query_one("#text-vocab", Static).update(
            f"building the vocab (max_vocab {self.max_vocab}, min_freq {self.min_freq}) ...")
        self.figures = await in_thread(vocab_figures_of_counts, self.counts, self.max_vocab, self.min_freq)
        self.show_text()
        self.show_vocab()
        self.show_batch()

    # ---- drawing ------------------------------------------------------------------------------

    def show_text(self) -> None:
        from l4tui.data.tokenizer import tokenize
        from l4tui.inspect.text_steps import rules_fired, token_cells

        if self.figures is None:
            return
        vocab = self.figures["vocab"]
        self.query_one("#text-title", Static).update(
            f"From text to numbers: {len(self.texts):,} texts of {self.source.name} · text {self.index + 1} "
            f"(n next, e your own)")
        self.query_one("#text-raw", Static).update(self.text[:600] + ("..." if len(self.text) > 600 else ""))
        cells = token_cells(tokenize(self.text), vocab)
        width = max(20, (self.size.width or 80) - 4)
        self.query_one("#text-tokens", Static).update(token_grid(cells, width))
        unknown = sorted({c.token.replace("\n", "\\n") for c in cells if c.kind == "unknown"})
        specials = sorted({c.token for c in cells if c.kind == "special"})
        from l4tui.inspect.text_steps import SPECIAL_MEANINGS

        lines = [f"rules that fired: {', '.join(rules_fired(self.text))}"]
        lines += [f"  {token}: {SPECIAL_MEANINGS[token]}" for token in specials]
        if unknown:
            lines.append(f"  not in the vocab, so xxunk (id 0): {', '.join(unknown[:12])}"
                         + (" ..." if len(unknown) > 12 else ""))
        self.query_one("#text-rules", Static).update("\n".join(lines))

    def show_vocab(self) -> None:
        figures = self.figures
        top = ", ".join(f"{token} ({count})" for token, count in figures["top_unknown"][:6])
        self.query_one("#text-vocab", Static).update(
            f"vocab: {figures['vocab_size']:,} tokens (max_vocab {self.max_vocab:,} -/+, min_freq {self.min_freq} [/]) · "
            f"covers {figures['covered']:.1%} of the corpus's {figures['tokens']:,} tokens · "
            f"unknown rate {figures['unknown_rate']:.2%} · {figures['distinct']:,} distinct tokens, "
            f"{figures['distinct_in_vocab']:,} in the vocab\nmost frequent unknown: {top or 'none'}"
            + (f"\nthe table lists the first {VOCAB_ROWS} ids; / finds any token" if figures["vocab_size"] > VOCAB_ROWS else ""))
        self.fill_vocab_table(self.query_one("#vocab-filter", Input).value)

    def fill_vocab_table(self, query: str) -> None:
        table = self.query_one("#vocab-table", DataTable)
        table.clear()
        vocab, counts = self.figures["vocab"], self.figures["counts"]
        query = query.strip().lower()
        shown = 0
        for token_id, token in enumerate(vocab.itos):
            if query and query not in token:
                continue
            table.add_row(str(token_id), token.replace("\n", "\\n"), f"{counts.get(token, 0):,}")
            shown += 1
            if shown >= VOCAB_ROWS:
                break

    def show_batch(self) -> None:
        from l4tui.inspect.text_steps import lm_batch

        vocab = self.figures["vocab"]
        docs = [vocab.numericalize(tokens) for tokens in self.batch_tokens]
        try:
            x, y = lm_batch(docs, bs=LM_BS, bptt=LM_BPTT, index=self.batch)
        except ValueError as error:
            self.query_one("#text-batch", Static).update(f"no LM batch: {error}")
            return
        out = Text(f"A language model's batch {self.batch} (b next): bs={LM_BS} rows, bptt={LM_BPTT}\n"
                   "x, what the model reads:\n", style="bold")
        for row in x:
            out.append(" ".join(vocab.itos[i] for i in row) + "\n", style="")
        out.append("y, what it must predict: x moved on by one word\n", style="bold")
        for row in y:
            out.append(" ".join(vocab.itos[i] for i in row) + "\n", style="green")
        self.query_one("#text-batch", Static).update(out)

    # ---- actions ------------------------------------------------------------------------------

    def action_edit(self) -> None:
        box = self.query_one("#text-input", Input)
        box.value = ""
        box.focus()

    @on(Input.Submitted, "#text-input")
    def _text_entered(self, event: Input.Submitted) -> None:
        self.text = event.value
        self.query_one("#text-box").focus()
        self.show_text()

    @on(Input.Changed, "#vocab-filter")
    def _filter(self, event: Input.Changed) -> None:
        if self.figures is not None:
            self.fill_vocab_table(event.value)

    @on(Input.Submitted, "#vocab-filter")
    def _filter_done(self) -> None:
        self.query_one("#vocab-table").focus()

    def action_find(self) -> None:
        self.query_one("#vocab-filter", Input).focus()

    def action_next_text(self, step: int) -> None:
        if self.texts:
            self.index = (self.index + step) % len(self.texts)
            self.text = self.texts[self.index]
            self.show_text()

    def action_min_freq(self, step: int) -> None:
        self.min_freq = max(1, self.min_freq + step)
        self.rebuild_vocab()

    def action_max_vocab(self, factor: float) -> None:
        self.max_vocab = max(16, int(self.max_vocab * factor))
        self.rebuild_vocab()

    def action_next_batch(self) -> None:
        if self.figures is not None:
            self.batch += 1
            self.show_batch()

    def action_back(self) -> None:
        if self.focused is not None and isinstance(self.focused, (Input, DataTable)):
            self.query_one("#text-box").focus()  # Esc first leaves the text box or the table
            return
        self.app.pop_screen()
