"""The app gives way to training: its own threads run at a lower priority (a higher niceness),
while the runs it starts keep the normal one.

On a machine whose cores the training keeps busy (a CPU box, or a GPU box feeding its GPU), a
terminal UI that wakes up to redraw takes a core away from a training thread for a moment, and
the other training threads wait for it: watching a run cost it up to a tenth of its speed on a
2-core machine, for 3% of one CPU used. At niceness 10 the UI still gets the little CPU it needs
(about a tenth of a core when everything is busy) and rarely preempts training.

On Linux the niceness is a thread's, and a new thread or process takes that of the thread that
makes it. So the app starts one launcher thread before lowering its own priority, and starts
every run from there: the runs keep the niceness the user launched l4tui with.
"""

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from l4tui.ui.off_thread import off_loop

UI_NICENESS = 10  # added to the app's niceness; L4TUI_UI_NICE=0 keeps the normal priority


def make_launcher() -> ThreadPoolExecutor:
    """A one-thread pool whose thread exists now, at the current priority."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="l4tui-launcher")
    pool.submit(lambda: None).result()
    return pool


def lower_this_thread() -> int:
    """Raise the calling thread's niceness by L4TUI_UI_NICE (default 10). Returns the new value."""
    try:
        step = int(os.environ.get("L4TUI_UI_NICE", UI_NICENESS))
    except ValueError:
        step = UI_NICENESS
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if step > 0 and hasattr(os, "setpriority"):
        try:
            os.setpriority(os.PRIO_PROCESS, 0, min(19, current + step))  # Linux: this thread only
        except OSError:
            pass
    return os.getpriority(os.PRIO_PROCESS, 0)


async def in_launcher(pool: ThreadPoolExecutor, fn, *args):
    """Run fn(*args) (start_run, resume_run) on the launcher thread, so the run it starts keeps
    the normal priority."""
    return await off_loop(asyncio.get_running_loop().run_in_executor(pool, fn, *args))
