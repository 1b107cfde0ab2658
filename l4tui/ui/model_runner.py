"""The Model pane's one model, used by one pass at a time.

Building, a forward pass for the Activations tab, a backward pass for the gradients, generating:
each runs in a thread, and two at once on the same model would mix their hooks and their
gradients. The pane makes one ModelRunner and hands it to the tabs that run passes, so a tab
needs nothing else of the pane (no import of it: no cycle).
"""

import threading
import time
from l4tui.ui.off_thread import in_thread

BUSY_WAIT_S = 5.0  # a pass waits this long for the one before it, then says what holds the model


class ModelBusy(RuntimeError):
    """The model is still busy with an earlier pass (a build that never finishes, say)."""


class ModelExited(RuntimeError):
    """The model's own code called sys.exit() during a pass: the pass failed, the app goes on."""


class ModelRunner:
    def __init__(self, busy_wait_s: float | None = None) -> None:
        self.busy_wait_s = busy_wait_s  # None: BUSY_WAIT_S, read at each pass
        self.lock = threading.Lock()  # one forward/backward pass at a time
        self.busy_with = ("", 0.0)  # what holds the lock, since when (time.monotonic)

    async def run(self, function, *args, what: str = "a pass"):
        """`function(*args)` in a thread, after any other pass on the model has ended; ModelBusy
        when that takes longer than busy_wait_s."""
        def locked():
            wait_s = BUSY_WAIT_S if self.busy_wait_s is None else self.busy_wait_s
            if not self.lock.acquire(timeout=wait_s):
                holder, since = self.busy_with
                raise ModelBusy(f"the model is still busy with {holder} ({time.monotonic() - since:.0f} s); "
                                "wait, or quit with q (runs keep training) and start l4tui again")
            self.busy_with = (what, time.monotonic())
            try:
                return function(*args)
            except SystemExit as error:  # a user's forward() calling sys.exit must not end the app
                raise ModelExited(f"the model's code called sys.exit({error.code!r})") from None
            finally:
                self.lock.release()
        return await in_thread(locked)
