"""The Model pane's tabs for one kind of model:

- Training: the activation statistics a run recorded (activation_stats_every > 0), as fastai's
  "colorful dimension": per layer, a histogram of its activations at each recorded step, so a
  layer whose activations collapse to zero or explode stands out;
- Biases & factors (collab): the movies with the lowest and highest biases beside their mean
  ratings, the first principal components of the movie factors with the titles at each end, and
  the movies most similar to one you type;
- Generate (language model): text from a prompt with a temperature and top-k, and each step's
  top candidates.
"""

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Static

from l4tui.inspect.cell_plots import shrink
from l4tui.runs.checkpoints import run_dir_of_checkpoint
from l4tui.textcut import cut_title
from l4tui.ui.heat import heat_text
from l4tui.ui.model_runner import ModelRunner
from l4tui.ui.tables import DataTable
from l4tui.ui.key_order import InOrderInput
from l4tui.ui.off_thread import in_thread


class TrainingTab(Vertical):
    DEFAULT_CSS = """
    TrainingTab { height: 1fr; }
    TrainingTab #train-head { height: auto; padding: 0 1; }
    TrainingTab #train-lower { height: 1fr; }
    TrainingTab #train-table { width: 1fr; max-width: 55%; height: 1fr; }
    TrainingTab #train-heat { width: 1fr; height: 1fr; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.history = None

    @staticmethod
    def applies_to(subject, weights: str) -> bool:
        return run_dir_of_checkpoint(weights) is not None

    def compose(self) -> ComposeResult:
        yield Static("", id="train-head", markup=False)
        with Horizontal(id="train-lower"):
            yield DataTable(id="train-table", cursor_type="row")
            yield Static("", id="train-heat")

    def on_mount(self) -> None:
        self.query_one("#train-table", DataTable).add_columns("layer", "mean", "std", "≈0", "")

    def show(self, subject, weights: str) -> None:
        self.load(run_dir_of_checkpoint(weights))

    @work(exclusive=True, group="train-history")
    async def load(self, run_dir: Path) -> None:

        from l4tui.inspect.activation_history import dead_or_exploding, read_activation_history

        head = self.query_one("#train-head", Static)
        table = self.query_one("#train-table", DataTable)
        table.clear()
        self.query_one("#train-heat", Static).update("")
        try:
            self.history = await in_thread(read_activation_history, run_dir)
        except (OSError, ValueError) as error:
            head.update(f"can't read the run's activation statistics: {error}")
            return
        if not self.history.layers:
            head.update(f"run {run_dir.name} recorded no activation statistics. Start a run with "
                        "activation_stats_every set (in the launch form, or --activation-stats-every N) to see "
                        "each layer's activations over training here.")
            return
        flags = dict(dead_or_exploding(self.history))
        head.update(f"activations of {run_dir.name} over {len(self.history.steps)} recorded steps: each layer's "
                    "histogram (rows: values, low at the bottom; columns: steps; brighter: more of them)"
                    + (f" · flagged: {', '.join(flags)}" if flags else ""))
        for name, layer in self.history.layers.items():
            table.add_row(name, f"{layer.mean[-1]:.3g}", f"{layer.std[-1]:.3g}", f"{layer.near_zero[-1]:.0%}",
                          flags.get(name, ""), key=name)
        self.show_layer(self.history.names[0])

    @on(DataTable.RowHighlighted, "#train-table")
    def _layer(self, event: DataTable.RowHighlighted) -> None:
        if self.history is not None and event.row_key is not None:
            self.show_layer(event.row_key.value)

    def show_layer(self, name: str) -> None:
        widget = self.query_one("#train-heat", Static)
        colorful = self.history.colorful(name)[::-1]  # the highest values on top, as a plot
        width = max(8, (widget.size.width or 40) - 1)
        grid = shrink(colorful, 20, width)
        edges = [e for e in self.history.bin_edges if abs(e) != float("inf")]  # the outer bins catch the rest
        scale = f"values from {edges[0]:.3g} (bottom) to {edges[-1]:.3g} (top)" if edges else "values"
        widget.update(Text.assemble((f"{name}: {scale}, the {len(self.history.steps)} steps left to right\n", "bold"),
                                    heat_text(grid, cell=" ")))


class InterpretTab(VerticalScroll):
    DEFAULT_CSS = """
    InterpretTab { height: 1fr; padding: 0 1; }
    InterpretTab #interp-movie { height: 1; border: none; padding: 0 1; margin: 1 0; }
    """

    @staticmethod
    def applies_to(subject, weights: str) -> bool:
        return subject.name == "collab"

    def compose(self) -> ComposeResult:
        yield Static("", id="interp-biases", markup=False)
        yield Static("", id="interp-components", markup=False)
        yield InOrderInput(placeholder="a movie (title or id): Enter lists the most similar", id="interp-movie")
        yield Static("", id="interp-similar", markup=False)

    def show(self, subject, weights: str) -> None:
        self.subject = subject
        if subject.items:
            first = subject.titles.get(subject.items[0], str(subject.items[0]))
            box = self.query_one("#interp-movie", Input)
            box.value = box.value or first
        self.load()

    @work(exclusive=True, group="interpret")
    async def load(self) -> None:

        from l4tui.inspect.collab_interpret import factor_components, movie_bias_line, movie_biases

        subject = self.subject
        model = subject.model
        if subject.weights == "fresh":
            note = "fresh weights: random biases and factors (pick a trained run's checkpoint for the lesson's view)\n"
        else:
            note = ""

        rows = len(subject.items) + 1  # a fresh lesson-size model has more rows than the sample has movies

        def compute():
            lowest, highest = movie_biases(model.i_bias.weight[:rows], subject.items, subject.titles,
                                           subject.ratings, n=8)
            components = factor_components(model.i_weight.weight[:rows], subject.items, subject.titles,
                                           subject.ratings, n_components=3, n=4)
            return lowest, highest, components

        try:
            lowest, highest, components = await in_thread(compute)
        except Exception as error:
            self.query_one("#interp-biases", Static).update(f"can't interpret these weights: {error}")
            return
        lines = [note + "Lowest biases: liked less than their kind of movie would suggest, whoever watches"]
        lines += [movie_bias_line(b) for b in lowest]
        lines.append("Highest biases: liked even by people who don't like their kind of movie")
        lines += [movie_bias_line(b) for b in highest]
        self.query_one("#interp-biases", Static).update("\n".join(lines))
        lines = ["Principal components of the factors of the most rated movies: the titles at each end"]
        for c in components:
            lines.append(f"  {c.number}. {c.variance_share:.0%} of the variance")
            lines.append("     + " + " · ".join(cut_title(title, 28) for title, _ in c.highest))
            lines.append("     − " + " · ".join(cut_title(title, 28) for title, _ in c.lowest))
        self.query_one("#interp-components", Static).update("\n".join(lines))
        self.show_similar(self.query_one("#interp-movie", Input).value)

    @on(Input.Submitted, "#interp-movie")
    def _movie(self, event: Input.Submitted) -> None:
        self.show_similar(event.value)

    def show_similar(self, movie: str) -> None:
        from l4tui.inspect.collab_interpret import similar_movies

        widget = self.query_one("#interp-similar", Static)
        if not movie.strip():
            widget.update("")
            return
        subject = self.subject
        try:
            query = int(movie) if movie.strip().isdigit() else movie.strip()
            weights = subject.model.i_weight.weight[:len(subject.items) + 1]
            similar = similar_movies(weights, subject.items, subject.titles, query, n=10)
        except ValueError as error:
            widget.update(str(error))
            return
        lines = [f"Most similar to {movie.strip()} (cosine of their factors):"]
        lines += [f"  {similarity:.3f}  {title}" for title, similarity in similar]
        widget.update("\n".join(lines))


class GenerateTab(Vertical):
    DEFAULT_CSS = """
    GenerateTab { height: 1fr; }
    GenerateTab #gen-inputs { height: 1; margin-bottom: 1; }
    GenerateTab #gen-inputs Input { height: 1; border: none; padding: 0 1; }
    GenerateTab #gen-prompt { width: 1fr; }
    GenerateTab #gen-temperature { width: 8; margin-left: 1; }
    GenerateTab #gen-top-k { width: 8; margin-left: 1; }
    GenerateTab #gen-words { width: 8; margin-left: 1; }
    GenerateTab #gen-help { height: auto; color: $text-muted; padding: 0 1; }
    GenerateTab #gen-text { height: auto; padding: 1 1; }
    GenerateTab #gen-steps { height: 1fr; }
    """

    def __init__(self, runner: ModelRunner) -> None:
        super().__init__()
        self.runner = runner  # the pane's: one pass on the model at a time
        self.subject = None
        self.default_prompt = "I liked this movie because"  # the lesson's, until a model's vocab says otherwise

    @staticmethod
    def applies_to(subject, weights: str) -> bool:
        return subject.name == "lm"

    def compose(self) -> ComposeResult:
        with Horizontal(id="gen-inputs"):
            yield InOrderInput(value=self.default_prompt, id="gen-prompt")
            yield InOrderInput(value="0.75", id="gen-temperature", placeholder="temperature")
            yield InOrderInput(value="", id="gen-top-k", placeholder="top-k")
            yield InOrderInput(value="20", id="gen-words", placeholder="words")
        yield Static("prompt · temperature (0: always the likeliest) · top-k (empty: all) · words; Enter generates",
                     id="gen-help", markup=False)
        yield Static("", id="gen-text", markup=False)
        yield DataTable(id="gen-steps", cursor_type="row")

    def on_mount(self) -> None:
        self.query_one("#gen-steps", DataTable).add_columns("#", "picked", "p", "the model's top candidates")

    def show(self, subject, weights: str) -> None:
        from l4tui.inspect.generate import default_prompt

        self.subject = subject
        prompt = self.query_one("#gen-prompt", Input)
        if prompt.value == self.default_prompt:  # not one the user typed: one the model can read
            prompt.value = self.default_prompt = default_prompt(subject.vocab)
        self.query_one("#gen-text", Static).update(
            "fresh weights: random words (pick a trained run's checkpoint)" if subject.weights == "fresh" else "")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id and event.input.id.startswith("gen-"):
            self.generate()

    @work(exclusive=True, group="generate")
    async def generate(self) -> None:
        from l4tui.inspect.generate import generate

        text = self.query_one("#gen-text", Static)
        prompt = self.query_one("#gen-prompt", Input).value
        def number(box: str, kind, empty):
            """The number in the box #gen-BOX (`empty` when it is empty), or a ValueError naming it."""
            text = self.query_one(f"#gen-{box}", Input).value.strip()
            try:
                return kind(text) if text else empty
            except ValueError:
                raise ValueError(f"{box} must be {'a whole number' if kind is int else 'a number'}, "
                                 f"not {text!r}") from None

        try:
            temperature = number("temperature", float, 0.75)
            top_k = number("top-k", int, None)
            n_words = number("words", int, 20)
            if not prompt.strip():
                raise ValueError("type a prompt: the model continues a text")
            if n_words > 500:
                raise ValueError("at most 500 words at a time")
        except ValueError as error:
            text.update(f"can't generate: {error}")
            return
        text.update("generating ...")
        subject = self.subject
        try:
            result = await self.runner.run(
                generate, subject.model, subject.vocab, prompt, n_words, temperature, top_k)
        except ValueError as error:
            text.update(f"can't generate: {error}")
            return
        unknown = f"\n(not in the vocab, read as xxunk: {', '.join(result.unknown_words)})" if result.unknown_words else ""
        text.update(f"{result.text}{unknown}")
        table = self.query_one("#gen-steps", DataTable)
        table.clear()
        for n, step in enumerate(result.steps, 1):
            table.add_row(str(n), step.token, f"{step.probability:.1%}",
                          " · ".join(f"{token} {p:.0%}" for token, p in step.candidates[:5]))
