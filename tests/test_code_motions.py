"""The code pane's vim building blocks: motions, search, folds, the jump list, the outline.

vim itself is the oracle where it can be: a few batched `vim -es` runs (each answers hundreds
of cursor questions in a tenth of a second) compare against the real thing, and are skipped on a
machine without vim. The hand-written cases say what the behaviour is; the vim runs say it is vim's.
"""

import ast
import json
import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO
from l4tui.code.folds import Fold, FoldState, find_folds, summary
from l4tui.code.jumplist import JumpList
from l4tui.code.location import Location
from l4tui.code.motions import (char_class, first_non_blank, match_bracket, paragraph_backward,
                                paragraph_forward, word_backward, word_end, word_forward)
from l4tui.code.outline import breadcrumb, enclosing
from l4tui.code.search import (WRAP_MESSAGES, SearchHit, compile_pattern, count_matches, index_of,
                               matches_in_line, search)

MODELS = REPO / "models"


def source_lines(path: Path) -> list[str]:
    """A file's lines as the viewer holds them (tabs expanded)."""
    return path.read_text().expandtabs(4).splitlines()


# ---- vim as the oracle ---------------------------------------------------------------------

def _vim_works() -> bool:
    if shutil.which("vim") is None:
        return False
    try:  # setcursorcharpos() and charcol() need vim 8.2.2324 or later
        done = subprocess.run(["vim", "-u", "NONE", "-i", "NONE", "-N", "-es", "-c",
                               "if !exists('*setcursorcharpos') | cquit | endif", "-c", "qa!"],
                              timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


VIM = _vim_works()
needs_vim = pytest.mark.skipif(not VIM, reason="vim (8.2.2324 or later) is not installed")


def run_vim(tmp_path: Path, text: str, body: list[str]) -> list:
    """Run vim script lines `body` on a buffer holding `text`; they add JSON to g:res."""
    buffer = tmp_path / "buffer.txt"
    buffer.write_text(text, encoding="utf-8")
    out = tmp_path / "out.json"
    script = tmp_path / "script.vim"
    script.write_text("\n".join(["set encoding=utf-8", "let g:res = []", *body,
                                 f"call writefile(g:res, '{out}')", "qa!"]), encoding="utf-8")
    subprocess.run(["vim", "-u", "NONE", "-i", "NONE", "-N", "-es", "--cmd", "set encoding=utf-8",
                    "-S", str(script), str(buffer)], timeout=60, check=False)
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def vim_cursors(tmp_path, lines, cases, setup=(), warnings=False):
    """For each (line, col, keys): where `:normal! keys` from (line, col) puts vim's cursor,
    as (line, col) from 0 in characters; with `warnings`, also v:warningmsg."""
    body = list(setup)
    for line, col, keys in cases:
        body += ["let v:warningmsg = ''",
                 f"call setcursorcharpos({line + 1}, {col + 1})",
                 ("" if warnings else "silent! ") + f'exe "normal! {keys}"',
                 "call add(g:res, json_encode([line('.') - 1, charcol('.') - 1, v:warningmsg]))"]
    results = run_vim(tmp_path, "\n".join(lines) + "\n", body)
    return [tuple(r) if warnings else tuple(r[:2]) for r in results]


# ---- motions -------------------------------------------------------------------------------

CODE = [
    "class EmbeddingDotBias(nn.Module):",                #  0
    "    def forward(self, x) -> int:",                  #  1
    "        users, items = x[:, 0], x[:, 1]",           #  2
    "",                                                  #  3
    "        res = dot.sum(1) + bias    ",               #  4 (trailing blanks)
    "    ",                                              #  5 (only blanks)
    "        return {\"a\": [1, (2, 3)], 'b': \")\"}",   #  6
]


def test_w_runs_of_keywords_and_of_punctuation():
    assert word_forward(CODE, 0, 0) == (0, 6)            # class -> EmbeddingDotBias
    assert word_forward(CODE, 0, 6) == (0, 22)           # -> (
    assert word_forward(CODE, 0, 22) == (0, 23)          # ( -> nn
    assert word_forward(CODE, 0, 25) == (0, 26)          # . -> Module
    assert word_forward(CODE, 0, 26) == (0, 32)          # Module -> "):", one run
    assert word_forward(CODE, 1, 23) == (1, 25)          # ) -> "->"
    assert word_forward(CODE, 1, 25) == (1, 28)          # -> -> int
    assert word_forward(CODE, 0, 0, count=3) == (0, 23)


def test_w_crosses_lines_stops_on_empty_ones_skips_blank_ones():
    assert word_forward(CODE, 0, 32) == (1, 4)           # "):" -> def on the next line
    assert word_forward(CODE, 2, 38) == (3, 0)           # an empty line is a word
    assert word_forward(CODE, 3, 0) == (4, 8)
    assert word_forward(CODE, 4, 27) == (6, 8)           # trailing blanks, a blank line: skipped


def test_w_on_the_last_word_goes_to_the_last_character():
    assert word_forward(CODE, 6, 39) == (6, 42)          # the last run, '")"}', to its end
    assert word_forward(CODE, 6, 42) == (6, 42)          # already there: stays
    assert word_forward(["x = 1"], 0, 4) == (0, 4)
    assert word_forward([""], 0, 0) == (0, 0)


def test_big_words():
    assert word_forward(CODE, 0, 0, big=True) == (0, 6)
    assert word_forward(CODE, 0, 6, big=True) == (1, 4)  # "EmbeddingDotBias(nn.Module):" is one
    assert word_backward(CODE, 1, 4, big=True) == (0, 6)
    assert word_end(CODE, 0, 6, big=True) == (0, 33)


def test_b_and_e():
    assert word_backward(CODE, 1, 4) == (0, 32)          # back over the line break to "):"
    assert word_backward(CODE, 4, 8) == (3, 0)           # stops on the empty line
    assert word_backward(CODE, 6, 8) == (4, 27)          # over a blank line to "bias"
    assert word_backward(CODE, 0, 3) == (0, 0)           # the start of this word
    assert word_backward(CODE, 0, 0) == (0, 0)           # the start of the file: stays
    assert word_backward(["   x"], 0, 3) == (0, 0)       # vim too: the file's first column
    assert word_end(CODE, 0, 0) == (0, 4)
    assert word_end(CODE, 0, 4) == (0, 21)
    assert word_end(CODE, 2, 38) == (4, 10)              # e skips the empty line, unlike w
    assert word_end(CODE, 6, 42) == (6, 42)


def test_non_ascii_words():
    assert char_class("é") == 2 and char_class("×") == 2  # vim's iskeyword: 192-255
    assert char_class("→") == 1 and char_class("\u3000") == 0
    assert char_class("漢") != char_class("a")            # vim: a script of its own
    assert word_forward(["café = 1"], 0, 0) == (0, 5)
    assert word_forward(["x→y"], 0, 0) == (0, 1)


def test_first_non_blank():
    assert first_non_blank(CODE, 1) == 4
    assert first_non_blank(CODE, 3) == 0
    assert first_non_blank(CODE, 5) == 3                 # only blanks: the last one, as vim


def test_percent_on_one_line():
    assert match_bracket(CODE, 2, 0) == (2, 29)          # the first bracket after the cursor
    assert match_bracket(CODE, 2, 29) == (2, 24)         # from a closer, backwards
    assert match_bracket(CODE, 6, 25) == (6, 30)
    # The ")" in double quotes is skipped (the line has an even number of quotes).
    assert match_bracket(CODE, 6, 15) == (6, 42)
    assert match_bracket(CODE, 6, 42) == (6, 15)
    assert match_bracket(CODE, 3, 0) is None             # no bracket on the line
    assert match_bracket(["f(x) y"], 0, 5) is None      # brackets only before the cursor
    assert match_bracket(["f(x"], 0, 0) is None          # no partner


def test_percent_across_lines_and_nested():
    lines = ["x = foo(", "    a,", "    [b, (c)],", ")", "y = {", "}"]
    assert match_bracket(lines, 0, 0) == (3, 0)
    assert match_bracket(lines, 3, 0) == (0, 7)
    assert match_bracket(lines, 2, 0) == (2, 11)
    assert match_bracket(lines, 4, 0) == (5, 0)
    assert match_bracket(["(a, ')', b)"], 0, 0) == (0, 10)  # ')' is skipped, a char literal


def test_paragraphs():
    lines = ["a", "b", "", "   ", "c", "", "", "d", "e"]
    assert paragraph_forward(lines, 0) == (2, 0)
    assert paragraph_forward(lines, 2) == (5, 0)         # a line of blanks is not a boundary
    assert paragraph_forward(lines, 5) == (8, 0)         # the end: last line's last char
    assert paragraph_forward(lines, 0, count=2) == (5, 0)
    assert paragraph_backward(lines, 8) == (6, 0)
    assert paragraph_backward(lines, 1) == (0, 0)
    assert paragraph_forward(lines, 0, 0, count=9) == (0, 0)  # a count too far: no move


def _motion_cases(lines, rng, count, keys):
    cases = []
    for _ in range(count):
        line = rng.randrange(len(lines))
        cases.append((line, rng.randrange(max(1, len(lines[line]))), rng.choice(keys)))
    return cases


MOTIONS = {
    "w": lambda L, l, c: word_forward(L, l, c), "W": lambda L, l, c: word_forward(L, l, c, True),
    "b": lambda L, l, c: word_backward(L, l, c), "B": lambda L, l, c: word_backward(L, l, c, True),
    "e": lambda L, l, c: word_end(L, l, c), "E": lambda L, l, c: word_end(L, l, c, True),
    "3w": lambda L, l, c: word_forward(L, l, c, count=3),
    "2b": lambda L, l, c: word_backward(L, l, c, count=2),
    "%": lambda L, l, c: match_bracket(L, l, c) or (l, c),
    "}": lambda L, l, c: paragraph_forward(L, l, c), "{": lambda L, l, c: paragraph_backward(L, l, c),
    "^": lambda L, l, c: (l, first_non_blank(L, l)),
}


@needs_vim
def test_motions_agree_with_vim(tmp_path):
    rng = random.Random(4)
    # Real code, and made-up lines full of what trips motions up: quotes around brackets,
    # backslashes, non-ASCII, blank and empty lines.
    texts = [source_lines(MODELS / "awd_lstm.py"), CODE]
    pieces = ["foo", "_x1", "(", ")", "[", "]", "{", "}", '"', "'", "\\", "'('", '"("', "\\(",
              "->", "):", " ", "  ", ".", "#", "é", "→", "—", "漢字", "😀"]
    for _ in range(3):
        texts.append(["".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
                      if rng.random() > 0.2 else rng.choice(["", "   "]) for _ in range(12)])
    for lines in texts:
        cases = _motion_cases(lines, rng, 500, list(MOTIONS))
        expected = vim_cursors(tmp_path, lines, cases)
        got = [tuple(MOTIONS[keys](lines, line, col)) for line, col, keys in cases]
        wrong = [(case, want, have) for case, want, have in zip(cases, expected, got) if want != have]
        assert not wrong, wrong[:5]


# ---- search --------------------------------------------------------------------------------

def test_smartcase_and_pattern_fallbacks():
    assert compile_pattern("embed").search("EmbeddingDotBias")       # all lowercase: any case
    assert not compile_pattern("EMBED").search("EmbeddingDotBias")   # an uppercase: exact case
    assert compile_pattern(r"\Sbed").search("EmBED")                 # \S is not an uppercase
    assert compile_pattern(r"\<dot\>").search("a dot b")
    assert not compile_pattern(r"\<dot\>").search("EmbeddingDotBias")
    literal = compile_pattern("forward(")                            # invalid: searched as text
    assert literal.search("def forward(self)") and not literal.search("forward")


def test_search_forward_backward_and_wrapping():
    lines = ["foo bar foo", "", "bar", "foo"]
    pattern = compile_pattern("foo")
    assert search(lines, pattern, 0, 0) == SearchHit(0, 8, False)    # strictly after the cursor
    assert search(lines, pattern, 0, 8) == SearchHit(3, 0, False)
    assert search(lines, pattern, 3, 0) == SearchHit(0, 0, True)     # hit BOTTOM, at TOP
    assert search(lines, pattern, 3, 0, wrap=False) is None
    assert search(lines, pattern, 0, 8, forward=False) == SearchHit(0, 0, False)
    assert search(lines, pattern, 0, 0, forward=False) == SearchHit(3, 0, True)
    assert search(lines, pattern, 0, 0, forward=False, wrap=False) is None
    assert search(["x", "foo"], pattern, 1, 0) == SearchHit(1, 0, True)  # the only one: itself
    assert search(lines, compile_pattern("nowhere"), 0, 0) is None
    assert WRAP_MESSAGES[True] == "search hit BOTTOM, continuing at TOP"


def test_search_steps_like_vim():
    # vim's 'cpoptions' c: matches are non-overlapping from the line's start.
    assert search(["aaaa"], compile_pattern("aa"), 0, 0) == SearchHit(0, 2, False)
    assert search(["aaaa"], compile_pattern("aa"), 0, 3, forward=False) == SearchHit(0, 2, False)
    # A match at the end of the line puts the cursor on the last character.
    assert search(["ab", "cd"], compile_pattern("$"), 0, 0) == SearchHit(0, 1, False)
    assert search(["ab", "cd"], compile_pattern("$"), 0, 1) == SearchHit(1, 1, False)


def test_matches_and_counts():
    pattern = compile_pattern("ab")
    assert matches_in_line(pattern, "ab xab ABab") == [(0, 2), (4, 6), (7, 9), (9, 11)]
    assert matches_in_line(compile_pattern("^"), "x") == [(0, 1)]   # empty: one column wide
    lines = ["ab ab", "x", "ab"]
    assert count_matches(lines, pattern) == 3
    assert index_of(lines, pattern, SearchHit(0, 3)) == 2
    assert index_of(lines, pattern, SearchHit(2, 0)) == 3
    assert index_of(lines, pattern, SearchHit(1, 0)) == 0


@needs_vim
def test_search_agrees_with_vim(tmp_path):
    rng = random.Random(7)
    # Patterns that mean the same in vim's dialect and in Python's.
    patterns = ["a", "aa", "ab", "A", "a.", "[ab]a", "^a", "a$", "$", "^", "b*", "aA", "ba"]
    lines = ["".join(rng.choice("aabAB  ") for _ in range(rng.randint(0, 8))) for _ in range(9)]
    cases = []
    for _ in range(300):
        line = rng.randrange(len(lines))
        col = rng.randrange(max(1, len(lines[line])))
        pattern, forward = rng.choice(patterns), rng.random() < 0.5
        keys = ("/" if forward else "?") + pattern.replace("$", "\\$") + "\\r"
        cases.append((line, col, keys, pattern, forward))
    expected = vim_cursors(tmp_path, lines, [case[:3] for case in cases],
                           setup=["set ignorecase smartcase"], warnings=True)
    for (line, col, _, pattern, forward), (vim_line, vim_col, warning) in zip(cases, expected):
        hit = search(lines, compile_pattern(pattern), line, col, forward=forward)
        if hit is None:  # vim stays (and may have said it wrapped before failing)
            assert (vim_line, vim_col) == (line, col), (pattern, line, col)
        else:
            message = WRAP_MESSAGES[forward] if hit.wrapped else ""
            assert (hit.line, hit.col, message) == (vim_line, vim_col, warning), (pattern, line, col)


# ---- folds ---------------------------------------------------------------------------------

def ast_blocks(source: str) -> dict[int, tuple[int, str]]:
    """{start: (end, name)} from 0 for every class/def whose body starts on a line of its own."""
    lines = source.split("\n")
    blocks = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = node.body[0]
            text = lines[first.lineno - 1]
            if first.lineno > node.lineno and first.col_offset == len(text) - len(text.lstrip()):
                blocks[node.lineno - 1] = (node.end_lineno - 1, node.name)
    return blocks


@pytest.mark.parametrize("name", ["collab.py", "awd_lstm.py", "tabular.py"])
def test_folds_match_ast_on_the_models(name):
    path = MODELS / name
    folds = find_folds(source_lines(path))
    expected = ast_blocks(path.read_text())
    assert {fold.start: (fold.end, fold.name) for fold in folds} == expected
    assert len(folds) >= 5 and [fold.start for fold in folds] == sorted(f.start for f in folds)


def test_collab_folds_in_detail():
    lines = source_lines(MODELS / "collab.py")
    folds = {fold.name: fold for fold in find_folds(lines) if fold.name != "__init__"}
    bias = folds["EmbeddingDotBias"]
    assert (bias.kind, bias.depth) == ("class", 0)
    assert lines[bias.start].startswith("class EmbeddingDotBias")
    forward = next(f for f in find_folds(lines) if f.name == "forward" and f.start in bias)
    assert forward.depth == 1 and lines[forward.end].strip().startswith("return sigmoid_range")


TRICKY = '''\
import os


@decorator
def decorated(a,
              b=(1,
                 2)) -> dict[str, int]:
    """A docstring
with lines less indented
than the body."""
    x = 1
# a comment at column 0, inside the body
    return x
    # an indented comment after the last statement


async def fetch():
    await thing()

def one_liner(): return 1
class Empty: pass

class Outer:
    class Inner:
        def method(self):
            s = "def not_a_def():"
            return s \\
                + "x"

    def after(self):
        pass
'''


def test_folds_on_tricky_code():
    lines = TRICKY.splitlines()
    folds = {fold.name: fold for fold in find_folds(lines)}
    assert set(folds) == {"decorated", "fetch", "Outer", "Inner", "method", "after"}
    assert (folds["decorated"].start, folds["decorated"].end) == (4, 12)   # def line to return
    assert (folds["fetch"].kind, folds["fetch"].start, folds["fetch"].end) == ("async def", 16, 17)
    assert (folds["Outer"].start, folds["Outer"].end, folds["Outer"].depth) == (22, 30, 0)
    assert (folds["Inner"].start, folds["Inner"].end, folds["Inner"].depth) == (23, 27, 1)
    assert (folds["method"].start, folds["method"].end, folds["method"].depth) == (24, 27, 2)
    assert ast_blocks(TRICKY) == {f.start: (f.end, f.name) for f in folds.values()}


def test_folds_survive_syntax_errors():
    lines = ["def broken():", "    x = [1, 2", "", "def fine():", "    return 1", "",
             "class C:", "    def m(self):", "        return '''unterminated", "", "x = 1"]
    folds = {fold.name: fold for fold in find_folds(lines)}
    # The unclosed bracket ends at the next top-level def; the unterminated string runs on.
    assert (folds["broken"].start, folds["broken"].end) == (0, 1)
    assert (folds["fine"].start, folds["fine"].end) == (3, 4)
    assert (folds["C"].end, folds["m"].end) == (10, 10)
    assert find_folds([]) == [] and find_folds(["def f():"]) == []


def _state():
    """Outer 0-9 holding a 1-4 (holding b 2-3) and c 6-9; top 11-12; 14 lines."""
    folds = [Fold(0, 9, "class", "Outer", 0), Fold(1, 4, "def", "a", 1), Fold(2, 3, "def", "b", 2),
             Fold(6, 9, "def", "c", 1), Fold(11, 12, "def", "top", 0)]
    return FoldState(folds, 14)


def test_zc_closes_one_level_at_a_time():
    state = _state()
    assert state.close(3).name == "b"                    # the innermost open fold
    assert state.closed == {2}
    assert state.close(3).name == "a"                    # b closed: close its parent a
    assert state.closed == {1, 2}
    assert state.close(3).name == "Outer"
    assert state.close(3).name == "Outer" and state.closed == {0, 1, 2}  # nothing left to close
    assert state.close(5).name == "Outer"                # a line of Outer only
    assert state.close(10) is None                       # no fold: E490


def test_zo_za_zm_zr():
    state = _state()
    state.close_all()
    assert state.closed == {0, 1, 2, 6, 11}
    assert state.open(3).name == "Outer"                 # the outermost closed one
    assert state.is_folded(3) and state.closed_fold(3).name == "a"
    assert state.open(3).name == "a" and state.open(3).name == "b"
    assert not state.is_folded(3)
    assert state.open(3).name == "b"                     # nothing closed: the innermost
    assert state.open(13) is None
    assert state.toggle(7).name == "c" and 6 not in state.closed   # closed -> open
    assert state.toggle(7).name == "c" and 6 in state.closed       # open -> closed
    state.open_all()
    assert state.closed == frozenset()


def test_visible_lines_and_display_rows():
    state = _state()
    assert state.visible_lines() == list(range(14))
    state.close(2)          # b
    state.close(11)         # top
    assert state.visible_lines() == [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 13]
    state.close(5)          # Outer, with b still closed inside
    assert state.visible_lines() == [0, 10, 11, 13]
    assert [state.display_row(line) for line in (0, 3, 9, 10, 12, 13)] == [0, 0, 0, 1, 2, 3]
    assert [state.file_line(row) for row in (0, 1, 2, 3, 99)] == [0, 10, 11, 13, 13]
    assert state.is_hidden(5) and not state.is_hidden(0) and not state.is_hidden(10)
    assert state.fold_at(0).name == "Outer" and state.fold_at(2) is None
    assert [fold.name for fold in state.reveal(3)] == ["Outer", "b"]  # as a search landing there
    assert state.visible_lines() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]


