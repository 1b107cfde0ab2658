"""Go to definition, references and help with jedi, the way jedi-language-server uses it.

A long-lived jedi `Project` per set of import roots (import_roots.py: the file's folder, the
project root, src/, then the environment's path), names resolved in the user's environment
(environment.py), and every jedi call on one worker thread, because jedi is not thread-safe.
jedi is imported on that thread, never at start-up; so is the environment started.

A `Script` is kept while its file's text is unchanged: its inference caches then serve every
later jump from the same file, which is what makes warm jumps take milliseconds. Warming the
open file (`warm_file`) asks for each distinct name's definition once, in the background, in
small steps that a user's request always overtakes.
"""

import heapq
import itertools
import re
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from l4tui.code.environment import EnvironmentChoice, choose_environment, own_choice
from l4tui.code.import_roots import import_roots
from l4tui.code.location import Location
from l4tui.textcut import clip

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
URGENT, BACKGROUND, IDLE = 0, 1, 2  # IDLE: only once nothing else has been asked for a while
# Background steps wait this long after a user's request, for its answer to reach the screen.
QUIET_AFTER_REQUEST_S = 0.5
# An IDLE step (a long speculative one) starts only after this long without any other work.
IDLE_AFTER_S = 1.0
# A look-up taking longer gives up with a message rather than spinning. The slowest honest one
# is the first jump into torch's 30k-line stub in a fresh process: 2 s, 10 s on a loaded 2-core box.
LOOKUP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Definition:
    name: str
    location: Location | None  # None when there is no source (a compiled module or a builtin)
    module_name: str
    description: str
    is_stub: bool  # a .pyi type stub, not the real source
    real_location: Location | None = None  # for a stub: the same name in a .py beside it, if any

    def __str__(self) -> str:
        return str(self.location) if self.location else f"{self.module_name}.{self.name} (no source)"


@dataclass(frozen=True)
class Reference:
    location: Location
    text: str  # the line, stripped, for a preview
    is_definition: bool


@dataclass(frozen=True)
class Help:
    """What `K` shows: the name, its signatures and its docstring."""

    name: str
    kind: str  # "class", "function", "module", "instance", ...
    module_name: str
    signatures: list[str]
    docstring: str
    location: Location | None


class SerialThread:
    """Runs submitted calls one at a time on a single daemon thread, urgent ones first.

    Unlike a ThreadPoolExecutor, whose threads are joined at exit, a daemon thread never makes
    quitting the app wait for a long jedi parse to finish. Background work (warming) waits
    behind every urgent request (a user's jump), so it never delays one by more than the one
    background step already running.

    Nor does it start until `quiet_s` after the last urgent request finished: the answer still
    has to reach the screen, and a background step holds the GIL for long stretches (loading
    torch's 30k-line stub: up to seconds, much of it inside one pickle.load). Measured, a cold
    jump jedi answered in 120 ms reached the screen at 1,000 ms, the event loop starved by the
    warming step that started right behind it.

    An IDLE step waits further, until nothing else has been submitted or run for `idle_s`: a
    speculative step that holds the thread for seconds (parsing torch's stub) then does not
    start in the first second of the app, when the user's first jump is most likely, nor
    between the steps that warm the open file.
    """

    def __init__(self, name: str, quiet_s: float = 0.0, idle_s: float = 0.0):
        self.quiet_s = quiet_s
        self.idle_s = idle_s
        self._heap: list = []
        self._ready = threading.Condition()
        self._quiet_until = 0.0
        self._busy_until = time.monotonic()  # when the latest non-idle work was asked for or ended
        self._order = itertools.count()  # FIFO within a priority
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _next(self) -> tuple:
        with self._ready:
            while True:
                if self._heap:
                    priority = self._heap[0][0]
                    now = time.monotonic()
                    wait = (0.0 if priority == URGENT else self._quiet_until - now if priority == BACKGROUND
                            else max(self._quiet_until, self._busy_until + self.idle_s) - now)
                    if wait <= 0:
                        return heapq.heappop(self._heap)
                    self._ready.wait(wait)  # an urgent request submitted meanwhile wakes it
                else:
                    self._ready.wait()

    def _loop(self) -> None:
        while True:
            priority, _, future, fn, args = self._next()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as error:
                future.set_exception(error)
            finally:
                if priority == URGENT and self.quiet_s:
                    self._quiet_until = time.monotonic() + self.quiet_s
                if priority != IDLE:
                    self._busy_until = time.monotonic()

    def submit(self, fn, *args, priority: int = URGENT) -> Future:
        future: Future = Future()
        with self._ready:
            heapq.heappush(self._heap, (priority, next(self._order), future, fn, args))
            if priority != IDLE:
                self._busy_until = time.monotonic()
            self._ready.notify()
        return future


