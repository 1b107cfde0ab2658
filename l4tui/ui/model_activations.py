"""The Model pane's Activations tab: type an input, see each layer's output, then the prediction.

The input is what the model takes: a sentence (language model, classifier), a row of the table
(one box per column), or a user and a movie (collab). Enter runs it through the model once,
with hooks on every layer that are always taken off again. Each layer's activation is listed
with its shape and numbers; the highlighted one is drawn as a heat map (for an LSTM: its hidden
units over the time steps).
"""

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Label, Static

from l4tui.inspect.cell_plots import shrink
from l4tui.inspect.summary import example_shapes_text
from l4tui.ui.heat import heat_text
from l4tui.ui.model_runner import ModelRunner
from l4tui.ui.tables import DataTable
from l4tui.ui.key_order import InOrderInput


class ActivationsTab(Vertical):
    DEFAULT_CSS = """
    ActivationsTab { height: 1fr; }
    ActivationsTab #act-input { height: 1; border: none; padding: 0 1; margin-bottom: 1; }
    ActivationsTab #act-form { height: auto; max-height: 5; }
    ActivationsTab .act-row { height: 1; }
    ActivationsTab .act-label { width: 18; padding: 0 1; }
    ActivationsTab .act-field { width: 1fr; height: 1; border: none; padding: 0 1; }
    ActivationsTab #act-status { height: auto; padding: 0 1; color: $text-muted; }
    ActivationsTab #act-lower { height: 1fr; }
    ActivationsTab #act-table { height: auto; max-height: 9; }
    ActivationsTab #act-right { height: 1fr; padding: 0 1; }
    ActivationsTab #act-output { height: auto; margin-bottom: 1; }
    ActivationsTab #act-heatmap { height: auto; }
    """

    def __init__(self, runner: ModelRunner) -> None:
        super().__init__()
        self.runner = runner  # the pane's: one pass on the model at a time
        self.subject = None
        self.capture = None
        self.form_names: list[str] = []

    def compose(self) -> ComposeResult:
        yield InOrderInput(id="act-input")
        # Not focusable itself: its boxes are (Tab from the sentence box went to this hidden form).
        yield VerticalScroll(id="act-form", can_focus=False)
        yield Static("", id="act-status", markup=False)
        with Vertical(id="act-lower"):
            yield DataTable(id="act-table", cursor_type="row")
            with VerticalScroll(id="act-right"):
                yield Static("", id="act-output", markup=False)
                yield Static("", id="act-heatmap")

    def on_mount(self) -> None:
        if not self.query("#act-table"):  # the app closed while the pane was being built (seen in a test)
            return
        self.query_one("#act-table", DataTable).add_columns("layer", "shape", "mean", "std", "|x|<1e-3")

    def show(self, subject) -> None:
        from l4tui.inspect.subject import example_input_text, input_kind

        self.subject, self.capture = subject, None
        self.query_one("#act-table", DataTable).clear()
        for widget in ("#act-output", "#act-heatmap"):
            self.query_one(widget, Static).update("")
        kind = input_kind(subject)
        box, form = self.query_one("#act-input", Input), self.query_one("#act-form", VerticalScroll)
        form.remove_children()
        self.form_names = []
        box.display = kind in ("text", "pair")
        form.display = kind == "row"
        start = example_input_text(subject)
        if kind == "text":
            box.placeholder = "a sentence; Enter runs it through the model"
            box.value = start
        elif kind == "pair":
            box.placeholder = "a user, a movie (id or part of its title): 196, star wars"
            box.value = start
        elif kind == "row":
            self.form_names = list(start)
            continuous = set(subject.processor.cont_names)
            form.mount_all([Horizontal(Label(f"{name}{' #' if name in continuous else ''}", classes="act-label"),
                                       InOrderInput(value=value, id=f"act-field-{i}", classes="act-field"),
                                       classes="act-row")
                            for i, (name, value) in enumerate(start.items())])
        self.query_one("#act-status", Static).update(
            "Enter runs the input through the model" if kind != "example"
            else "this model's own example_input goes through it")
        self.run_input()

    def typed(self):
        from l4tui.inspect.subject import input_kind

        kind = input_kind(self.subject)
        if kind == "row":
            return {name: self.query_one(f"#act-field-{i}", Input).value for i, name in enumerate(self.form_names)}
        if kind == "example":
            return None
        return self.query_one("#act-input", Input).value

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "act-input" or event.input.has_class("act-field"):
            self.run_input()

    @work(exclusive=True, group="activations")
    async def run_input(self) -> None:
        from l4tui.inspect.activations import capture_activations
        from l4tui.inspect.outputs import explain_output
        from l4tui.inspect.subject import AmbiguousInput, InputError, encode_input, unknown_categories

        subject = self.subject
        if subject is None:
            return
        status = self.query_one("#act-status", Static)
        typed = self.typed()
        try:
            inputs = encode_input(subject, typed)
        except AmbiguousInput as error:  # "42, mountain": the user picks which mountain
            status.update(f"{error} (↑↓ Enter; Escape: none)")
            self.offer_choices(error)
            return
        except InputError as error:
            status.update(f"can't use this input: {error}")
            return
        status.update("running it through the model ...")

        def run():
            capture = capture_activations(subject.model, inputs)
            return capture, explain_output(subject, inputs, capture.output, typed)

        try:
            self.capture, lines = await self.runner.run(run)
        except InputError as error:
            status.update(f"can't use this input: {error}")
            return
        except Exception as error:  # a user's model, a shape that does not fit: say it, keep going
            status.update(f"the forward pass failed: {type(error).__name__}: {error}")
            return
        notes = []
        if isinstance(typed, dict):
            unknown = unknown_categories(subject, typed)
            if unknown:
                notes.append(f"not seen in training, so #na#: {', '.join(unknown)}")
        shape = example_shapes_text(inputs)
        status.update(f"input {shape} · {len(self.capture.activations)} layer outputs" +
                      (" · " + "; ".join(notes) if notes else "") + " · ↑↓ a layer for its heat map")
        self.query_one("#act-output", Static).update("\n".join(lines))
        table = self.query_one("#act-table", DataTable)
        table.clear()
        for index, activation in enumerate(self.capture.activations):
            s = activation.stats
            name = (activation.name or "(model)") + (f" #{activation.call + 1}" if activation.call else "")
            table.add_row(name, "×".join(map(str, activation.output_shape or ())) or "-",
                          f"{s.mean:.3g}" if s and s.mean is not None else "-",
                          f"{s.std:.3g}" if s and s.std is not None else "-",
                          f"{s.near_zero_share:.0%}" if s else "-", key=str(index))
        self.show_heatmap(len(self.capture.activations) - 1)

    def offer_choices(self, error) -> None:
        """The users or movies a part of the input could mean, in the finder's list: the one
        picked replaces that part, and the input runs."""
        from l4tui.inspect.subject import pair_text
        from l4tui.textcut import cut_title
        from l4tui.ui.picker import PickItem, PickerScreen

        subject, found = self.subject, error.found
        items = [PickItem(cut_title(m.label, 70), None, f"{m.kind} {m.id}" if m.id else "") for m in found.choices]

        def chosen(item) -> None:
            if item is None or self.subject is not subject or not self.is_attached:
                return
            box = self.query_one("#act-input", Input)
            box.value = pair_text(subject, error.parts, error.part, found.choices[items.index(item)])
            self.run_input()

        self.app.push_screen(PickerScreen(f"{found.choices_title()} · ↑↓ Enter: pick · Esc: none", items,
                                          preview=False), chosen)

    @on(DataTable.RowHighlighted, "#act-table")
    def _layer(self, event: DataTable.RowHighlighted) -> None:
        if self.capture is not None and event.row_key is not None:
            self.show_heatmap(int(event.row_key.value))

    def show_heatmap(self, index: int) -> None:
        widget = self.query_one("#act-heatmap", Static)
        if self.capture is None or not 0 <= index < len(self.capture.activations):
            widget.update("")
            return
        activation = self.capture.activations[index]
        grid = activation.heatmap
        if grid is None or grid.size == 0:
            widget.update(f"{activation.name}: no numbers to draw")
            return
        shape = activation.output_shape or ()
        if len(shape) == 3:
            how = f"hidden units (rows) over {shape[1]} time steps (columns), first example"
        elif len(shape) == 2:
            how = "one row per example, features across"
        else:
            how = "its numbers"
        width = max(8, ((self.query_one("#act-right").size.width or 40) - 2))
        cell = "  " if grid.shape[1] * 2 <= width else " "
        text = heat_text(shrink(grid, 16, width // len(cell)), cell=cell, symmetric=True)
        widget.update(Text.assemble((f"{activation.name or 'output'}: {how} (0 is the middle colour)\n", "bold"), text))
