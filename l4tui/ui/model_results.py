"""The Model pane's Results tab, for a trained run's classifier, tabular or collab weights:

- classifier and tabular: the confusion matrix and the top losses of the run's validation items
  (fastai's ClassificationInterpretation: plot_confusion_matrix, plot_top_losses);
- reviews: the words that pushed the prediction (gradient × embedding), coloured towards each
  class, for the highlighted top loss (w) or a review typed in the box;
- collab: the worst-predicted validation ratings.

The numbers come from l4tui.inspect.interpret, on the items l4tui.train.validation splits as the
recipe did; they are computed in a thread (the pane's ModelRunner: one pass on the model at a
time) and kept per checkpoint, so coming back to the tab shows them at once.
"""

import threading

from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from l4tui.runs.checkpoints import run_dir_of_checkpoint
from l4tui.ui.heat import ramp_color
from l4tui.ui.model_runner import ModelRunner
from l4tui.ui.tables import DataTable
from l4tui.ui.key_order import InOrderInput

N_WORST = 30
MAX_CACHED = 4  # checkpoints whose results are kept (the full IMDB's are its 25,000 reviews)
TOWARDS_FIRST = (214, 56, 56)  # red: pushes towards the first class (negative for IMDB)
TOWARDS_SECOND = (46, 160, 67)  # green: towards the second