_JEDI_THREAD: SerialThread | None = None
_JEDI_THREAD_LOCK = threading.Lock()


def jedi_thread() -> SerialThread:
    """The one thread of this process that runs jedi. jedi's caches are global and not
    thread-safe, so two Navigators (two apps in one test process, say) must share it."""
    global _JEDI_THREAD
    with _JEDI_THREAD_LOCK:
        if _JEDI_THREAD is None:
            _JEDI_THREAD = SerialThread("jedi", quiet_s=QUIET_AFTER_REQUEST_S, idle_s=IDLE_AFTER_S)
        return _JEDI_THREAD


def keep_out_of_gc() -> None:
    """Move every object alive now out of the garbage collector's sight (gc.freeze).

    jedi's parse trees of torch are millions of long-lived objects. Left to the collector,
    each full collection walks all of them: a 100-400 ms pause of every thread, the UI's
    included, at random moments (seen while paging through a big file and on jumps). Frozen,
    they are never walked again; they live as long as jedi's caches, which is the app's life
    anyway. Called after each background step, so the collector only ever sees the objects of
    the step in progress. Measured: warming the three models and torch's rnn.py leaves 374 MB
    resident with a freeze after each step, 370 MB with none (what freezing keeps alive that
    the collector would have freed is that small), and takes 3.6 s instead of 5.2 s.
    """
    import gc

    gc.freeze()


def in_background(fn, *args, name: str = "background") -> Future:
    """Run `fn(*args)` on a daemon thread of its own: quitting never waits for it."""
    future: Future = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(*args))
        except BaseException as error:
            future.set_exception(error)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


def stub_to_source(path: Path, name: str) -> Location | None:
    """For a name found in a `.pyi` stub, the same name defined in a `.py` beside it, if any.

    Many stubs cover Python modules (torch/nn/functional.pyi and functional.py); others cover
    compiled code (torch/_C/_VariableFunctions.pyi) and have no `.py` to go to.
    """
    if path.suffix != ".pyi":
        return None
    source = path.with_suffix(".py")
    if not source.is_file():
        return None
    pattern = re.compile(rf"^\s*(?:async\s+def|def|class)\s+(?P<name>{re.escape(name)})\b"
                         rf"|^(?P<variable>{re.escape(name)})\s*[:=]")
    try:
        with source.open(encoding="utf-8", errors="replace") as lines:
            for number, text in enumerate(lines, 1):
                match = pattern.match(text)
                if match:
                    return Location(source, number, match.start("name") if match.group("name")
                                    else match.start("variable"))
    except OSError:
        return None
    return None


