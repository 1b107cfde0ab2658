"""The guided tour's steps: read from a TOML file (the shipped `steps.toml`, or a teacher's own),
checked, and where each one leads; and where the user stopped, kept between sessions.

A step is a short text in the lesson's words and the one place it opens:
- `pane = "code"`: a lesson model file (`file`, one of models/*.py) at the first line that holds
  `find` (or at `line`);
- `pane = "data"`: the Data & training pane, a lesson screen of it (`screen`: text, tabular,
  spreadsheet, embeddings), and/or a tiny run of a family (`run`), started when none is there;
- `pane = "model"`: the Model pane on a model (`model`) and a tab (`tab`), and a layer (`layer`,
  its name in the model: `u_weight`) under the Layers tab's cursor, which the Parameters tab shows.
`try` says which keys to press to do it yourself; `{binding.id}` in it becomes that binding's
key, as the user's keymap has it (the app fills it in: this module knows no keys).

A file that cannot be used raises StepsError with one line: the file, the step and what is wrong.
"""

import json
import os
import textwrap
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser as a package (pyproject's tomli)
    import tomli as tomllib

from l4tui.paths import bundled_root, user_state_dir

SHIPPED_STEPS = Path(__file__).with_name("steps.toml")
PANES = ("code", "data", "model")
SCREENS = ("text", "tabular", "spreadsheet", "embeddings")  # the Data pane's lesson screens
TABS = ("layers", "params", "acts", "results", "training", "interpret", "generate")  # the Model pane's
MODELS = ("lm", "classifier", "tabular", "collab", "collab-nn")  # the lesson's (inspect/catalog.py)
RUN_FAMILIES = ("collab", "tabular", "lm", "classifier")  # train/options.py's RECIPES
TINY_RUN = {"epochs": 1}  # a run started for a step: seconds on the bundled sample
FIELDS = {"id", "title", "text", "pane", "file", "find", "line", "screen", "run", "model", "tab", "layer", "try"}
TEXT_WIDTH = 76  # the card's text at 80 columns (border and padding take 4)
MAX_TEXT_LINES = 6  # so that a step's card leaves room for its pane at 80x24
MAX_STEPS_BYTES = 1_000_000


class StepsError(ValueError):
    """A steps file that cannot be used; the message is one line saying what to fix."""


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    text: str
    pane: str
    file: str = ""  # code: a file of the lesson's models/
    line: int = 0  # code: the line it opens at (found from `find` when the file gave that)
    find: str = ""
    screen: str = ""  # data
    run: str = ""  # data: a family
    model: str = ""  # model
    tab: str = ""  # model
    layer: str = ""  # model: the layer the Layers tab's cursor goes to (the Parameters tab follows it)
    try_keys: str = ""  # the `try` line, its {binding.id} not filled in yet

    @property
    def path(self) -> Path | None:
        """The lesson file a code step opens."""
        return lesson_models_dir() / self.file if self.file else None

    def where(self) -> str:
        """Where the step leads, in a few words (for `l4tui tour --list` and the card)."""
        if self.pane == "code":
            return f"Code: models/{self.file}:{self.line}"
        if self.pane == "data":
            parts = [f"{self.run} run" if self.run else "", f"{self.screen} screen" if self.screen else ""]
            return "Data & training" + "".join(f": {part}" for part in parts if part)
        return f"Model: {self.model}, {self.tab} tab" + (f", {self.layer}" if self.layer else "")


def lesson_models_dir() -> Path:
    return bundled_root() / "models"


def load_steps(path: Path | None = None) -> list[Step]:
    """The steps of `path` (default: the shipped file), checked. Raises StepsError."""
    path = Path(path) if path is not None else SHIPPED_STEPS
    try:
        if path.stat().st_size > MAX_STEPS_BYTES:
            raise StepsError(f"{path}: too big for a steps file (over {MAX_STEPS_BYTES:,} bytes)")
        raw = path.read_bytes()
    except OSError as error:
        raise StepsError(f"{path}: cannot read it ({error.strerror or error})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise StepsError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise StepsError(f"{path}: not valid TOML: {error}") from None
    return parse_steps(data, str(path))


def parse_steps(data: dict, where: str = "steps") -> list[Step]:
    unknown = set(data) - {"step"}
    if unknown:
        raise StepsError(f"{where}: unknown table {sorted(unknown)[0]!r}; steps are [[step]] tables")
    raw_steps = data.get("step")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise StepsError(f"{where}: no steps; write each one as a [[step]] table")
    steps, seen = [], set()
    for number, raw in enumerate(raw_steps, 1):
        name = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else ""
        label = f"{where}: step {number}" + (f" ({name})" if name else "")
        try:
            step = parse_step(raw)
        except StepsError as error:
            raise StepsError(f"{label}: {error}") from None
        if step.id in seen:
            raise StepsError(f"{label}: the id {step.id!r} is used by an earlier step; ids must differ")
        seen.add(step.id)
        steps.append(step)
    return steps


def _text(raw: dict, key: str, required: bool = False) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise StepsError(f"{key} must be a string, not {type(value).__name__}")
    if required and not value.strip():
        raise StepsError(f"{key} is missing")
    return value.strip()


def _choice(raw: dict, key: str, choices: tuple[str, ...], required: bool = False) -> str:
    value = _text(raw, key, required)
    if value and value not in choices:
        raise StepsError(f"{key} {value!r} is none of {', '.join(choices)}")
    return value


def parse_step(raw) -> Step:
    if not isinstance(raw, dict):
        raise StepsError("is not a table")
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise StepsError(f"unknown field {unknown[0]!r} (fields: {', '.join(sorted(FIELDS))})")
    step_id, title, text = _text(raw, "id", True), _text(raw, "title", True), flow(_text(raw, "text", True))
    lines = wrapped_lines(text)
    if len(lines) > MAX_TEXT_LINES:
        raise StepsError(f"text takes {len(lines)} lines at 80 columns; keep it to {MAX_TEXT_LINES}")
    pane = _choice(raw, "pane", PANES, True)
    fields = {"pane": pane, "try_keys": _text(raw, "try")}
    allowed = {"code": {"file", "find", "line"}, "data": {"screen", "run"}, "model": {"model", "tab", "layer"}}[pane]
    stray = sorted((set(raw) & (FIELDS - {"id", "title", "text", "pane", "try"})) - allowed)
    if stray:
        raise StepsError(f"{stray[0]} does not go with pane {pane!r} (it takes {', '.join(sorted(allowed))})")
    if pane == "code":
        fields.update(code_place(raw))
    elif pane == "data":
        fields["screen"] = _choice(raw, "screen", SCREENS)
        fields["run"] = _choice(raw, "run", RUN_FAMILIES)
        if fields["screen"] == "embeddings" and not fields["run"]:
            raise StepsError("the embeddings screen needs a run: add run = \"collab\"")
    else:
        fields["model"] = _choice(raw, "model", MODELS, True)
        fields["tab"] = _choice(raw, "tab", TABS) or "layers"
        fields["layer"] = _text(raw, "layer")
    return Step(step_id, title, text, **fields)


def code_place(raw: dict) -> dict:
    """`file` and the line it opens at: `line`, or the first line holding `find`."""
    name = _text(raw, "file", True)
    path = lesson_models_dir() / name
    if Path(name).name != name or not name.endswith(".py") or not path.is_file():
        known = ", ".join(sorted(p.name for p in lesson_models_dir().glob("*.py")))
        raise StepsError(f"file {name!r} is not one of the lesson's models ({known})")
    lines = path.read_text(encoding="utf-8").splitlines()
    find, line = _text(raw, "find"), raw.get("line", 0)
    if find and "line" in raw:
        raise StepsError("give find or line, not both")
    if find:
        found = next((number for number, text in enumerate(lines, 1) if find in text), None)
        if found is None:
            raise StepsError(f"find {find!r} is on no line of models/{name}")
        line = found
    elif "line" in raw:
        if not isinstance(line, int) or isinstance(line, bool) or not 1 <= line <= len(lines):
            raise StepsError(f"line must be a number from 1 to {len(lines)} (models/{name}'s lines)")
    else:
        line = 1
    return {"file": name, "find": find, "line": line}


def flow(text: str) -> str:
    """A step's text as Markdown reads it: lines joined into paragraphs, a blank line between two.
    The card wraps them to its width, so a file's own line breaks never leave a stub of a line."""
    paragraphs = [" ".join(line.strip() for line in block.splitlines() if line.strip())
                  for block in text.strip().split("\n\n")]
    return "\n".join(paragraph for paragraph in paragraphs if paragraph)


def wrapped_lines(text: str, width: int = TEXT_WIDTH) -> list[str]:
    """The text as the card shows it: each paragraph wrapped at `width`."""
    return [piece for paragraph in text.splitlines() for piece in (textwrap.wrap(paragraph, width) or [""])]


# ---- where the user stopped -----------------------------------------------------------------


def state_path() -> Path:
    return user_state_dir() / "tour.json"


def first_visit() -> bool:
    """True once per user: the first time the app opens, before any tour was taken or offered.
    Notes the visit (an empty state file), so that the offer is made once."""
    target = state_path()
    if target.exists():
        return False
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "x", encoding="utf-8") as state:  # "x": a second app started at once offers nothing
            state.write(json.dumps({"positions": {}}))
    except OSError:  # an unwritable state folder: no offer rather than one at every start
        return False
    return True


def steps_key(path: Path | None) -> str:
    """A steps file's name in the state file: the shipped one has its own, so it survives upgrades."""
    return "shipped" if path is None else str(Path(path).resolve())


def read_position(steps: list[Step], path: Path | None = None) -> int:
    """The index of the step the user stopped at with this steps file; 0 when none (or unreadable)."""
    try:
        state = json.loads(state_path().read_text(encoding="utf-8"))
        step_id = state["positions"][steps_key(path)]
    except (OSError, ValueError, KeyError, TypeError):
        return 0
    ids = [step.id for step in steps]
    return ids.index(step_id) if step_id in ids else 0


def save_position(steps: list[Step], index: int, path: Path | None = None) -> str | None:
    """Remember `steps[index]` for this steps file; the problem in one line when it cannot be written."""
    target = state_path()
    try:
        try:
            state = json.loads(target.read_text(encoding="utf-8"))
            positions = state.get("positions") if isinstance(state, dict) else None
        except (OSError, ValueError):
            positions = None
        positions = positions if isinstance(positions, dict) else {}
        positions[steps_key(path)] = steps[index].id
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".tour.{os.getpid()}.json")
        temporary.write_text(json.dumps({"positions": positions}, indent=1), encoding="utf-8")
        os.replace(temporary, target)
    except OSError as error:
        return f"could not remember the tour's place in {target}: {error.strerror or error}"
    return None
