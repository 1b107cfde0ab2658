"""What each field of a run folder's files must be, checked wherever they are read.

A run folder is untrusted input: a run writes it, but so may a crash, a full disk, an editor or
another program. Every reader (the runs list, the runs index, `l4tui runs show/tail/follow`,
the app) checks the fields it is going to use, so one bad run is listed as `invalid` with the
reason from here, and never takes a listing or the app down.

Each check returns None when the value is sound, else a reason naming the field.
"""

from l4tui.textcut import clip

MAX_COUNT = 2 ** 53  # epochs, iterations: a float holds them exactly, and no division overflows
MAX_PID = 2 ** 31 - 1  # os.kill takes a C int
MAX_TIME = 32503680000.0  # the year 3000: time.localtime takes it everywhere
BIG = 2 ** 1023  # an int beyond this overflows float()
RUN_STATES = ("finished", "failed", "stopped")  # what an end event may say


def show(value) -> str:
    """A value as a reason quotes it: repr, one line, cut short."""
    return clip(repr(value), 60)


# The tests compare types with `is`: they run on every event of a 100,000-step log (bool, an int
# subclass, is no number here).
def is_number(value) -> bool:
    """A JSON number a float() takes: a float (NaN and infinities too), or an int a float holds."""
    kind = type(value)
    return kind is float or (kind is int and -BIG <= value <= BIG)


def is_count(value, most: int = MAX_COUNT) -> bool:
    return type(value) is int and 0 <= value <= most


def is_time(value) -> bool:
    """Seconds since 1970, up to the year 3000 (NaN and infinities compare false)."""
    kind = type(value)
    return (kind is float or kind is int) and 0 <= value <= MAX_TIME


def _optional(test):
    return lambda value: value is None or test(value)


def _is_text(value) -> bool:
    return type(value) is str


CHECKS = {  # kind: (test, what a sound value is)
    "count": (is_count, "a whole number"),
    "pid": (lambda v: is_count(v, MAX_PID), "a whole number"),
    "time": (is_time, "a time in seconds"),
    "number": (is_number, "a number"),
    "number?": (_optional(is_number), "a number"),
    "text": (_is_text, "text"),
    "text?": (_optional(_is_text), "text"),
    "texts": (lambda v: type(v) is list and all(type(x) is str for x in v), "a list of texts"),
    "object": (lambda v: type(v) is dict, "an object"),
    "object?": (lambda v: v is None or type(v) is dict, "an object"),
    "state": (lambda v: v in RUN_STATES, "one of " + ", ".join(RUN_STATES)),
    "bins": (lambda v: _bins_sound(v), "a histogram's bins (kind, n, smallest, per_decade)"),
    "layers": (lambda v: _layers_sound(v), "a list of layers (name, kind, mean, std, near_zero, hist)"),
}


def _bins_sound(bins) -> bool:
    """An activations event's bin spec, as activation_stats.BIN_SPEC writes it."""
    return (type(bins) is dict and type(bins.get("kind", "")) is str and is_count(bins.get("n", 0), 100_000)
            and all(is_number(bins.get(name, 1.0)) for name in ("smallest", "per_decade")))


def _layers_sound(layers) -> bool:
    """An activations event's layers: each an object of text and numbers, its histogram counts."""
    return type(layers) is list and all(
        type(layer) is dict and all(type(layer.get(name, "")) is str for name in ("name", "kind"))
        and all(layer.get(name) is None or is_number(layer[name]) for name in ("mean", "std", "near_zero"))
        and (type(hist := layer.get("hist", [])) is list and all(is_number(count) for count in hist))
        for layer in layers)


def _problem(name: str, value, kind: str) -> str | None:
    test, wanted = CHECKS[kind]
    return None if test(value) else f"{name} is {show(value)}, not {wanted}"


# ---- run.json ------------------------------------------------------------------------------

RUN_FIELDS = {"id": "text", "family": "text", "mode": "text", "processes": "count", "config": "object",
              "command": "texts", "pid": "pid", "host": "text", "started": "time"}
# The config's fields that readers use as they are (the recipe checks the rest before a run starts).
CONFIG_FIELDS = {"epochs": "count", "data": "text?", "encoder": "text?", "pretrained": "text?", "preset": "text?",
                 "device": "text?", "y_name": "text?"}


def check_run_file(meta) -> str | None:
    """Why run.json's content is not a run's description, or None when it is."""
    if not isinstance(meta, dict):
        return f"not a JSON object but {type(meta).__name__}"
    for name, kind in RUN_FIELDS.items():
        if name in meta and (problem := _problem(name, meta[name], kind)):
            return problem
    for name, kind in CONFIG_FIELDS.items():
        config = meta.get("config") or {}
        if name in config and (problem := _problem(f"config.{name}", config[name], kind)):
            return problem
    return None