def test_j_and_k_over_closed_folds():
    state = _state()
    state.close(7)                                       # c, 6-9
    assert state.move_lines(5, 1) == 6                   # into the fold: its first line
    assert state.move_lines(7, 1) == 10                  # out of it: the line after
    assert state.move_lines(10, -1) == 6
    assert state.move_lines(5, 3) == 11
    assert state.move_lines(13, 1) == 13 and state.move_lines(0, -1) == 0


def test_fold_summary_like_vim():
    lines = source_lines(MODELS / "collab.py")
    folds = {fold.name: fold for fold in find_folds(lines)}
    assert summary(folds["EmbeddingDotBias"], lines) == \
        "+-- 31 lines: class EmbeddingDotBias(nn.Module):"
    assert summary(folds["forward"], lines).startswith("+---  2 lines: def forward(self, x):")
    assert summary(folds["sigmoid_range"], lines, width=50).endswith("high):----")
    assert len(summary(folds["sigmoid_range"], lines, width=50)) == 50


@needs_vim
def test_fold_commands_agree_with_vim(tmp_path):
    """The same folds made in vim by hand (foldmethod=manual); after each command, which fold
    hides each line (foldclosed()) must agree, and so must j/k with folds closed."""
    path = MODELS / "awd_lstm.py"
    lines = source_lines(path)
    folds = find_folds(lines)
    rng = random.Random(3)
    body = ["set foldmethod=manual", "normal! zE"]
    for fold in sorted(folds, key=lambda fold: (fold.start, -fold.end)):
        body += [f"{fold.start + 1},{fold.end + 1}fold", "normal! zR"]
    starts = [fold.start for fold in folds]
    commands = []
    for _ in range(40):
        line = rng.choice(starts) + rng.randint(0, 3) if rng.random() < 0.7 else rng.randrange(len(lines))
        commands.append((rng.choice(["zc", "zc", "zo", "za", "za", "zM", "zR"]), line))
    for command, line in commands:
        body += [f"call cursor({line + 1}, 1)", f'silent! exe "normal! {command}"',
                 f"call add(g:res, json_encode(map(range(1, {len(lines)}), 'foldclosed(v:val)')))"]
    moves = [(rng.randrange(len(lines)), rng.choice([1, -1, 3, -2, 5])) for _ in range(100)]
    for line, delta in moves:
        keys = f"{abs(delta)}{'j' if delta > 0 else 'k'}"
        body += [f"call cursor({line + 1}, 1)", f'silent! exe "normal! {keys}"',
                 "call add(g:res, line('.') - 1)"]
    results = run_vim(tmp_path, path.read_text(), body)

    state = FoldState(folds, len(lines))
    act = {"zc": state.close, "zo": state.open, "za": state.toggle,
           "zM": lambda line: state.close_all(), "zR": lambda line: state.open_all()}
    for (command, line), vim_closed in zip(commands, results):
        act[command](line)
        mine = [(state.closed_fold(n).start + 1) if state.is_folded(n) else -1 for n in range(len(lines))]
        assert mine == vim_closed, (command, line)
    for (line, delta), vim_line in zip(moves, results[len(commands):]):
        assert state.move_lines(line, delta) == vim_line, (line, delta)


