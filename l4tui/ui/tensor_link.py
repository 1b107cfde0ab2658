"""The Code pane and the Model pane, linked.

- `K` on `self.u_weight` (a parameter, a buffer or a layer, in a model file) shows, under the
  signature and docstring, the tensor that line made in the chosen weights: its shape, dtype,
  statistics, a histogram and its rows with the largest norm, labelled (movie titles, tokens).
  The weights: the run highlighted in pane 2 when its model has that class, else what the Model
  pane shows, else fresh weights; `w` chooses others. `m` shows the same tensor in the Model
  pane's Parameters tab.
- `gd` on a layer in the Model pane's Layers tab opens its class's definition in the Code pane
  (model_layers.py posts OpenCode; the app opens it).

The link itself (which modules are instances of the class, what `self.X` is in each) comes from
`l4tui.inspect.source_link`. Models are built through the Model pane's runner, in its thread,
one pass at a time; and K never builds a model from a file of the user's (looking never runs
code: docs/trust.md): it uses the Model pane's model when that is built from it, else says how.
"""

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from l4tui.code.location import Location
from l4tui.code.navigator import Help
from l4tui.ui.doc_screen import DocScreen, help_text
from l4tui.ui.off_thread import in_thread

FRESH = "fresh"  # the Model pane's id of fresh weights (model_pane.FRESH: that module is heavy to import)
SHOWN_IN_FULL = 4  # tensors shown with a histogram and top rows; the rest in one line each
HISTOGRAM_LINES = 3
MAX_BINS = 80


@dataclass(frozen=True)
class Choice:
    """Weights to look in: a model of the catalog, fresh or a run's checkpoint."""

    entry: object  # catalog.ModelEntry
    weights: str  # FRESH or a checkpoint file's path
    label: str  # "collab · fresh (lesson)", "collab · 20261206-...-abcd · best"
    why: str = ""  # "the run selected in pane 2", ...


# ---- is there a `self.X` under the cursor, in a model file? ----------------------------------

def is_model_file(path: Path, workspace: Path) -> bool:
    """A file the Model pane builds models from: the workspace's models/ or l4tui's bundled one."""
    from l4tui.modelfiles import search_folders

    try:
        return Path(path).suffix == ".py" and Path(path).resolve().parent in search_folders(workspace)
    except OSError:
        return False


async def attribute_under_cursor(path: Path, lines: list[str], origin: Location, workspace: Path):
    """The SourceAttribute under the cursor when the file is a model file, else None (parsed in a
    thread: the file may be long)."""
    if path is None or not is_model_file(path, workspace):
        return None
    from l4tui.inspect.source_link import attribute_at

    return await in_thread(attribute_at, "\n".join(lines), origin.line, origin.column)


NOT_TENSORS = {"function", "class", "module", "keyword"}  # jedi's kinds of a name that holds no tensor


def worth_linking(attribute, help: Help | None) -> bool:
    """`self.reset()` is a method: K shows its docstring only, and builds no model to say so."""
    return attribute is not None and (help is None or help.kind not in NOT_TENSORS)


def bare_help(attribute, path: Path) -> Help:
    """What K shows above the tensor when jedi has nothing to say about the attribute."""
    return Help(attribute.text, "attribute", attribute.class_name, [], "", Location(Path(path), attribute.line, 0))


# ---- which models, which weights --------------------------------------------------------------

def candidate_entries(path: Path, workspace: Path) -> list:
    """The catalog's models that may hold a class of `path`: those built from that file first,
    then, for a lesson file, the other lesson models (they import each other's classes:
    EmbeddingNN is a TabularModel)."""
    from l4tui.inspect.catalog import LESSON_FILES, LESSON_MODELS, source_file, user_models

    wanted = Path(path).resolve()
    own, others = [], []
    for entry in LESSON_MODELS + user_models(workspace):
        try:
            built_from = source_file(entry, workspace).resolve()
        except (FileNotFoundError, OSError):
            continue
        if built_from == wanted:
            own.append(entry)
        elif not entry.user and wanted.stem in LESSON_FILES:
            others.append(entry)
    return own + others


def checkpoint_choices(entry, runs_dir: Path | None) -> list[Choice]:
    """Every checkpoint of every run that trained `entry`'s model, newest run first."""
    from l4tui.runs.checkpoints import list_checkpoints
    from l4tui.runs.store import list_runs

    if runs_dir is None:
        return []
    choices = []
    for run in list_runs(runs_dir):
        if run.family != entry.name or getattr(run, "mode", "train") == "lr_find":
            continue
        for checkpoint in list_checkpoints(run.run_dir):
            choices.append(Choice(entry, str(checkpoint.path), f"{entry.name} · {run.id} · {checkpoint.label}"))
    return choices