class ResultsTab(VerticalScroll):
    DEFAULT_CSS = """
    ResultsTab #res-head { height: auto; padding: 0 1; }
    ResultsTab #res-matrix { height: auto; padding: 0 1; margin: 1 0 0 0; }
    ResultsTab #res-table { height: auto; max-height: 60vh; }
    ResultsTab #res-review { height: 1; border: none; padding: 0 1; margin: 1 0 0 0; }
    ResultsTab #res-words { height: auto; padding: 0 1; }
    """

    HELP_KEYS = [("Enter", "In the review box: the words that pushed the typed review")]
    BINDINGS = [
        Binding("w", "words", "Words", id="results.words",
                tooltip="The words that pushed the highlighted top-loss review (gradient × embedding)"),
        Binding("e", "edit_review", "Type a review", id="results.review",
                tooltip="Type a review of your own: Enter colours its words"),
    ]

    def __init__(self, runner: ModelRunner) -> None:
        super().__init__()
        self.runner = runner
        self.subject = None
        self.weights = ""
        self.cache: dict[str, dict] = {}  # weights path -> what load() computed
        self.shown: dict | None = None
        self.cancel = threading.Event()  # set: stop the reading in progress

    @staticmethod
    def applies_to(subject, weights: str) -> bool:
        return subject.name in ("classifier", "tabular", "collab") and run_dir_of_checkpoint(weights) is not None

    def compose(self) -> ComposeResult:
        yield Static("", id="res-head", markup=False)
        yield Static("", id="res-matrix", markup=False)
        yield DataTable(id="res-table", cursor_type="row")
        yield InOrderInput(placeholder="type a review: Enter shows the words that pushed it", id="res-review")
        yield Static("", id="res-words", markup=False)

    def stop(self) -> None:
        """Stop reading the validation items (at the next batch): the pane builds other weights."""
        self.cancel.set()

    def show(self, subject, weights: str) -> None:
        self.cancel.set()  # whatever was being read is for other weights
        self.subject, self.weights = subject, weights
        self.query_one("#res-review", Input).display = subject.name == "classifier"
        self.query_one("#res-words", Static).update("")
        if weights in self.cache:
            self.present(self.cache[weights])
        else:
            self.load(subject, weights)

    # ---- computing ----------------------------------------------------------------------------

    @work(exclusive=True, group="results")
    async def load(self, subject, weights: str) -> None:
        import threading

        head = self.query_one("#res-head", Static)
        self.query_one("#res-matrix", Static).update("")
        self.query_one("#res-table", DataTable).clear(columns=True)
        head.update(f"reading {subject.weights}'s validation items, as its recipe split them ...")
        progress = self.app.call_from_thread
        # The full IMDB's 25,000 reviews take minutes on a CPU, holding the model: when other
        # weights are chosen meanwhile, the reading stops at its next batch and frees it.
        self.cancel.set()
        cancel = self.cancel = threading.Event()

        def report(done: int, total: int) -> None:
            if cancel.is_set():
                raise Cancelled()
            progress(head.update, f"the model reads the validation reviews: {done:,} of {total:,} ...")

        try:
            found = await self.runner.run(compute_results, subject, report,
                                          what=f"the validation items of {subject.weights}")
        except Cancelled:
            return
        except Exception as error:  # the data moved or changed since the run, a damaged file: say why
            from l4tui.textcut import clip

            message = str(error) if isinstance(error, (ValueError, OSError)) else f"{type(error).__name__}: {error}"
            head.update(f"can't compute the results: {clip(message, 300)}")
            return
        self.cache[weights] = found
        while len(self.cache) > MAX_CACHED:  # the oldest first: dicts keep their order
            self.cache.pop(next(iter(self.cache)))
        if self.weights == weights:
            self.present(found)

    def present(self, found: dict) -> None:
        self.shown = found
        if found["family"] == "collab":
            self.present_collab(found)
        else:
            self.present_classes(found)

    def present_classes(self, found: dict) -> None:
        results, items = found["results"], found["items"]
        subject = self.subject
        matrix = results.matrix
        self.query_one("#res-head", Static).update(
            f"{subject.weights} on its {items.n:,} validation items ({items.how or 'as the recipe split them'}): "
            f"accuracy {results.accuracy:.1%} ({int(matrix.trace()):,} right), mean loss "
            f"{results.losses.mean():.4f}")
        self.query_one("#res-matrix", Static).update(matrix_text(matrix, results.classes))
        self.query_one("#res-matrix", Static).display = True
        table = self.query_one("#res-table", DataTable)
        table.clear(columns=True)
        what = "review" if found["family"] == "classifier" else "row"
        table.add_columns("loss", "actual", "predicted", "p(actual)", what)
        for top in found["top"]:
            table.add_row(f"{top.loss:.3f}", clip_cell(top.actual), clip_cell(top.predicted),
                          f"{top.probability:.3f}", found["describe"](top.index), key=str(top.index))

    def present_collab(self, found: dict) -> None:
        subject = self.subject
        self.query_one("#res-head", Static).update(
            f"{subject.weights} on its {found['items'].n:,} validation ratings: RMSE {found['rmse']:.4f}; "
            f"the {len(found['worst'])} predicted worst (largest |prediction − rating|):")
        self.query_one("#res-matrix", Static).display = False
        table = self.query_one("#res-table", DataTable)
        table.clear(columns=True)
        table.add_columns("user", "movie", "rating", "predicted", "error")
        for n, worst in enumerate(found["worst"]):
            table.add_row(str(worst.user), clip_cell(worst.title, 26), f"{worst.rating:g}",
                          f"{worst.prediction:.2f}", f"{worst.error:+.2f}", key=str(n))

    # ---- the words that pushed a review ---------------------------------------------------------

    def action_words(self) -> None:
        found = self.shown
        if found is None or found["family"] != "classifier":
            self.query_one("#res-words", Static).update("the words that pushed a prediction: for a review "
                                                        "classifier's results")
            return
        table = self.query_one("#res-table", DataTable)
        if not table.row_count:
            return
        index = int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        self.explain(found["items"].texts[index], f"top loss {table.cursor_row + 1}")

    def action_edit_review(self) -> None:
        box = self.query_one("#res-review", Input)
        if box.display:
            box.focus()

    @on(Input.Submitted, "#res-review")
    def _review(self, event: Input.Submitted) -> None:
        self.explain(event.value, "your review")

    @on(DataTable.RowSelected, "#res-table")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        self.action_words()

    @work(exclusive=True, group="results-words")
    async def explain(self, text: str, what: str) -> None:
        from l4tui.inspect.interpret import word_attributions
        from l4tui.ui.model_runner import ModelBusy

        widget = self.query_one("#res-words", Static)
        widget.update(f"{what}: working out each word's push ...")
        try:
            pushes = await self.runner.run(word_attributions, self.subject, text, what="gradient × embedding")
        except (ValueError, ModelBusy) as error:
            widget.update(f"can't explain it: {error}")
            return
        widget.update(words_text(pushes, what))
        self.call_after_refresh(widget.scroll_visible)


