"""jedi in l4tui's own process, without ever touching this process's `sys.path`.

With `InterpreterEnvironment` (the user's environment is l4tui's own), jedi finds a top-level
module by swapping `sys.path` for its search path (the user's project first) while it looks,
and imports compiled modules the same way. For that moment the whole process sees the swapped
path: another thread's first `import tokenize` (Textual and the app import lazily) would run
the project's own tokenize.py inside l4tui, and a compiled module (or the package `__init__`
above it) of the user's project would be imported and run here. Looking must never run code.

So, in this process only, the two functions jedi calls do the same without the swap: a module
is found by handing the search path to `PathFinder` (what the swap achieves), and a compiled
module is imported only from l4tui's own path. A compiled module of the user's project is then
not introspected (it has no Python source to show anyway).

Nor is a compiled module inside a package this process has not imported yet: jedi asks for
`torch._C` while warming up, and importing it runs all of `import torch` here, about a second of
work with one stretch of 100+ ms that holds the GIL (loading libtorch), during which the app
cannot take a key: a `3` pressed a second after start-up waited 434 ms. torch's stubs
(`torch/_C/__init__.pyi`, `_VariableFunctions.pyi`) give jedi the same names and places. jedi's subprocess, used for any
other environment, has its own unpatched copy; there the swap only affects that process.
"""

import sys
import threading
from functools import partial

_lock = threading.Lock()
_installed = False


def install() -> bool:
    """Give jedi's in-process calls the two swap-free functions. Idempotent; False when jedi's
    private parts are not what l4tui knows (a newer jedi), which leaves jedi as it is.

    Patched where the *in-process* calls are looked up (`InferenceStateSameProcess`), not in
    jedi's `functions` module: calls to the subprocess send those functions by name, pickled.
    """
    global _installed
    with _lock:
        if _installed:
            return True
        from jedi.inference.compiled.subprocess import InferenceStateSameProcess, functions

        original = getattr(InferenceStateSameProcess, "__getattr__", None)
        if not (callable(getattr(functions, "_find_module", None)) and callable(original)):
            return False
        replacements = {"get_module_info": get_module_info, "load_module": load_module}

        def __getattr__(self, name):
            replacement = replacements.get(name)
            if replacement is None:
                return original(self, name)
            return partial(replacement, self._inference_state_weakref())

        InferenceStateSameProcess.__getattr__ = __getattr__
        _installed = True
        return True


def get_module_info(inference_state, sys_path=None, full_name=None, **kwargs):
    """jedi's get_module_info, with the search path handed to PathFinder instead of swapped in."""
    from jedi.inference.compiled.subprocess.functions import _find_module

    if sys_path is not None:
        kwargs["path"] = list(sys_path)
    try:
        return _find_module(full_name=full_name, **kwargs)
    except ImportError:
        return None, None


def load_module(inference_state, dotted_name, sys_path):
    """jedi's load_module, importing only from this process's own sys.path, and only where no
    package above the module would be imported (and run) for it."""
    from jedi.inference.compiled import access

    if not packages_imported(dotted_name):
        return None
    try:
        __import__(dotted_name)
    except Exception:  # not importable here (the user's own, or broken): no introspection
        return None
    module = sys.modules.get(dotted_name)
    return None if module is None else access.create_access_path(inference_state, module)


def packages_imported(dotted_name: str) -> bool:
    """Whether every package above `dotted_name` is imported already (true of a top-level module)."""
    parts = dotted_name.split(".")
    return all(".".join(parts[:end]) in sys.modules for end in range(1, len(parts)))