# ---- jump list -----------------------------------------------------------------------------

A = Path("a.py")


def at(line: int, path: Path = A) -> Location:
    return Location(path, line)


def test_jumplist_back_and_forth():
    jumps = JumpList()
    jumps.record(at(1))          # gg... G from line 1 to 50
    jumps.record(at(50))         # then from 50 to 20
    assert jumps.back(at(20)) == at(50)      # Ctrl-O first remembers line 20
    assert jumps.back(at(50)) == at(1)
    assert jumps.back(at(1)) is None
    assert jumps.forward() == at(50)
    assert jumps.forward() == at(20)
    assert jumps.forward() is None
    assert [loc.line for loc in jumps.entries()] == [1, 50, 20] and jumps.index == 2


def test_jumplist_keeps_entries_and_moves_duplicates_to_the_end():
    jumps = JumpList()
    for line in (1, 10, 20):
        jumps.record(at(line))
    assert jumps.back(at(30)) == at(20)
    assert jumps.back(at(20)) == at(10)
    jumps.record(at(10))         # a new jump from line 10, in the middle of the list
    # Nothing dropped (that is the tag stack's way); line 10 now appears once, at the end.
    assert [loc.line for loc in jumps.entries()] == [1, 20, 30, 10]
    assert jumps.index == 4
    assert jumps.back(at(40)) == at(10)
    other = Location(Path("b.py"), 10, 3)
    jumps.record(other)          # the same line in another file is another place
    assert other in jumps.entries() and at(10) in jumps.entries()