# ---- events.jsonl --------------------------------------------------------------------------

EVENT_FIELDS = {
    "start": {"epochs": "count", "mode": "text", "stages": "texts", "processes": "count", "device": "text",
              "threads": "count", "threads_why": "text?",
              "baseline_rmse": "number?", "pretrained": "text?", "pretrained_vocab_found": "count",
              "pretrained_vocab_size": "count", "pretrained_token_share": "number?"},
    "batch": {"epoch": "count", "iter": "count", "total_iters": "count", "loss": "number", "raw": "number",
              "lr": "number", "mom": "number?", "items_per_s": "number"},
    "epoch": {"epoch": "count", "epochs": "count", "stage": "count", "stage_name": "text", "iter": "count",
              "total_iters": "count"},
    "end": {"state": "state", "error": "text?", "traceback": "text?", "metrics": "object?"},
    "resume": {"stage": "count", "epoch": "count", "from_epoch": "count", "device": "text", "checkpoint": "text",
               "threads": "count", "threads_why": "text?"},
    "prepare": {"step": "text", "done": "count", "total": "count", "tokens": "count"},
    "activations": {"epoch": "count", "batch": "count", "iter": "count", "bins": "bins", "layers": "layers"},
}
NOT_FIGURES = {"t", "type", "stage_name"}  # every other field of an epoch event is a figure
_KINDS = {kind: {"t": "time", **fields} for kind, fields in EVENT_FIELDS.items()}
_TESTS = {kind: {name: CHECKS[wanted][0] for name, wanted in fields.items()} for kind, fields in _KINDS.items()}


def _other_field(kind: str, name: str) -> str | None:
    """What a field not listed in EVENT_FIELDS must be (None: anything)."""
    if kind == "batch" and name.startswith("gpu_"):
        return "number?"
    if kind == "epoch" and name not in NOT_FIGURES:
        return "number?"  # the figures: losses, metrics, pace
    if kind == "start" and name.startswith(("baseline", "unigram", "majority")):
        return "number?"
    return None


def first_problem(events: list) -> tuple[int, str] | None:
    """(index, reason) of the first unsound event of `events`, or None when all are sound."""
    for index, event in enumerate(events):
        if not (type(event) is dict and event.get("type") == "batch" and _plain_batch(event)):
            if problem := check_event(event):
                return index, problem
    return None


_BATCH_KEYS = frozenset(("t", "type", "epoch", "iter", "total_iters", "loss", "raw", "lr", "mom", "items_per_s"))


def _plain_batch(e: dict) -> bool:
    """Is this a sound batch event of the usual fields? Checked inline, without a call per field:
    a long log is mostly these (100,000 in a 100,000-step run, read whole when the run is opened),
    and this takes about half the time check_event does. False sends it to check_event."""
    if not e.keys() <= _BATCH_KEYS:
        return False  # other fields (the GPU's figures): check_event
    t, epoch, it, total = e.get("t", 0), e.get("epoch", 0), e.get("iter", 0), e.get("total_iters", 0)
    if not (type(epoch) is int and type(it) is int and type(total) is int
            and 0 <= epoch <= MAX_COUNT and 0 <= it <= MAX_COUNT and 0 <= total <= MAX_COUNT):
        return False
    if not ((type(t) is float or type(t) is int) and 0 <= t <= MAX_TIME):
        return False
    loss, raw, lr, mom, pace = e.get("loss", 0.0), e.get("raw", 0.0), e.get("lr", 0.0), e.get("mom"), \
        e.get("items_per_s", 0.0)
    return (type(loss) is float and type(raw) is float and type(lr) is float
            and (mom is None or type(mom) is float) and type(pace) is float)  # ints: check_event


def check_event(event) -> str | None:
    """Why one parsed line of events.jsonl is not a sound event, or None when it is. Fields the
    readers do not use may hold anything; unknown event types are let through (and ignored)."""
    if type(event) is not dict:
        return f"not a JSON object but {type(event).__name__}"
    kind = event.get("type")
    if type(kind) is not str:
        return f"type is {show(kind)}, not text"
    tests = _TESTS.get(kind)
    if tests is None:
        if "t" in event and not is_time(event["t"]):
            return f"t is {show(event['t'])}, not a time in seconds"
        return None
    for name, value in event.items():
        test = tests.get(name)
        if test is None:
            if name == "type" or (wanted := _other_field(kind, name)) is None:
                continue
            test = CHECKS[wanted][0]
        if not test(value):
            return _problem(name, value, _KINDS[kind].get(name) or _other_field(kind, name))
    if kind == "end":
        for name, value in (event.get("metrics") or {}).items():
            if not (value is None or type(value) is str or is_number(value)):
                return f"metrics.{clip(str(name), 40)} is {show(value)}, not a number"
    return None