class Navigator:
    """jedi for one workspace. Each public method returns a Future; the work runs on the jedi thread."""

    MAX_SCRIPTS = 8

    def __init__(self, workspace: Path, python: str | Path | None = None):
        self.workspace = Path(workspace)
        self._executor = jedi_thread()
        self.choice = choose_environment(self.workspace, python)
        self.environment_label = self.choice.label  # refined with the real version once started
        self.problems: list[str] = list(self.choice.problems)  # candidates skipped, one line each
        self._environment = None
        self._base_sys_path: list[str] = []  # the environment's own sys.path, once known
        self._projects: dict = {}  # import roots -> jedi.Project
        self._scripts: OrderedDict = OrderedDict()  # (path, source) -> jedi.Script, newest last
        self._warm_generation = 0

    def _jedi_setup(self):
        import jedi

        from l4tui.code import jedi_cache

        jedi_cache.install()  # l4tui's own cache folder, written atomically, torn files set aside
        if self._environment is None:
            self._environment = self._make_environment(jedi)
            # jedi drops "" (the current folder) too: the user's imports don't depend on where
            # l4tui was started from, only on the file (import_roots).
            self._base_sys_path = [p for p in self._environment.get_sys_path() if p]
        return jedi

    def _make_environment(self, jedi):
        """The chosen environment, or l4tui's own (with the reason in `problems`) when jedi
        can't start it (a broken interpreter, a Python jedi doesn't support)."""
        if not self.choice.is_own:
            try:
                environment = jedi.create_environment(str(self.choice.path), safe=not self.choice.trusted)
                version = environment.version_info
                self.environment_label = f"env: {self.choice.name} ({version.major}.{version.minor})"
                return environment
            except Exception as error:  # jedi's InvalidPythonEnvironment, or the process failing
                if not self.choice.trusted and "unsafe" in str(error):
                    why = "not a Python install jedi knows, so not run (`:python PATH` runs it)"
                else:
                    why = f"jedi could not use it ({type(error).__name__}: {error})"
                self.problems.append(clip(f"{self.choice.source} {self.choice.path}: {why}"))
                self.choice = own_choice()
                self.environment_label = self.choice.label
        # l4tui's own: analysed in this process, no subprocess, torch found where the app
        # imports it from; jedi never swaps this process's sys.path (jedi_inprocess).
        from l4tui.code import jedi_inprocess

        jedi_inprocess.install()
        return jedi.InterpreterEnvironment()

    def _project(self, path: Path | None):
        """The jedi Project for a file: its import roots first, then the environment's path.

        Roots first, as Python has them (a project's `models` package beats l4tui's own folder
        of that name); one Project per distinct list, so the files of one folder share it.
        """
        jedi = self._jedi_setup()
        roots = tuple(str(root) for root in import_roots(path, self.workspace))
        project = self._projects.get(roots)
        if project is None:
            project = jedi.Project(self.workspace, smart_sys_path=False,
                                   sys_path=[*roots, *(p for p in self._base_sys_path if p not in roots)])
            self._projects[roots] = project
        return project

    def search_paths(self) -> list[str]:
        """The environment's sys.path (empty until jedi has started it): for short paths."""
        return list(self._base_sys_path)

    def set_environment(self, choice: EnvironmentChoice) -> Future:
        """Resolve names in another environment from now on; a Future of its label."""
        def switch() -> str:
            self.stop_warming()
            self.choice, self._environment = choice, None
            self.environment_label = choice.label
            self._projects.clear()
            self._scripts.clear()
            self._jedi_setup()
            return self.environment_label

        return self._executor.submit(switch)

    def _script(self, source: str, path: Path | None):
        """The Script for this text of this file, reused while the text is unchanged."""
        jedi = self._jedi_setup()
        key = (str(path) if path else None, source)
        script = self._scripts.get(key)
        if script is None:
            script = jedi.Script(source, path=str(path) if path else None, project=self._project(path),
                                 environment=self._environment)
            # One Script per file: a newer text of the same file replaces the old one.
            for old in [k for k in self._scripts if k[0] == key[0]]:
                del self._scripts[old]
            self._scripts[key] = script
            while len(self._scripts) > self.MAX_SCRIPTS:
                self._scripts.popitem(last=False)
        else:
            self._scripts.move_to_end(key)
        return script

    # ---- go to definition -------------------------------------------------------------------

    def _goto(self, source: str, path: Path, line: int, column: int) -> list[Definition]:
        script = self._script(source, path)
        names = script.goto(line, column, follow_imports=True, follow_builtin_imports=True)
        definitions = []
        for name in names:
            location = None
            if name.module_path is not None and name.line is not None:
                location = Location(Path(name.module_path), name.line, name.column or 0)
            stub = name.is_stub()
            real = stub_to_source(location.path, name.name) if stub and location else None
            definitions.append(Definition(name.name, location, name.module_name or "",
                                          name.description, stub, real))
        return definitions

    def goto(self, source: str, path: Path, line: int, column: int) -> Future:
        """Definitions of the name at (line from 1, column from 0), as a Future of a list."""
        return self._executor.submit(self._goto, source, path, line, column)

    # ---- references -------------------------------------------------------------------------

    def _references(self, source: str, path: Path, line: int, column: int) -> list[Reference]:
        script = self._script(source, path)
        names = script.get_references(line, column, include_builtins=False)
        references = []
        for name in names:
            if name.module_path is None or name.line is None:
                continue
            location = Location(Path(name.module_path), name.line, name.column or 0)
            try:
                text = name.get_line_code().strip()
            except Exception:  # a file that vanished since jedi read it
                text = ""
            references.append(Reference(location, text, name.is_definition()))
        return references

    def references(self, source: str, path: Path, line: int, column: int) -> Future:
        """Every use of the name at (line, column) in the workspace, definitions included."""
        return self._executor.submit(self._references, source, path, line, column)

    # ---- help (K) ---------------------------------------------------------------------------

    def _help(self, source: str, path: Path, line: int, column: int) -> Help | None:
        script = self._script(source, path)
        names = script.infer(line, column) or script.help(line, column)
        if not names:
            return None
        name = names[0]
        try:
            signatures = [signature.to_string() for signature in name.get_signatures()]
        except Exception:
            signatures = []
        location = None
        if name.module_path is not None and name.line is not None:
            location = Location(Path(name.module_path), name.line, name.column or 0)
        return Help(name.name, name.type, name.module_name or "", signatures,
                    name.docstring(raw=True).strip(), location)

    def help(self, source: str, path: Path, line: int, column: int) -> Future:
        """The signature and docstring of the name at (line, column), or None."""
        return self._executor.submit(self._help, source, path, line, column)

    # ---- warming ----------------------------------------------------------------------------

    def _warm_line(self, text: str) -> None:
        jedi = self._jedi_setup()
        script = jedi.Script(text + "\n", project=self._project(None), environment=self._environment)
        script.goto(1, len(text) - 1, follow_imports=True)
        keep_out_of_gc()

    def warm(self, modules=("torch", "torch.nn")) -> Future:
        """Parse the modules users jump into first, before they ask.

        Also torch.sigmoid, whose 30k-line stub costs seconds to parse the first time: paid
        in the background, not on the user's first jump into it. But only once the jedi thread
        has been idle for a while (IDLE): the step can't be interrupted, and run at start-up it
        made a jump asked for at once wait 1.4 s behind it. (A file that uses torch's functions
        gets the stub parsed sooner anyway, by `warm_file`.) One background step per module, so
        a jump asked for meanwhile waits for one step at most, not all of them.
        (jedi.preload_module would start a second Python process for its own environment.)
        """
        # Importing jedi first, as a step of its own: a jump asked for at once waits for at
        # most one step, and this one and `import torch` are ~130 ms each rather than ~270 together.
        futures = [self._executor.submit(self._jedi_setup, priority=BACKGROUND)]
        futures += [self._executor.submit(self._warm_line, f"import {module}", priority=BACKGROUND)
                    for module in modules]
        futures.append(self._executor.submit(self._warm_line, "import torch; torch.sigmoid", priority=IDLE))
        return self._executor.submit(lambda: [f.result() for f in futures], priority=IDLE)

    def warm_file(self, source: str, path: Path, around_line: int = 1, limit: int = 400,
                  on_target=None) -> Future:
        """Look up each distinct name of the open file once, nearest to `around_line` first.

        Done in small background steps; opening another file (a new call) abandons the rest.
        Each file the names lead to is passed to `on_target` as it is first met (on the jedi
        thread), so the caller can get it ready to show; the Future completes with all of them.
        """
        self._warm_generation += 1
        generation = self._warm_generation
        positions = names_to_warm(source, around_line, limit)
        done: Future = Future()
        done.set_running_or_notify_cancel()
        targets: dict[Path, None] = {}  # an ordered set

        def step(index: int) -> None:
            if generation != self._warm_generation or index >= len(positions):
                keep_out_of_gc()
                done.set_result(list(targets))
                return
            line, column = positions[index]
            try:
                for definition in self._goto(source, path, line, column):
                    target = definition.location.path if definition.location is not None else None
                    if target is not None and target != path and target not in targets:
                        targets[target] = None
                        if on_target is not None:
                            on_target(target)
            except Exception:  # odd code jedi can't follow: warming is best effort
                pass
            keep_out_of_gc()
            self._executor.submit(step, index + 1, priority=BACKGROUND)

        self._executor.submit(step, 0, priority=BACKGROUND)
        return done

    def stop_warming(self) -> None:
        """Abandon the rest of a `warm_file` (the user has moved on to another file)."""
        self._warm_generation += 1

    def close(self) -> None:
        """Abandon background warming; the jedi thread is the process's, and a daemon."""
        self.stop_warming()


