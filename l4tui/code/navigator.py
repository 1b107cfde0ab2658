"""Go to definition with jedi, the way jedi-language-server uses it.

One long-lived `Project`, a fresh `Script` per request, and every jedi call on one worker thread,
because jedi is not thread-safe. jedi is imported on that thread, never at start-up.
"""

import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from l4tui.code.location import Location


@dataclass(frozen=True)
class Definition:
    name: str
    location: Location | None  # None when there is no source (a compiled module or a builtin)
    module_name: str
    description: str
    is_stub: bool  # a .pyi type stub, not the real source


class SerialThread:
    """Runs submitted calls one at a time on a single daemon thread.

    Unlike a ThreadPoolExecutor, whose threads are joined at exit, a daemon thread never makes
    quitting the app wait for a long jedi parse to finish.
    """

    def __init__(self, name: str):
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            future, fn, args = self._queue.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as error:
                future.set_exception(error)

    def submit(self, fn, *args) -> Future:
        future: Future = Future()
        self._queue.put((future, fn, args))
        return future


_JEDI_THREAD: SerialThread | None = None
_JEDI_THREAD_LOCK = threading.Lock()


def jedi_thread() -> SerialThread:
    """The one thread of this process that runs jedi. jedi's caches are global and not
    thread-safe, so two Navigators (two apps in one test process, say) must share it."""
    global _JEDI_THREAD
    with _JEDI_THREAD_LOCK:
        if _JEDI_THREAD is None:
            _JEDI_THREAD = SerialThread("jedi")
        return _JEDI_THREAD


class Navigator:
    def __init__(self, workspace: Path):
        self.workspace = Path(workspace)
        self._executor = jedi_thread()
        self._project = None
        self._environment = None

    def _jedi_setup(self):
        import jedi

        if self._project is None:
            self._project = jedi.Project(self.workspace)
            # Analyse with this interpreter's own sys.path: no subprocess, and torch is found
            # exactly where the app imports it from.
            self._environment = jedi.InterpreterEnvironment()
        return jedi

    def _goto(self, source: str, path: Path, line: int, column: int) -> list[Definition]:
        jedi = self._jedi_setup()
        script = jedi.Script(source, path=str(path), project=self._project, environment=self._environment)
        names = script.goto(line, column, follow_imports=True, follow_builtin_imports=True)
        definitions = []
        for name in names:
            location = None
            if name.module_path is not None and name.line is not None:
                location = Location(Path(name.module_path), name.line, name.column or 0)
            definitions.append(Definition(name.name, location, name.module_name or "",
                                          name.description, name.is_stub()))
        return definitions

    def goto(self, source: str, path: Path, line: int, column: int) -> Future:
        """Definitions of the name at (line from 1, column from 0), as a Future of a list."""
        return self._executor.submit(self._goto, source, path, line, column)

    def _warm(self, modules: tuple[str, ...]) -> None:
        jedi = self._jedi_setup()
        # Ask for each module's definition, and for torch.sigmoid, whose 26k-line stub costs
        # seconds to parse the first time: pay it now, in the background, not on the user's first
        # jump. (jedi.preload_module would start a second Python process for its own environment.)
        lines = [f"import {module}" for module in modules] + ["torch.sigmoid"]
        script = jedi.Script("\n".join(lines) + "\n", project=self._project, environment=self._environment)
        for number, line in enumerate(lines, start=1):
            script.goto(number, len(line) - 1, follow_imports=True)

    def warm(self, modules=("torch", "torch.nn")) -> Future:
        """Parse the modules users jump into first, before they ask."""
        return self._executor.submit(self._warm, tuple(modules))

    def close(self) -> None:
        """Nothing to release: the jedi thread is the process's, and a daemon."""