def buildable(entry, workspace: Path) -> bool:
    """K builds only from l4tui's own files; a file of the user's is built in the Model pane."""
    from l4tui.inspect.catalog import source_file
    from l4tui.modelfiles import is_bundled

    try:
        return is_bundled(source_file(entry, workspace))
    except (FileNotFoundError, OSError):
        return False


_built: dict = {}  # the last model K built, by what it was built from: K after K reads it again


def build_subject(entry, weights: str, sizes, workspace: Path):
    """A Model pane subject (inspect/subject.py) for these weights, as the Model pane builds it.
    The last one is kept (the lesson's LM takes seconds to build) while its file and its
    checkpoint are unchanged."""
    from l4tui.inspect.catalog import source_file
    from l4tui.inspect.subject import checkpoint_subject, fresh_subject

    def stamp(path: Path):
        try:
            return path.stat().st_mtime_ns
        except OSError:
            return None

    key = (entry, weights, sizes, str(workspace), stamp(source_file(entry, workspace)),
           None if weights == FRESH else stamp(Path(weights)))
    if key not in _built:
        _built.clear()  # one model at a time: the lesson's LM is hundreds of MB
        _built[key] = fresh_subject(entry, sizes, workspace) if weights == FRESH \
            else checkpoint_subject(Path(weights), workspace)
    return _built[key]


# ---- what the screen shows -------------------------------------------------------------------

@dataclass
class Found:
    choice: Choice
    link: object  # source_link.Link
    summaries: list  # source_link.TensorSummary, for the first SHOWN_IN_FULL tensors
    problem: str = ""  # why there is no tensor to show


def look_up(subject, attribute, path: Path, choice: Choice, bins: int = 40) -> Found:
    """The link and the summaries, computed in the runner's thread."""
    from l4tui.inspect.source_link import link_attribute, row_labels, tensor_summary

    link = link_attribute(subject.model, attribute, path)
    summaries = []
    for linked in link.tensors[:SHOWN_IN_FULL]:
        labels, rows_of = None, ""
        if getattr(linked.tensor, "ndim", 0) == 2:
            for name in [linked.name, *linked.tied_to]:  # a tied decoder's rows are the encoder's tokens
                labels, rows_of = row_labels(subject, name, linked.tensor.shape[0])
                if labels:
                    break
        summaries.append(tensor_summary(linked.tensor, labels, rows_of, bins=bins))
    return Found(choice, link, summaries)


def found_text(found: Found, width: int = 80) -> Text:
    from l4tui.inspect.cell_plots import bar_rows
    from l4tui.inspect.parameters import stat_text

    link = found.link
    text = Text()
    text.append(f"{link.attribute.text} in {found.choice.label}", style="bold")
    if found.choice.why:
        text.append(f"  ({found.choice.why})", style="dim")
    text.append("\n")
    if not link.tensors:
        text.append(link.note or found.problem, style="yellow")
        text.append("\n")
        return text
    if len(link.instances) > 1:
        text.append(f"{link.attribute.class_name} is used {len(link.instances)} times: "
                    f"{', '.join(name or '(the model)' for name in link.instances)}\n", style="dim")
    for index, linked in enumerate(link.tensors):
        trains = "" if linked.kind == "buffer" else (" · trains" if linked.tensor.requires_grad else " · frozen")
        if index >= len(found.summaries):
            text.append(f"\n{linked.name}", style="bold cyan")
            text.append(f"  {linked.kind} · {'×'.join(map(str, linked.tensor.shape)) or 'scalar'}{trains}\n")
            continue
        summary = found.summaries[index]
        s = summary.stats
        text.append(f"\n{linked.name}", style="bold cyan")
        text.append(f"  {linked.kind} · {'×'.join(map(str, summary.shape)) or 'scalar'} · {summary.dtype}{trains}\n")
        text.append(f"mean {stat_text(s.mean)}  std {stat_text(s.std)}  min {stat_text(s.min)}  "
                    f"max {stat_text(s.max)}" + (f"  ({s.nonfinite} not finite)" if s.nonfinite else "") + "\n")
        if s.edges:
            bins = min(len(s.counts), max(10, width - 4))
            text.append("\n".join(bar_rows(s.counts, bins, HISTOGRAM_LINES)) + "\n", style="cyan")
            low, high = stat_text(s.edges[0]), stat_text(s.edges[-1])
            text.append(low + " " * max(1, bins - len(low) - len(high)) + high + "\n", style="dim")
        if summary.top_rows:
            what = summary.rows_of or "rows"
            text.append(f"largest norm ({what}): ", style="dim")
            text.append(" · ".join(f"{label} {norm:.3g}" for _, label, norm in summary.top_rows) + "\n")
        if linked.tied_to:
            text.append(f"tied: the very same tensor as {', '.join(linked.tied_to)}\n", style="magenta")
    if link.more:
        text.append(f"\n... and {link.more} more tensors\n", style="dim")
    return text