def names_to_warm(source: str, around_line: int = 1, limit: int = 400) -> list[tuple[int, int]]:
    """(line from 1, column from 0) of the first use of each distinct dotted name, nearest first.

    `torch.sigmoid` and `x.sigmoid` are different look-ups, so the key is the dotted chain up
    to the name. Names in comments and strings are skipped (Python's tokenizer finds them);
    for a file that doesn't tokenize, every identifier is taken.
    """
    positions = _name_positions(source)
    seen: dict[str, tuple[int, int]] = {}
    for chain, line, column in sorted(positions, key=lambda p: abs(p[1] - around_line)):
        if chain not in seen and not _is_keyword(chain):
            seen[chain] = (line, column)
            if len(seen) >= limit:
                break
    return list(seen.values())


def _name_positions(source: str) -> list[tuple[str, int, int]]:
    import io
    import tokenize

    found = []
    chain = ""
    try:
        previous = None
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.NAME:
                chain = f"{chain}.{token.string}" if previous == "." and chain else token.string
                found.append((chain, token.start[0], token.start[1]))
            elif not (token.type == tokenize.OP and token.string == "."):
                chain = ""
            previous = token.string if token.type == tokenize.OP else None
        return found
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return [(match.group(), number, match.start())
                for number, text in enumerate(source.splitlines(), 1)
                for match in IDENTIFIER.finditer(text)]


_KEYWORDS: frozenset[str] | None = None


def _is_keyword(name: str) -> bool:
    global _KEYWORDS
    if _KEYWORDS is None:
        import builtins
        import keyword

        _KEYWORDS = frozenset(keyword.kwlist) | frozenset(dir(builtins))
    return name in _KEYWORDS
