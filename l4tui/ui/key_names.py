"""Textual's key names, as people write them (Ctrl-X, PgDn, [) and whether a name is one at all."""

from textual.keys import REPLACED_KEYS, Keys, key_to_character

MODIFIERS = {"ctrl": "Ctrl", "shift": "Shift", "alt": "Alt", "meta": "Meta", "super": "Super", "hyper": "Hyper"}
# Named keys as the help spells them; keys of one character are shown as that character.
KEY_NAMES = {
    "escape": "Esc", "enter": "Enter", "tab": "Tab", "space": "Space", "backspace": "Backspace",
    "delete": "Del", "insert": "Ins", "pageup": "PgUp", "pagedown": "PgDn", "home": "Home", "end": "End",
    "up": "Up", "down": "Down", "left": "Left", "right": "Right",
}
NAMED_KEYS = {key.value for key in Keys if not key.value.startswith("<")}
# Unicode's names that Textual replaces with common ones: a typed `+` is `plus`, never `plus_sign`,
# so a binding to `plus_sign` never fires.
UNUSED_NAMES = set(REPLACED_KEYS.values())


def _character(name: str) -> str | None:
    """The character a key name stands for: `question_mark` -> `?`, `plus` -> `+`."""
    if len(name) == 1:
        return name
    if name in UNUSED_NAMES:
        return None
    return key_to_character(REPLACED_KEYS.get(name, name))


def is_key(key: str) -> bool:
    """True for a key Textual can bind and a terminal can send: `q`, `?`, `ctrl+x`, `f10`,
    `shift+tab`, `plus` (not `plus_sign`: Textual never names a key that).

    A single character is normalised the way Textual's keymap does (`?` -> `question_mark`)."""
    key = key.strip()
    if len(key) == 1:
        return key.isprintable()
    *modifiers, name = key.split("+")
    if any(modifier not in MODIFIERS for modifier in modifiers) or not name:
        return False
    return name in NAMED_KEYS or _character(name) is not None


def key_text(keys: str) -> str:
    """`ctrl+right_square_bracket,f1` -> `Ctrl-] / F1`."""
    return " / ".join(one_key_text(key.strip()) for key in keys.split(","))


def one_key_text(key: str) -> str:
    if len(key) == 1:
        return key
    *modifiers, name = key.split("+")
    character = _character(name) if name not in KEY_NAMES else None
    if character is not None and character.isprintable() and character != " ":
        shown = character.upper() if modifiers and character.isalpha() else character
    else:
        shown = KEY_NAMES.get(name, name[:1].upper() + name[1:])
    return "-".join([*(MODIFIERS.get(m, m) for m in modifiers), shown])

