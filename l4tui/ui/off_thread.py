"""Work a widget hands to a thread, and the widget gone by the time it comes back.

A worker that awaits a thread (reading a file, a forward pass, listing runs) can resume after
its widget has left: the app was quit (`q` during start-up), the screen closed (Esc, the tour
moving on), a tab was rebuilt for another model. Textual cancels a widget's workers when it
removes the widget, but the thread's result can come back first; the worker then looks up
children that are gone, and the NoMatches it raises fails the whole app.

`off_loop` is the one place that checks, and `in_thread` (asyncio.to_thread through it) the way
the UI layer runs a function in a thread (a test holds every module to that): when the worker's widget is gone or going, it raises
WidgetGone, a CancelledError, which Textual's worker takes as a quiet cancel, so the code after
the await only runs while its widgets are there.
"""

import asyncio

from textual.worker import NoActiveWorker, get_current_worker


class WidgetGone(asyncio.CancelledError):
    """The widget a worker works for left the app while the worker awaited a thread."""


def gone(widget) -> bool:
    """Whether `widget` is gone or going: detached, being removed, or in an app that is closing."""
    try:
        if not widget.app.is_running:  # shutting down: the screens are pruned one by one
            return True
    except Exception:  # no active app (NoActiveAppError): nothing to draw on
        return True
    if not widget.is_attached:
        return True
    # Removing a widget marks it and everything under it before it takes anything away
    # (Textual's App._prune), so a widget whose children are already going still reads as
    # attached: only these flags say so. Private, pinned with Textual (pyproject.toml).
    return widget._pruning or widget._closing or widget._closed


async def off_loop(awaitable):
    """Await work done off the event loop (a thread's future: jedi's thread, the launcher) and
    raise WidgetGone when, by the time it is done (or has failed), the widget whose worker awaits
    it is gone. Outside a worker it is a plain await."""
    try:
        node = get_current_worker().node
    except NoActiveWorker:
        node = None
    try:
        result = await awaitable
    except Exception:
        if node is not None and gone(node):
            raise WidgetGone() from None  # its error has no one left to show it to
        raise
    if node is not None and gone(node):
        raise WidgetGone()
    return result


async def in_thread(function, *args, **kwargs):
    """`function(*args, **kwargs)` in a thread, like asyncio.to_thread, awaited by off_loop."""
    return await off_loop(asyncio.to_thread(function, *args, **kwargs))


async def sleep_here(seconds: float) -> None:
    """asyncio.sleep for a worker's polling loop (a run's file, a pane still building): raises
    WidgetGone when the worker's widget has gone by the time it wakes."""
    await off_loop(asyncio.sleep(seconds))


def lost_to_the_teardown(error: BaseException) -> bool:
    """Whether `error` only says that a widget looked for a child that is gone (NoMatches, also
    inside a failed worker's WorkerFailed): what a handler still running while the app closes
    meets (ui/app.py's L4App._handle_exception lets it pass then, and only then)."""
    from textual.css.query import NoMatches
    from textual.worker import WorkerFailed

    if isinstance(error, WorkerFailed):
        error = error.error
    return isinstance(error, NoMatches)