# ---- the K screen with the tensor --------------------------------------------------------------

class TensorDocScreen(DocScreen):
    """K's signature and docstring, and under them the tensor `self.X` is in the chosen weights."""

    DEFAULT_CSS = """
    TensorDocScreen #tensor-text { margin-top: 1; }
    """

    BINDINGS = [
        Binding("w", "choose_weights", "Weights", id="doc.weights",
                tooltip="Look in other weights: fresh, or any checkpoint of a run of this model"),
        Binding("m", "model_pane", "Model pane", id="doc.model_pane",
                tooltip="Show this tensor in the Model pane's Parameters tab"),
    ]

    def __init__(self, help: Help, where: str, path: Path, attribute, workspace: Path) -> None:
        super().__init__(help, where)
        self.path, self.attribute, self.workspace = Path(path), attribute, Path(workspace)
        self.found: Found | None = None
        self.candidates: list = []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="doc-box"):
            yield Static(help_text(self.help, self.where), id="doc-text")
            yield Static(Text(f"{self.attribute.text}: looking for it in the model ...", style="dim"),
                         id="tensor-text")
            yield Static("Esc, q or K closes this · w: other weights · m: this tensor in the Model pane",
                         id="doc-footer")

    def on_mount(self) -> None:  # DocScreen's on_mount runs too (Textual calls each class's own)
        self.load()

    def show_text(self, text: Text | str) -> None:
        self.query_one("#tensor-text", Static).update(text)

    async def model_pane(self):
        """The Model pane (built if it was not yet), for its runner, its sizes and its model."""
        build_pane = getattr(self.app, "build_pane", None)
        return await build_pane("model") if build_pane is not None else None

    @work(exclusive=True, group="tensor-link")
    async def load(self, chosen: Choice | None = None) -> None:
        pane = await self.model_pane()
        if self.candidates == []:
            self.candidates = await in_thread(candidate_entries, self.path, self.workspace)
        choices = [chosen] if chosen is not None else await self.default_choices(pane)
        if not choices:
            self.show_text(Text(f"no model of the catalog is built from {self.path.name}", style="yellow"))
            return
        problems = []
        for choice in choices:
            self.show_text(Text(f"{self.attribute.text}: building {choice.label} ...", style="dim"))
            try:
                found = await self.find(pane, choice)
            except Exception as error:  # a checkpoint or a model file may be broken: say why, in one line
                from l4tui.textcut import clip

                problems.append((choice, clip(f"{type(error).__name__}: {error}", 300)))
                continue
            if found.link.tensors or found.link.instances or chosen is not None:
                self.found = found
                self.show_text(found_text(found, self.content_width()))
                self.call_after_refresh(self.scroll_to_tensor)
                return
            if found.problem:
                problems.append((choice, found.problem))
        self.found = None
        if problems:  # the first: the likeliest model (pane 2's run, the Model pane's, this file's own)
            choice, problem = problems[0]
            self.show_text(Text(f"{self.attribute.text}: could not look in {choice.label}: {problem}",
                                style="yellow"))
        else:
            self.show_text(Text(f"none of {', '.join(e.name for e in self.candidates)} has a "
                                f"{self.attribute.class_name} from {self.path.name}", style="yellow"))

    def scroll_to_tensor(self) -> None:
        """The tensor is what K on `self.X` was for: bring it up, below a long docstring, unless
        the docstring is being read (scrolled) already. k scrolls back up to it."""
        box = self.query_one("#doc-box", VerticalScroll)
        if box.scroll_target_y == 0:
            box.scroll_to_widget(self.query_one("#tensor-text"), top=True, animate=False, immediate=True)

    def content_width(self) -> int:
        return max(20, self.query_one("#doc-box").size.width - 2)

    async def default_choices(self, pane) -> list[Choice]:
        """The run selected in pane 2, the Model pane's weights, then each model's fresh weights."""
        from l4tui.runs.checkpoints import trained_weights

        choices = []
        by_name = {entry.name: entry for entry in self.candidates}
        data = self.app.query("#data-pane")
        run = data.first().selected_run() if data and hasattr(data.first(), "selected_run") else None
        if run is not None and run.family in by_name:
            try:
                weights = trained_weights(run.run_dir)
                choices.append(Choice(by_name[run.family], str(weights),
                                      f"{run.family} · {run.id} · {weights.stem}", "the run selected in pane 2"))
            except ValueError:
                pass
        if pane is not None and pane.current is not None and pane.subject is not None and pane.current.name in by_name:
            label = f"{pane.current.name} · {pane.subject.weights}"
            choices.append(Choice(by_name[pane.current.name], pane.weights, label, "what the Model pane shows"))
        preset = pane.sizes.preset if pane is not None else "lesson"
        choices += [Choice(entry, FRESH, f"{entry.name} · fresh ({preset})") for entry in self.candidates]
        return choices

    async def find(self, pane, choice: Choice) -> Found:
        from l4tui.inspect.catalog import Sizes

        sizes = pane.sizes if pane is not None else Sizes()
        if pane is not None and pane.subject is not None and pane.current is not None \
                and pane.current.name == choice.entry.name and pane.weights == choice.weights:
            subject = pane.subject  # the very model the Model pane shows
        elif not buildable(choice.entry, self.workspace):
            from l4tui.inspect.catalog import source_file
            from l4tui.inspect.source_link import Link

            problem = (f"{choice.entry.name} is built from {source_file(choice.entry, self.workspace)}, a file of "
                       f"yours: K never runs it. Build it in the Model pane (3, Enter on {choice.entry.name}), "
                       "then press K again")
            return Found(choice, Link(self.attribute, [], [], note=problem), [], problem)
        else:
            subject = None
        runner = pane.runner if pane is not None else None
        bins = min(MAX_BINS, self.content_width() - 2)  # the histogram as wide as the box

        def work_():
            built = subject or build_subject(choice.entry, choice.weights, sizes, self.workspace)
            return look_up(built, self.attribute, self.path, choice, bins)

        if runner is None:
            return await in_thread(work_)
        return await runner.run(work_, what=f"looking up {self.attribute.text} in {choice.label}")

    # ---- keys ----

    def action_choose_weights(self) -> None:
        self.pick_weights()

    @work(exclusive=True, group="tensor-link-pick")
    async def pick_weights(self) -> None:
        from l4tui.ui.picker import PickerScreen, PickItem

        pane = await self.model_pane()
        preset = pane.sizes.preset if pane is not None else "lesson"
        runs_dir = getattr(self.app, "runs_dir", None)

        found = self.found.choice.entry if self.found is not None else None

        def listed() -> list[Choice]:
            # the models built from this file, and the one the tensor was found in
            from l4tui.inspect.catalog import source_file

            entries = []
            for entry in self.candidates or candidate_entries(self.path, self.workspace):
                try:
                    own = source_file(entry, self.workspace).resolve() == self.path.resolve()
                except (FileNotFoundError, OSError):
                    own = False
                if own or (found is not None and entry.name == found.name):
                    entries.append(entry)
            out = [Choice(entry, FRESH, f"{entry.name} · fresh ({preset})") for entry in entries]
            for entry in entries:
                out += checkpoint_choices(entry, runs_dir)
            return out

        choices = await in_thread(listed)
        items = [PickItem(choice.label, None, "") for choice in choices]

        def chosen(item) -> None:
            if item is not None:
                self.load(choices[items.index(item)])

        self.app.push_screen(PickerScreen(f"Weights to find {self.attribute.text} in", items, preview=False), chosen)

    def action_model_pane(self) -> None:
        found = self.found
        if found is None or not found.link.tensors:
            self.query_one("#doc-footer", Static).update("No tensor to show in the Model pane: Esc closes this.")
            return
        first = found.link.tensors[0]
        self.dismiss()
        self.app.call_later(show_in_model_pane, self.app, found.choice, first.module_name, first.local_name)


async def show_in_model_pane(app, choice: Choice, module_name: str, tensor_name: str) -> None:
    """Pane 3, the model and weights of `choice`, its Parameters tab on that tensor."""
    await app.action_show_pane("model")
    app.query_one("#model-pane").show_tensor(choice.entry, choice.weights, module_name, tensor_name)
