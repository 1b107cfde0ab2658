"""Every key binding the app's own classes declare, for checking a keymap's ids and for tests.

The screens opened from the Data pane are imported on demand (they are heavier); this imports
every module of `l4tui.ui`, so call it after the first frame, never at start-up.
"""

import importlib
import inspect
import pkgutil

from textual.binding import Binding
from textual.dom import DOMNode

import l4tui.ui


def declared_bindings() -> list[tuple[type, Binding | tuple]]:
    """(class, binding) for each entry of each `BINDINGS` in `l4tui.ui`'s modules, the
    Entries written as tuples come back as they are."""
    found = []
    for module_info in pkgutil.iter_modules(l4tui.ui.__path__, "l4tui.ui."):
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, DOMNode):
                found.extend((cls, binding) for binding in cls.__dict__.get("BINDINGS", []))
    return found


def binding_ids() -> set[str]:
    return {binding.id for _, binding in declared_bindings() if isinstance(binding, Binding) and binding.id}