def test_jumps_lists_oldest_first_with_vims_marker():
    jumps = JumpList()
    for line in (1, 50, 20):
        jumps.record(Location(A, line, 4))
    # Not walking the list: vim's `>` stands alone on a last line, after the newest entry.
    assert [text for text, _ in jumps.listing()] == [
        "   3      1    5", "   2     50    5", "   1     20    5", ">"]
    assert jumps.listing()[-1][1] is None and jumps.listing()[0][1].line == 1
    jumps.back(at(30))  # Ctrl-O: the current position is now an entry of its own
    texts = [text for text, _ in jumps.listing()]
    assert texts == ["   2      1    5", "   1     50    5", ">  0     20    5", "   1     30    1"]


def test_jumplist_is_bounded():
    jumps = JumpList(max_entries=3)
    for line in range(1, 8):
        jumps.record(at(line))
    assert [loc.line for loc in jumps.entries()] == [5, 6, 7]


@needs_vim
def test_jumplist_agrees_with_vim(tmp_path):
    """Random G / Ctrl-O / Ctrl-I sequences; after each, the cursor line and vim's
    getjumplist() (lines and index) against ours."""
    rng = random.Random(11)
    text = "".join(f"line {n}\n" for n in range(1, 151))
    for _ in range(4):
        ops = [rng.choice(["o", "o", "i", rng.randint(1, 150)]) for _ in range(60)]
        body = ["call cursor(1, 1)", "clearjumps"]
        for op in ops:
            keys = {"o": "\\<C-o>", "i": "1\\<C-i>"}.get(op, f"{op}G")
            body += [f'silent! exe "normal! {keys}"',
                     "call add(g:res, json_encode([line('.'), "
                     "map(getjumplist()[0], {_, v -> v.lnum}), getjumplist()[1]]))"]
        expected = run_vim(tmp_path, text, body)
        jumps, line, got = JumpList(), 1, []
        for op in ops:
            if op == "o":
                line = getattr(jumps.back(at(line)), "line", line)
            elif op == "i":
                line = getattr(jumps.forward(), "line", line)
            else:
                jumps.record(at(line))
                line = op
            got.append([line, [loc.line for loc in jumps.entries()], jumps.index])
        assert got == expected, ops


