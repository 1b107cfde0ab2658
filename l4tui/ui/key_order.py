"""Keys in the order they were typed, however fast they come.

Textual gives each key to the queue of the widget that has the focus when the key arrives, and
runs the key's binding only once the key has bubbled back up to the app. Keys that arrive
together (a paste, a slow SSH link, `tmux send-keys`) all go to the widget that had the focus
when the first one came: the keys typed after `/` reach the viewer, not the prompt `/` opens,
and the `e` of "/Embedding" opens the editor.

So the Code pane's widgets run a key's binding at once, when they take the key from their queue,
and a key that reaches a widget after the focus has moved on is handed to whatever has the focus
now. Together, every key lands where it would have landed had it been typed slowly.
"""

from textual import events
from textual.widgets import Input


def forward_key(app, key: str, character: str | None) -> None:
    """Give a key to whatever has the focus now; to the screen when nothing has it. A screen or
    widget with a `take_key(key, character)` method (one still loading) takes it that way."""
    screen = app.screen
    target = screen.focused or screen
    take = getattr(target, "take_key", None)
    if take is not None:
        take(key, character)
        return
    event = events.Key(key, character)
    # Sent by the app, as a key from the terminal is: a key "sent" by a widget stops bubbling at
    # that widget, and never reaches the app, which runs the bindings.
    event.set_sender(app)
    target._forward_event(event)


def is_typing(screen) -> bool:
    """True while a text field has the focus: the keys that type characters go into it, so the
    bindings on such keys (`1` `?` `]` `q` ...) do nothing then, and `check_action` hides them
    from the footer. Other keys (F1, Ctrl-C, Escape) still reach their bindings."""
    focused = screen.focused
    if isinstance(focused, Input):
        return True
    # TextArea by name: importing it costs start-up time, and no screen of ours uses one yet.
    return any(cls.__name__ == "TextArea" for cls in type(focused).__mro__) and not getattr(focused, "read_only", True)


def has_focus_now(widget) -> bool:
    """True when `widget` is the focused widget of the screen on top."""
    app = widget.app
    return app.screen.focused is widget


async def run_binding(app, key: str) -> bool:
    """Run `key`'s binding now, along the focus chain (the focused widget, its parents, the
    screen, the app), as the app would once the key had bubbled up to it. True if one ran.

    `App._check_bindings` is private, but textual is pinned (pyproject.toml) and this is the
    very call the app makes; a public equivalent does not exist."""
    return await app._check_bindings(key)


class EarlyKeys:
    """For a screen: the keys typed before it is ready (built, laid out) are kept, and handed on
    in order when it calls `release_early_keys()`; later keys go to `key_when_ready`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._early_keys: list | None = []

    def release_early_keys(self) -> None:
        early, self._early_keys = self._early_keys, None
        for key, character in early:
            forward_key(self.app, key, character)

    def take_key(self, key: str, character: str | None) -> None:
        """A key for this screen (forward_key): kept while the screen is not ready."""
        if self._early_keys is not None:
            self._early_keys.append((key, character))
        else:
            self.key_when_ready(key, character)

    def key_when_ready(self, key: str, character: str | None) -> None:
        forward_key(self.app, key, character)

    def on_key(self, event: events.Key) -> None:
        """Keys the app hands to the screen itself before it is ready: kept for later."""
        if self._early_keys is not None:
            event.stop()
            event.prevent_default()
            self._early_keys.append((event.key, event.character))


class InOrderInput(Input):
    """An Input that acts on each key when it takes it: typed text as usual, other keys' bindings
    at once, Enter through `enter_now` (which must finish what Enter does before the next key),
    and keys that reach it after it lost the focus are handed on."""

    async def _on_key(self, event: events.Key) -> None:
        if not has_focus_now(self):
            event.stop()
            event.prevent_default()
            forward_key(self.app, event.key, event.character)
            return
        if event.is_printable:
            return  # Input's own handler inserts it
        event.stop()
        event.prevent_default()
        if event.key == "enter":
            self.enter_now()
        else:
            await run_binding(self.app, event.key)

    def enter_now(self) -> None:
        self.post_message(self.Submitted(self, self.value))