class Cancelled(Exception):
    """Other weights were chosen while the validation items were being read."""


def compute_results(subject, progress=None) -> dict:
    """Everything the tab shows for one checkpoint (run in a thread)."""
    from l4tui.inspect.interpret import class_results, classify_rows, classify_texts, top_losses, worst_ratings
    from l4tui.inspect.predict import one_line
    from l4tui.train.validation import validation_items

    items = validation_items(subject.name, subject.config)
    if subject.name == "collab":
        worst, rmse = worst_ratings(subject, items.users, items.items, items.ratings, n=N_WORST)
        return {"family": "collab", "items": items, "worst": worst, "rmse": rmse}
    if subject.name == "classifier":
        if list(items.classes) != list(subject.classes):
            raise ValueError(f"the data's classes are now {items.classes}, the run's were {subject.classes}: "
                             "the data changed since the run")
        logits, targets = classify_texts(subject, items.texts, progress=progress), items.targets

        def describe(index: int) -> str:
            return one_line(items.texts[index], 200)
    else:
        logits, targets = classify_rows(subject, items.frame)
        columns = list(subject.processor.cat_names) + list(subject.processor.cont_names)

        def describe(index: int) -> str:
            row = items.frame.iloc[index]
            return one_line(", ".join(f"{name}={str(row[name]).strip()}" for name in columns), 200)
    results = class_results(logits, targets, subject.classes)
    return {"family": subject.name, "items": items, "results": results, "top": top_losses(results, N_WORST),
            "describe": describe}


def clip_cell(text: str, width: int = 14) -> str:
    text = str(text)
    return text if len(text) <= width else text[:width - 1] + "…"


def matrix_text(matrix, classes: list[str]) -> Text:
    """The confusion matrix as cells coloured by their count (brighter: more), rows the actual
    class and columns the predicted one, as fastai plots it."""
    width = max(8, max(len(clip_cell(c, 12)) for c in classes) + 1)
    out = Text()
    out.append("confusion matrix: rows actual, columns predicted\n", style="bold")
    out.append(" " * width + "".join(clip_cell(c, 12).rjust(width) for c in classes) + "\n")
    top = max(1, int(matrix.max()))
    for a, name in enumerate(classes):
        out.append(clip_cell(name, 12).ljust(width))
        for p in range(len(classes)):
            share = matrix[a, p] / top
            background = ramp_color(0.15 + 0.85 * share)
            foreground = Color.from_rgb(0, 0, 0) if share > 0.55 else Color.from_rgb(255, 255, 255)
            out.append(f"{int(matrix[a, p]):,}".rjust(width - 1) + " ", style=Style(color=foreground, bgcolor=background))
        out.append("\n")
    return out


def words_text(pushes, what: str) -> Text:
    """The review's tokens coloured by their push (gradient × embedding), with a legend."""
    first, second = pushes.towards
    top = max((abs(s) for s in pushes.scores), default=0.0) or 1.0
    out = Text()
    probability = max(pushes.probabilities)
    out.append(f"{what}: predicted {pushes.predicted} ({probability:.1%}). ", style="bold")
    if first:
        out.append(" red ", style=Style(bgcolor=Color.from_rgb(*TOWARDS_FIRST), color="white"))
        out.append(f" pushed towards {first} · ")
    out.append(" green ", style=Style(bgcolor=Color.from_rgb(*TOWARDS_SECOND), color="white"))
    out.append(f" towards {second} · brighter: harder (gradient × embedding)\n")
    for token, score in zip(pushes.tokens, pushes.scores):
        share = min(1.0, abs(score) / top)
        rgb = TOWARDS_SECOND if score >= 0 else TOWARDS_FIRST
        if share < 0.08:
            out.append(token, style="dim" if token.startswith("xx") else "")
        else:
            background = tuple(round(30 + (c - 30) * share) for c in rgb)
            out.append(token, style=Style(bgcolor=Color.from_rgb(*background), color="white"))
        out.append(" ")
    strongest = ", ".join(f"{token} {score:+.2g}" for token, score in pushes.strongest(6))
    out.append(f"\nstrongest: {strongest}", style="dim")
    return out