# ---- outline -------------------------------------------------------------------------------

def test_breadcrumb():
    lines = source_lines(MODELS / "collab.py")
    folds = find_folds(lines)
    forward = next(n for n, text in enumerate(lines) if "def forward(self, x):" in text)
    assert breadcrumb(lines, forward, folds) == ["class EmbeddingDotBias", "def forward"]
    assert breadcrumb(lines, forward + 1) == ["class EmbeddingDotBias", "def forward"]
    assert breadcrumb(lines, 0) == []
    blank = forward - 1                                  # between __init__ and forward
    assert breadcrumb(lines, blank, folds) == ["class EmbeddingDotBias"]
    assert [fold.name for fold in enclosing(folds, len(lines) - 1)] == ["EmbeddingNN", "forward"]


# ---- a big file ----------------------------------------------------------------------------

def test_a_30000_line_file():
    model = source_lines(MODELS / "awd_lstm.py")
    lines = (model * (30000 // len(model) + 1))[:30000]
    lines[29000] = "    needle_in_the_haystack = 1"

    started = time.perf_counter()
    folds = find_folds(lines)
    state = FoldState(folds, len(lines))
    state.close_all()
    rows = state.visible_lines()
    fold_time = time.perf_counter() - started
    assert len(folds) > 3000
    assert rows[0] == 0 and len(rows) < len(lines) // 3
    assert state.file_line(state.display_row(29000)) == state.closed_fold(29000).start

    pattern = compile_pattern("needle_in_the")
    started = time.perf_counter()
    ahead = search(lines, pattern, 4000, 0)
    wrapped = search(lines, pattern, 29500, 0)
    search_time = (time.perf_counter() - started) / 2
    assert ahead == SearchHit(29000, 4, False) and wrapped == SearchHit(29000, 4, True)

    print(f"30k lines: folds + zM + visible_lines {fold_time * 1000:.0f} ms, "
          f"search 25k lines away {search_time * 1000:.1f} ms")
    # Loose bounds (5x the targets of 200 ms and 20 ms): a slow CI machine must not fail them.
    assert fold_time < 1.0 and search_time < 0.1
