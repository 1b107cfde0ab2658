"""Word tokens for the text models: the tokens of fastai 2.8's default tokenizer, without spaCy, fast.

    tokenize(text) -> list[str]                     one text
    tokenize_many(texts, n_workers=None) -> list    many texts, over processes when there are many
    detokenize(tokens) -> str                       readable text back

fastai's default text tokenizer (`Tokenizer` around `SpacyTokenizer`, i.e. `spacy.blank("en")`,
with `defaults.text_proc_rules`) does three things to each text:

1. rules on the raw string, in this order: `fix_html` (``<br />`` -> newline, ``&amp;`` ...),
   `replace_rep` (a character 3+ times: ``cccc`` -> ``xxrep 4 c``), `replace_wrep` (a word 3+
   times in a row: ``very very very`` -> ``xxwrep 3 very``), `spec_add_spaces` (spaces around
   ``/ # \\``), `rm_useless_spaces`, `replace_all_caps` (``WORD`` -> ``xxup word``), `replace_maj`
   (``Word`` -> ``xxmaj word``) and `lowercase` (which also puts ``xxbos`` in front);
2. spaCy's English word tokenizer on that: split on whitespace, peel prefixes and suffixes
   (punctuation, quotes, ``'s`` ...), split infixes (a hyphen between letters ...), with the
   English exceptions (``don't`` -> ``do n't``, ``can't`` -> ``ca n't``, ``e.g.`` whole ...)
   and fastai's special tokens as exceptions;
3. ``replace_space`` on each token (a space in a token becomes ``▁``).

This module does the same with its own regular expressions: steps 1 and 3 are fastai's rules
rewritten; step 2 follows spaCy 3.8's `Tokenizer` algorithm (the prefix/suffix loop, infixes,
URL match, exceptions, and the re-merge of exceptions split by the affix rules, like
``great:)`` -> ``great :)``) with spaCy's English rules and exceptions (spaCy is MIT-licensed,
(c) ExplosionAI GmbH). fastai lowercases before spaCy sees the text, so only the lowercase
exceptions can match and the letter classes need only be right on lowercase text; that is what
is kept here.

Why it is fast: the string rules are a few regexes and replaces in C; everything after them
depends only on each whitespace-separated run of characters (``Hello,``) and is computed once
per distinct run (case rules, lowercase, spaCy's algorithm) and kept in a dict (at most
100,000 runs). Most runs in a corpus are repeats, so most of a text is dict look-ups. The rare
texts where spaCy's re-merge could depend on neighbouring runs take a slower path.

Checked against fastai's rules around spaCy 3.8: every case of
``tests/fixtures/tokens_reference.json`` (reviews and harder inputs), and, while it was written,
hundreds of thousands of random texts (word, punctuation, emoticon and Unicode soups): no
difference known. Things that may surprise, all as fastai does them:

- whitespace other than single spaces makes tokens: ``<br /><br />`` becomes the token
  ``"\\n\\n"``. No token is empty or holds a plain space (``replace_space``); these whitespace
  tokens are the only ones with whitespace in them;
- ``replace_rep`` and ``replace_wrep`` fire from 3 repeats (``!!!`` -> ``xxrep 3 !``), not 4 as
  fastai's docstrings say: their regexes decide;
- case rules see whitespace-separated runs: ``(The`` gets no ``xxmaj``, ``I'm`` gets one
  (``xxmaj i 'm``), a lone ``I`` does not; ``Word word word`` is not a word repeat (``\\1`` is
  case-sensitive).
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Iterable
from itertools import chain
from operator import eq

__all__ = ["UNK", "PAD", "BOS", "EOS", "FLD", "TK_REP", "TK_WREP", "TK_UP", "TK_MAJ", "SPECIAL_TOKENS",
           "tokenize", "tokenize_many", "detokenize"]

# fastai's special tokens, in fastai's order (the vocab puts them first, in this order).
UNK, PAD, BOS, EOS, FLD, TK_REP, TK_WREP, TK_UP, TK_MAJ = (
    "xxunk xxpad xxbos xxeos xxfld xxrep xxwrep xxup xxmaj".split())
SPECIAL_TOKENS = [UNK, PAD, BOS, EOS, FLD, TK_REP, TK_WREP, TK_UP, TK_MAJ]


# --- 1. fastai's rules on the raw string ------------------------------------------------------

def fix_html(text: str) -> str:
    """fastai's fix_html: the HTML leftovers of scraped reviews (``<br />``, ``&amp;`` ...)."""
    # Every string replaced below has one of these in it; most texts have none, or only "...".
    if not (";" in text or "<" in text or "\\" in text or "@" in text or ".." in text or "&" in text):
        return text
    text = (text.replace("#39;", "'").replace("amp;", "&").replace("#146;", "'").replace("nbsp;", " ")
            .replace("#36;", "$").replace("\\n", "\n").replace("quot;", "'").replace("<br />", "\n")
            .replace('\\"', '"').replace("<unk>", UNK).replace(" @.@ ", ".").replace(" @-@ ", "-")
            .replace("...", " …"))
    if "&" not in text:
        return text
    import html  # here, not at the top: it costs ~4 ms to import, and most texts have no "&"

    return html.unescape(text)


_REP = re.compile(r"(\S)(\1{2,})")


def _rep(match: re.Match) -> str:
    char, more = match.groups()
    return f" {TK_REP} {len(more) + 1} {char} "


def replace_rep(text: str) -> str:
    """fastai's replace_rep: a non-space character 3+ times in a row -> `` xxrep N c ``."""
    return _REP.sub(_rep, text)


_WREP = re.compile(r"(?:\s|^)(\w+)\s+((?:\1\s+)+)\1(\s|\W|$)")
_WORD = re.compile(r"\w+")


def _wrep(match: re.Match) -> str:
    word, middle, end = match.groups()
    return f" {TK_WREP} {len(middle.split()) + 2} {word} {end}"


def replace_wrep(text: str) -> str:
    """fastai's replace_wrep: a word 3+ times in a row -> `` xxwrep N word ``."""
    # The regex backtracks at every space, so it is the slowest rule. It can only match a word
    # that makes up two whitespace-separated runs in a row and starts the third: cheap to rule out.
    runs = text.split()
    same = list(map(eq, runs, runs[1:]))
    if not any(same):
        return text
    for i, is_same in enumerate(same[:-1]):
        if is_same and runs[i + 2].startswith(runs[i]) and _WORD.fullmatch(runs[i]):
            return _WREP.sub(_wrep, text)
    return text


_SPEC = re.compile(r"([/#\\])")


def spec_add_spaces(text: str) -> str:
    """fastai's spec_add_spaces: spaces around ``/``, ``#`` and ``\\``."""
    if "/" in text or "#" in text or "\\" in text:
        return _SPEC.sub(r" \1 ", text)
    return text


_SPACES = re.compile(" {2,}")


def rm_useless_spaces(text: str) -> str:
    """fastai's rm_useless_spaces: runs of spaces -> one space (other whitespace is kept)."""
    return _SPACES.sub(" ", text) if "  " in text else text


def _pre_rules(text: str) -> str:
    return rm_useless_spaces(spec_add_spaces(replace_wrep(replace_rep(fix_html(text)))))


# fastai's replace_all_caps, replace_maj and lowercase work on whitespace-separated runs (their
# regexes are anchored on \s|^ and \s|$), so here they are applied to one run at a time.
_ALL_CAPS = re.compile(r"[A-Z]+[^a-z\s]*")  # fullmatch on a run: "ALLCAPS", "I'M", "U.S."
_MAJ = re.compile(r"[A-Z][^A-Z\s]*")        # fullmatch on a run: "Capital", "Don't"


# --- 2. spaCy's English word tokenizer ----------------------------------------------------------
#
# Character classes, as spaCy's lang/char_classes.py defines them (regex escapes, for use in [...]).
# Letters are split into cased scripts (Latin, Greek, Cyrillic ...) and scripts without case
# (Hebrew, Arabic, Indic, CJK, Hangul ...). On lowercased text, spaCy's ALPHA_LOWER is every letter
# here but two (U+01BB and the unassigned U+03A2), and its ALPHA_UPPER is the uncased scripts
# plus U+03A2: the only text these classes ever see is lowercased.

_CASED_LETTERS = (
    r"\u0041-\u005A\u0061-\u007A\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BF\u01C4-\u02AF\u0386"
    r"\u0388-\u038A\u038C\u038E\u038F\u0391-\u03A9\u03AC-\u03AF\u03B1-\u03C9\u03CC-\u03CE"
    r"\u0400\u0401\u0403-\u040A\u040C\u040D\u0410-\u0451\u0453-\u045A\u045C\u045D\u0490\u0491"
    r"\u0496\u0497\u04A2\u04A3\u04AE\u04AF\u04BA\u04BB\u04D8\u04D9\u04E8\u04E9\u1D00-\u1D25"
    r"\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1EFF\u2C60-\u2C7B\u2C7E\u2C7F\uA722-\uA76F"
    r"\uA771-\uA787\uA78B-\uA78E\uA790-\uA7B9\uA7FA\uAB30-\uAB5A\uAB60-\uAB64\uFF21-\uFF3A"
    r"\uFF41-\uFF5A"
)
_UNCASED_LETTERS = (
    r"\u0591-\u05F4\u0620-\u064A\u066E-\u06D5\u06E5-\u06FF\u0750-\u077F\u08A0-\u08BD"
    r"\u0900-\u09FF\u0B80-\u0CFF\u0D80-\u0DFF\u1100-\u137F\u2E80-\u2FDF\u2FF0-\u30FF"
    r"\u31C0-\u31EF\u3200-\u4DBF\u4E00-\u9FFF\uAC00-\uD7AF\uF900-\uFAFF\uFB1D-\uFBB1"
    r"\uFBD3-\uFD3D\uFD50-\uFDC7\uFDF0-\uFDFB\uFE30-\uFE4F\uFE70-\uFEFC\U0001EE00-\U0001EEBB"
    r"\U0001F200-\U0001F2FF\U00020000-\U0002A6DF\U0002A700-\U0002EBEF\U0002F800-\U0002FA1F"
)
_ICONS = (  # symbols and emoji (Unicode's So category, as spaCy lists it)
    r"\u00A6\u00A9\u00AE\u00B0\u0482\u058D\u058E\u060E\u060F\u06DE\u06E9\u06FD\u06FE\u07F6"
    r"\u09FA\u0B70\u0BF3-\u0BF8\u0BFA\u0C7F\u0D4F\u0D79\u0F01-\u0F03\u0F13\u0F15-\u0F17"
    r"\u0F1A-\u0F1F\u0F34\u0F36\u0F38\u0FBE-\u0FC5\u0FC7-\u0FCC\u0FCE\u0FCF\u0FD5-\u0FD8"
    r"\u109E\u109F\u1390-\u1399\u1940\u19DE-\u19FF\u1B61-\u1B6A\u1B74-\u1B7C\u2100\u2101"
    r"\u2103-\u2106\u2108\u2109\u2114\u2116\u2117\u211E-\u2123\u2125\u2127\u2129\u212E"
    r"\u213A\u213B\u214A\u214C\u214D\u214F\u218A\u218B\u2195-\u2199\u219C-\u219F\u21A1\u21A2"
    r"\u21A4\u21A5\u21A7-\u21AD\u21AF-\u21CD\u21D0\u21D1\u21D3\u21D5-\u21F3\u2300-\u2307"
    r"\u230C-\u231F\u2322-\u2328\u232B-\u237B\u237D-\u239A\u23B4-\u23DB\u23E2-\u2426"
    r"\u2440-\u244A\u249C-\u24E9\u2500-\u25B6\u25B8-\u25C0\u25C2-\u25F7\u2600-\u266E"
    r"\u2670-\u2767\u2794-\u27BF\u2800-\u28FF\u2B00-\u2B2F\u2B45\u2B46\u2B4D-\u2B73"
    r"\u2B76-\u2B95\u2B98-\u2BC8\u2BCA-\u2BFE\u2CE5-\u2CEA\u2E80-\u2E99\u2E9B-\u2EF3"
    r"\u2F00-\u2FD5\u2FF0-\u2FFB\u3004\u3012\u3013\u3020\u3036\u3037\u303E\u303F\u3190\u3191"
    r"\u3196-\u319F\u31C0-\u31E3\u3200-\u321E\u322A-\u3247\u3250\u3260-\u327F\u328A-\u32B0"
    r"\u32C0-\u32FE\u3300-\u33FF\u4DC0-\u4DFF\uA490-\uA4C6\uA828-\uA82B\uA836\uA837\uA839"
    r"\uAA77-\uAA79\uFDFD\uFFE4\uFFE8\uFFED\uFFEE\uFFFC\uFFFD\U00010137-\U0001013F"
    r"\U00010179-\U00010189\U0001018C-\U0001018E\U00010190-\U0001019B\U000101A0"
    r"\U000101D0-\U000101FC\U00010877\U00010878\U00010AC8\U0001173F\U00016B3C-\U00016B3F"
    r"\U00016B45\U0001BC9C\U0001D000-\U0001D0F5\U0001D100-\U0001D126\U0001D129-\U0001D164"
    r"\U0001D16A-\U0001D16C\U0001D183\U0001D184\U0001D18C-\U0001D1A9\U0001D1AE-\U0001D1E8"
    r"\U0001D200-\U0001D241\U0001D245\U0001D300-\U0001D356\U0001D800-\U0001D9FF"
    r"\U0001DA37-\U0001DA3A\U0001DA6D-\U0001DA74\U0001DA76-\U0001DA83\U0001DA85\U0001DA86"
    r"\U0001ECAC\U0001F000-\U0001F02B\U0001F030-\U0001F093\U0001F0A0-\U0001F0AE"
    r"\U0001F0B1-\U0001F0BF\U0001F0C1-\U0001F0CF\U0001F0D1-\U0001F0F5\U0001F110-\U0001F16B"
    r"\U0001F170-\U0001F1AC\U0001F1E6-\U0001F202\U0001F210-\U0001F23B\U0001F240-\U0001F248"
    r"\U0001F250\U0001F251\U0001F260-\U0001F265\U0001F300-\U0001F3FA\U0001F400-\U0001F6D4"
    r"\U0001F6E0-\U0001F6EC\U0001F6F0-\U0001F6F9\U0001F700-\U0001F773\U0001F780-\U0001F7D8"
    r"\U0001F800-\U0001F80B\U0001F810-\U0001F847\U0001F850-\U0001F859\U0001F860-\U0001F887"
    r"\U0001F890-\U0001F8AD\U0001F900-\U0001F90B\U0001F910-\U0001F93E\U0001F940-\U0001F970"
    r"\U0001F973-\U0001F976\U0001F97A\U0001F97C-\U0001F9A2\U0001F9B0-\U0001F9B9"
    r"\U0001F9C0-\U0001F9C2\U0001F9D0-\U0001F9FF\U0001FA60-\U0001FA6D"
)
_ALPHA = _CASED_LETTERS + _UNCASED_LETTERS
_ALPHA_LOWER = (_ALPHA.replace(r"\u00F8-\u01BF", r"\u00F8-\u01BA\u01BC-\u01BF")
                .replace(r"\u0391-\u03A9", r"\u0391-\u03A1\u03A3-\u03A9"))
_ALPHA_UPPER = r"\u03A2" + _UNCASED_LETTERS

# spaCy's punctuation lists (space-separated regex pieces; \uXXXX are regex escapes).
_PUNCT_LIST = (r"\u2026 \u2026\u2026 , : ; \! \? \u00BF \u061F \u00A1 \( \) \[ \] \{ \} < > _ # \* & \u3002"
               r" \uFF1F \uFF01 \uFF0C \u3001 \uFF1B \uFF1A \uFF5E \u00B7 \u0964 \u060C \u06D4 \u061B \u066A"
               ).split()
_QUOTES_LIST = (r"""\' " \u201D \u201C ` \u2018 \u00B4 \u2019 \u201A , \u201E \u00BB \u00AB \u300C \u300D"""
                r" \u300E \u300F \uFF08 \uFF09 \u3014 \u3015 \u3010 \u3011 \u300A \u300B \u3008 \u3009"
                r" \u2329 \u232A \u27E6 \u27E7").split()
_CURRENCY_LIST = (r"\$ \u00A3 \u20AC \u00A5 \u0E3F US\$ C\$ A\$ \u20BD \uFDFC \u20B4 \u20A0 \u20A1 \u20A2"
                  r" \u20A3 \u20A4 \u20A5 \u20A6 \u20A7 \u20A8 \u20A9 \u20AA \u20AB \u20AC \u20AD \u20AE"
                  r" \u20AF \u20B0 \u20B1 \u20B2 \u20B3 \u20B4 \u20B5 \u20B6 \u20B7 \u20B8 \u20B9 \u20BA"
                  r" \u20BB \u20BC \u20BD \u20BE \u20BF").split()
_UNITS_LIST = (  # "\u0442\u0431\u0643\u0645" is one piece in spaCy too (a missing space); kept as it is
    r"km km\u00B2 km\u00B3 m m\u00B2 m\u00B3 dm dm\u00B2 dm\u00B3 cm cm\u00B2 cm\u00B3 mm mm\u00B2 mm\u00B3"
    r" ha \u00B5m nm yd in ft kg g mg \u00B5g t lb oz m/s km/h kmh mph hPa Pa mbar mb MB kb KB gb GB"
    r" tb TB T G M K % \u043A\u043C \u043A\u043C\u00B2 \u043A\u043C\u00B3 \u043C \u043C\u00B2 \u043C\u00B3"
    r" \u0434\u043C \u0434\u043C\u00B2 \u0434\u043C\u00B3 \u0441\u043C \u0441\u043C\u00B2 \u0441\u043C\u00B3"
    r" \u043C\u043C \u043C\u043C\u00B2 \u043C\u043C\u00B3 \u043D\u043C \u043A\u0433 \u0433 \u043C\u0433"
    r" \u043C/\u0441 \u043A\u043C/\u0447 \u043A\u041F\u0430 \u041F\u0430 \u043C\u0431\u0430\u0440"
    r" \u041A\u0431 \u041A\u0411 \u043A\u0431 \u041C\u0431 \u041C\u0411 \u043C\u0431 \u0413\u0431"
    r" \u0413\u0411 \u0433\u0431 \u0422\u0431 \u0422\u0411 \u0442\u0431\u0643\u0645 \u0643\u0645\u00B2"
    r" \u0643\u0645\u00B3 \u0645 \u0645\u00B2 \u0645\u00B3 \u0633\u0645 \u0633\u0645\u00B2 \u0633\u0645\u00B3"
    r" \u0645\u0645 \u0645\u0645\u00B2 \u0645\u0645\u00B3 \u0643\u0645 \u063A\u0631\u0627\u0645"
    r" \u062C\u0631\u0627\u0645 \u062C\u0645 \u0643\u063A \u0645\u0644\u063A \u0643\u0648\u0628"
    r" \u0627\u0643\u0648\u0627\u0628").split()
_HYPHENS_LIST = r"- \u2013 \u2014 -- --- \u2014\u2014 ~".split()
_ELLIPSES_LIST = [r"\.\.+", r"\u2026"]
_ICONS_LIST = [f"[{_ICONS}]"]

_QUOTES = "".join(_QUOTES_LIST)  # spaCy's CONCAT_QUOTES, for [...]
_PUNCT = "|".join(_PUNCT_LIST)   # spaCy's PUNCT; one suffix puts it inside [...], "|" and all
_CURRENCY = "|".join(_CURRENCY_LIST)
_UNITS = "|".join(_UNITS_LIST)
_HYPHENS = "|".join(_HYPHENS_LIST)

_PREFIXES = ([r"\u00A7", "%", "=", r"\u2014", r"\u2013", r"\+(?![0-9])"] + _PUNCT_LIST + _ELLIPSES_LIST
             + _QUOTES_LIST + _CURRENCY_LIST + _ICONS_LIST)
_SUFFIXES = (_PUNCT_LIST + _ELLIPSES_LIST + _QUOTES_LIST + _ICONS_LIST
             + ["'s", "'S", r"\u2019s", r"\u2019S", r"\u2014", r"\u2013"] + [
                 r"(?<=[0-9])\+",
                 r"(?<=\u00B0[FfCcKk])\.",
                 rf"(?<=[0-9])(?:{_CURRENCY})",
                 rf"(?<=[0-9])(?:{_UNITS})",
                 # spaCy writes "(?:quotes)" inside the [...]: "(", "?", ":" and ")" are in the class
                 rf"(?<=[0-9{_ALPHA_LOWER}%\u00B2\-\+{_PUNCT}(?:{_QUOTES})])\.",
                 rf"(?<=[{_ALPHA_UPPER}][{_ALPHA_UPPER}])\.",
             ])
_INFIXES = _ELLIPSES_LIST + _ICONS_LIST + [  # English's own list
    r"(?<=[0-9])[+\-\*^](?=[0-9-])",
    rf"(?<=[{_ALPHA_LOWER}{_QUOTES}])\.(?=[{_ALPHA_UPPER}{_QUOTES}])",
    rf"(?<=[{_ALPHA}]),(?=[{_ALPHA}])",
    rf"(?<=[{_ALPHA}0-9])(?:{_HYPHENS})(?=[{_ALPHA}])",
    rf"(?<=[{_ALPHA}0-9])[:<>=/](?=[{_ALPHA}])",
]

# spaCy's URL_MATCH (from Diego Perini's URL regex, MIT), with its ALPHA_LOWER for the TLD.
_URL_PATTERN = (
    r"(?u)^"
    r"(?:(?:[\w\+\-\.]{2,})://)?"                      # scheme
    r"(?:\S+(?::\S*)?@)?"                              # user:pass@
    r"(?:"
    r"(?!(?:10|127)(?:\.\d{1,3}){3})"                  # no private or local IP addresses
    r"(?!(?:169\.254|192\.168)(?:\.\d{1,3}){2})"
    r"(?!172\.(?:1[6-9]|2\d|3[0-1])(?:\.\d{1,3}){2})"
    r"(?:[1-9]\d?|1\d\d|2[01]\d|22[0-3])"              # IP address
    r"(?:\.(?:1?\d{1,2}|2[0-4]\d|25[0-5])){2}"
    r"(?:\.(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-4]))"
    r"|"
    r"(?:(?:[A-Za-z0-9\u00a1-\uffff][A-Za-z0-9\u00a1-\uffff_-]{0,62})?[A-Za-z0-9\u00a1-\uffff]\.)+"  # host
    rf"(?:[{_ALPHA_LOWER}]{{2,63}})"                   # top-level domain
    r")"
    r"(?::\d{2,5})?"                                   # port
    r"(?:[/?#]\S*)?"                                   # path
    r"$"
)


@functools.lru_cache(maxsize=None)
def _compiled():
    """spaCy's compile_prefix_regex, compile_suffix_regex, compile_infix_regex and URL_MATCH.

    Compiled on first use, not on import: the big letter classes take ~40 ms to compile. The order
    of the alternatives matters (at the leftmost place that matches, the first alternative wins)."""
    prefix_search = re.compile("|".join("^" + piece for piece in _PREFIXES)).search
    suffix_search = re.compile("|".join(piece + "$" for piece in _SUFFIXES)).search
    infix_finditer = re.compile("|".join(_INFIXES)).finditer
    return prefix_search, suffix_search, infix_finditer, re.compile(_URL_PATTERN).match


# spaCy's English tokenizer exceptions that can match lowercased text: the string -> its tokens.
# (spaCy also has the Capitalised and a few UPPER forms; fastai lowercases first, so they never match.)

_EMOTICONS = r"""
(*_*) (-8 (-: (-; (-_-) (._.) (: (; (= (>_<) (^_^) (o: (¬_¬) (ಠ_ಠ) (╯°□°）╯︵┻━┻ )-: ): -_- -__- ._. 0.0
0.o 0_0 0_o 8) 8-) :'( :') :'-( :'-) :( :(( :((( :() :) :)) :))) :* :-( :-(( :-((( :-) :-)) :-))) :-* :-/
:-0 :-3 :-> :-] :-o :-p :-x :-| :-} :/ :0 :1 :3 :> :] :o :o) :p :x :| :} ;) ;-) ;_; <.< </3 <3 <33 <333 =(
=) =/ =3 =[ =] =| >.< >.> >:( >:o ><(((*> @_@ [-: [: [= ]= ^_^ ^__^ ^___^ o.0 o.o o_0 o_o v.v v_v ¯\(ツ)/¯
ಠ_ಠ ಠ︵ಠ
""".split()

# Single-token exceptions besides the emoticons: clipped words, abbreviations, "a." ... "z.".
_SINGLE_TOKENS = (
    "' '' <space> \\\") \\t \\n \u2014 's \u2018s 're 'd and/or w/o 'cause 'cos 'coz 'cuz 'bout ma'am o'clock "
    "lovin' lovin havin' havin doin' doin goin' goin nothin nothin' nuthin nuthin' ol ol' somethin somethin' "
    "em 'em ll 'll nuff 'nuff a.m. p.m. co. e.g. i.e. vs. v.s. "
    + " ".join(f"{letter}." for letter in "abcdefghijklmnopqrstuvwxyzäöü")
).split() + [" ", "\t", "\n", "\u00a0"]

# Words spaCy does not split although they look like a contraction without its apostrophe.
_NOT_CONTRACTIONS = {"ill", "its", "hell", "shell", "shed", "were", "well", "whore"}


def _english_exceptions() -> dict[str, tuple[str, ...]]:
    """Build the lowercase part of spaCy's English exceptions the way spaCy builds them."""
    exc: dict[str, tuple[str, ...]] = {}

    def add(*pieces: str) -> None:
        exc["".join(pieces)] = pieces

    add("i", "'m"), add("i", "m"), add("i", "'m", "a"), add("i", "m", "a")
    for pron in ("i", "you", "he", "she", "it", "we", "they"):
        add(pron, "'ll"), add(pron, "ll"), add(pron, "'ll", "'ve"), add(pron, "ll", "ve")
        add(pron, "'d"), add(pron, "d"), add(pron, "'d", "'ve"), add(pron, "d", "ve")
    for pron in ("i", "you", "we", "they"):
        add(pron, "'ve"), add(pron, "ve")
    for pron in ("you", "we", "they"):
        add(pron, "'re"), add(pron, "re")
    for pron in ("he", "she", "it"):
        add(pron, "'s"), add(pron, "s")
    for word in ("who", "what", "when", "where", "why", "how", "there", "that", "this", "these", "those"):
        if word not in ("these", "those"):  # plural: no 's
            add(word, "'s"), add(word, "s")
        add(word, "'ll"), add(word, "ll"), add(word, "'ll", "'ve"), add(word, "ll", "ve")
        if word not in ("that", "this"):  # singular: no 're, 've
            add(word, "'re"), add(word, "re"), add(word, "'ve"), add(word, "ve")
        add(word, "'d"), add(word, "d"), add(word, "'d", "'ve"), add(word, "d", "ve")
    for verb in ("ca", "could", "do", "does", "did", "had", "may", "might", "must", "need", "ought", "sha",
                 "should", "wo", "would"):
        add(verb, "n't"), add(verb, "nt"), add(verb, "n't", "'ve"), add(verb, "nt", "ve")
    for verb in ("could", "might", "must", "should", "would"):
        add(verb, "'ve"), add(verb, "ve")
    for verb in ("ai", "are", "is", "was", "were", "have", "has", "dare"):
        add(verb, "n't"), add(verb, "nt")
    for hour in range(1, 13):
        for period in ("a.m.", "am", "p.m.", "pm"):
            add(str(hour), period)
    for pieces in (("y'", "all"), ("y", "all"), ("how", "'d", "'y"), ("not", "'ve"), ("not", "ve"),
                   ("can", "not"), ("gon", "na"), ("got", "ta"), ("let", "'s"), ("c'm", "on")):
        add(*pieces)
    for word in _SINGLE_TOKENS + _EMOTICONS:
        add(word)
    for unit in "cfk":
        add("\u00b0", unit, ".")
    for word in _NOT_CONTRACTIONS:
        exc.pop(word, None)
    # Every exception with a straight apostrophe also exists with a curly one (spaCy's expand_exc).
    for string, pieces in list(exc.items()):
        if "'" in string:
            exc[string.replace("'", "\u2019")] = tuple(p.replace("'", "\u2019") for p in pieces)
    for token in SPECIAL_TOKENS:  # fastai adds its special tokens as exceptions
        exc[token] = (token,)
    return exc


_EXCEPTIONS = _english_exceptions()


def _split_affixes(string: str, exceptions: dict | None) -> tuple[list[str], str, list[str]]:
    """spaCy's Tokenizer._split_affixes: peel prefixes and suffixes until nothing changes.

    Returns (prefixes, what is left, suffixes in the order they were peeled: last one first).
    `exceptions` None is spaCy's with_special_cases=False."""
    prefix_search, suffix_search, _, _ = _compiled()
    prefixes: list[str] = []
    suffixes: list[str] = []
    last_size = 0
    while string and len(string) != last_size:
        if exceptions is not None and string in exceptions:
            break
        last_size = len(string)
        match = prefix_search(string)
        pre_len = match.end() - match.start() if match else 0
        if pre_len:
            minus_pre = string[pre_len:]
            if minus_pre and exceptions is not None and minus_pre in exceptions:
                prefixes.append(string[:pre_len])
                string = minus_pre
                break
        match = suffix_search(string[pre_len:])
        suf_len = match.end() - match.start() if match else 0
        if suf_len:
            minus_suf = string[:-suf_len]
            if minus_suf and exceptions is not None and minus_suf in exceptions:
                suffixes.append(string[-suf_len:])
                string = minus_suf
                break
        if pre_len and suf_len and pre_len + suf_len <= len(string):
            prefixes.append(string[:pre_len])
            suffixes.append(string[-suf_len:])
            string = string[pre_len:-suf_len]
        elif pre_len:
            prefixes.append(string[:pre_len])
            string = string[pre_len:]
        elif suf_len:
            suffixes.append(string[-suf_len:])
            string = string[:-suf_len]
    return prefixes, string, suffixes


def _split_infixes(string: str, exceptions: dict | None) -> list[str]:
    """spaCy's Tokenizer._attach_tokens for what the affixes left: an exception, a URL, or infixes."""
    if not string:
        return []
    if exceptions is not None and string in exceptions:
        return list(exceptions[string])
    _, _, infix_finditer, url_match = _compiled()
    if url_match(string):
        return [string]
    pieces = []
    start = 0
    for match in infix_finditer(string):
        infix_start, infix_end = match.span()
        if infix_start == 0:  # spaCy ignores an infix at the very start
            continue
        if infix_start != start:
            pieces.append(string[start:infix_start])
        if infix_start != infix_end:
            pieces.append(string[infix_start:infix_end])
        start = infix_end
    if start < len(string):
        pieces.append(string[start:])
    return pieces


def _split_run(run: str, exceptions: dict | None) -> list[str]:
    """spaCy's tokens for one whitespace-free run, before exceptions are re-merged."""
    if exceptions is not None and run in exceptions:
        return list(exceptions[run])
    prefixes, middle, suffixes = _split_affixes(run, exceptions)
    suffixes.reverse()
    return prefixes + _split_infixes(middle, exceptions) + suffixes


# spaCy re-merges an exception that the affix rules split (``great:)`` -> great : ) -> great :)).
# It matches the tokens each exception gets without exceptions; those of two or more tokens can
# match. First token -> [(those tokens, exception, whether merging changes them)]; built on first
# use (a few milliseconds). Most matches change nothing (``it's`` is ``it 's`` either way).
_PATTERNS: dict[str, list[tuple[tuple[str, ...], str, bool]]] = {}


def _exception_patterns() -> dict[str, list[tuple[tuple[str, ...], str, bool]]]:
    if not _PATTERNS:
        for string, tokens in _EXCEPTIONS.items():
            if not string.isspace():
                pieces = tuple(_split_run(string, None))
                if len(pieces) > 1:
                    _PATTERNS.setdefault(pieces[0], []).append((pieces, string, pieces != tokens))
    return _PATTERNS


def _exception_matches(tokens: list[str]) -> list[tuple[int, int, str, bool]]:
    """(start, end, exception, changes) wherever the split tokens of an exception occur."""
    patterns = _exception_patterns()
    matches = []
    for start, token in enumerate(tokens):
        for pieces, string, changes in patterns.get(token, ()):
            end = start + len(pieces)
            if tuple(tokens[start:end]) == pieces:
                matches.append((start, end, string, changes))
    return matches


def _merge_exceptions(groups: list[list[str]]) -> list[str]:
    """spaCy's Tokenizer._apply_special_cases over a whole text.

    `groups` are the tokens of each whitespace-separated run (and the whitespace tokens). A match
    that spans two runs has a space in its text, so it is no exception and changes nothing; but
    spaCy still lets it take its tokens from the shorter or later matches that overlap it."""
    tokens = [token for group in groups for token in group]
    group_of = [g for g, group in enumerate(groups) for _ in group]
    matches = _exception_matches(tokens)
    matches.sort(key=lambda m: (m[0] - m[1], m[0]))  # longest first, then leftmost (spaCy's order)
    seen: set[int] = set()
    chosen: dict[int, tuple[int, str]] = {}
    for start, end, string, _ in matches:
        if start not in seen and end - 1 not in seen:  # spaCy only checks the two ends
            chosen[start] = (end, string)
        seen.update(range(start, end))
    merged: list[str] = []
    i = 0
    while i < len(tokens):
        end, string = chosen.get(i, (i, ""))
        if end > i and group_of[i] == group_of[end - 1]:
            merged.extend(_EXCEPTIONS[string])
            i = end
        else:
            merged.append(tokens[i])
            i += 1
    return merged


# Two shapes of run that most new runs have, and what spaCy's algorithm does with them, quicker:
# a plain word or number (no rule can split it), and a word with punctuation after it that
# spaCy peels off one character at a time ("well,", "end.", "me?!"; not "..", an ellipsis).
_PLAIN_WORD = re.compile(r"[a-z]+|[0-9]+")
_WORD_AND_PUNCT = re.compile(r"[a-z]+(?:[,!?;:)\"]|\.(?!\.))+")


def _word_pieces(run: str) -> list[str]:
    """spaCy's tokens for one lowercased, whitespace-free run, before exceptions are re-merged."""
    if _PLAIN_WORD.fullmatch(run):
        return list(_EXCEPTIONS.get(run, (run,)))
    if _WORD_AND_PUNCT.fullmatch(run):
        suffixes = []
        while run not in _EXCEPTIONS and not run[-1].isalpha():
            suffixes.append(run[-1])
            run = run[:-1]
        suffixes.reverse()
        return [*_EXCEPTIONS.get(run, (run,)), *suffixes]
    return _split_run(run, _EXCEPTIONS)


# --- the tokens of a run, cached ------------------------------------------------------------------

def _analyse_run(run: str) -> tuple[str | None, list[str]]:
    """fastai's case marker (xxup, xxmaj or None) and spaCy's tokens (before exceptions are
    re-merged) for one whitespace-free run of the text after the string rules."""
    marker = None
    if "A" <= run[0] <= "Z" and len(run) > 1:  # fastai leaves one-letter words ("I", "A") unmarked
        if _ALL_CAPS.fullmatch(run):
            marker = TK_UP
        elif _MAJ.fullmatch(run):
            marker = TK_MAJ
    return marker, _word_pieces(run.lower())


# Piece of text (a run, or the whitespace between two runs) -> its tokens, for all pieces whose
# tokens do not depend on the pieces around them: almost all. Bounded: when full it is emptied
# (the frequent pieces come back at once).
_CACHE: dict[str, tuple[str, ...]] = {}
_CACHE_MAX = 100_000
# Run -> (marker, tokens before the re-merge) for the rare runs where re-merging an exception
# changes the tokens (``great:)``). spaCy matches over the whole text, so a match across a space
# can stop it: texts with such a run take the slow path.
_MERGE_RUNS: dict[str, tuple[str | None, tuple[str, ...]]] = {}


def _piece_tokens(piece: str) -> tuple[str, ...] | None:
    """The tokens of a piece of text, cached; None for a run in _MERGE_RUNS."""
    tokens = _CACHE.get(piece)
    if tokens is not None or piece in _MERGE_RUNS:
        return tokens
    if piece[0].isspace():
        # spaCy: the first space of a whitespace run belongs to the token before it; the rest
        # (newlines, tabs, more spaces) is a token, with fastai's replace_space on it.
        rest = piece[1:] if piece[0] == " " else piece
        tokens = (rest.replace(" ", "\u2581"),) if rest else ()
    else:
        marker, pieces = _analyse_run(piece)
        if len(pieces) > 1 and any(changes for *_, changes in _exception_matches(pieces)):
            if len(_MERGE_RUNS) >= _CACHE_MAX:
                _MERGE_RUNS.clear()
            _MERGE_RUNS[piece] = (marker, tuple(pieces))
            return None
        tokens = (marker, *pieces) if marker else tuple(pieces)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[piece] = tokens
    return tokens


# Runs, and the whitespace between them unless it is a single space (which makes no token).
_PIECES = re.compile(r"\S+|(?! (?!\s))\s+")


def tokenize(text: str) -> list[str]:
    """The tokens fastai's default tokenizer gives `text`, starting with ``xxbos``.

    >>> tokenize("I didn't like it.<br />The ENDING was sooo bad!")  # doctest: +NORMALIZE_WHITESPACE
    ['xxbos', 'i', 'did', "n't", 'like', 'it', '.', '\\n', 'xxmaj', 'the', 'xxup', 'ending', 'was',
     's', 'xxrep', '3', 'o', 'bad', '!']
    """
    if not isinstance(text, str):
        raise TypeError(f"tokenize() takes a str, not {type(text).__name__}")
    body = _pre_rules(text).strip()  # fastai's lowercase() strips; the case rules happen per run
    if not body:
        return [BOS]
    # No whitespace but single spaces (the usual case): the runs are split(" ").
    pieces = body.split(" ") if body.isprintable() else _PIECES.findall(body)
    cached = list(map(_CACHE.get, pieces))  # most pieces are repeats: dict look-ups, in C
    if not all(cached):  # a new piece (None); every piece here has at least one token
        cached = [tokens or _piece_tokens(piece) for piece, tokens in zip(pieces, cached)]
        if not all(cached):
            return _tokenize_with_merges(pieces)
    return [BOS, *chain.from_iterable(cached)]


def _tokenize_with_merges(pieces: list[str]) -> list[str]:
    """tokenize for a text with a run in _MERGE_RUNS: spaCy's re-merge over the whole text."""
    groups: list[list[str]] = [[BOS]]  # the tokens of each of spaCy's whitespace-separated runs
    for piece in pieces:
        tokens = _piece_tokens(piece)
        if tokens is None:
            marker, tokens = _MERGE_RUNS[piece]
        elif tokens and tokens[0] in (TK_UP, TK_MAJ):
            marker, tokens = tokens[0], tokens[1:]
        else:
            marker = None
        if marker:  # fastai's "xxmaj " is a run of its own
            groups.append([marker])
        groups.append(list(tokens))
    return _merge_exceptions(groups)


# --- many texts ---------------------------------------------------------------------------------

# Below this many characters in all (about 180,000 tokens, a quarter of a second in one process)
# tokenize_many stays in this process: starting workers and sending texts costs about as much.
PARALLEL_MIN_CHARS = 1_000_000


def _tokenize_joined(texts: list[str]) -> list[str]:
    """Worker: tokens joined by spaces (tokens never hold a space), cheaper to send back."""
    return [" ".join(tokenize(text)) for text in texts]


def _pool_context():
    """How to start workers. "fork" is the cheapest (workers start with this process's cache), and
    it does not re-run the main script as spawn and forkserver do (which fails from a REPL or a
    pipe); but forking a process that has threads (the app has) can deadlock the child, and on
    macOS it is unsafe. Then: forkserver (Python 3.14's Linux default), or spawn."""
    import multiprocessing  # here, not at the top: it adds ~10 ms to every import of this module
    import threading

    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and threading.active_count() == 1 and "fork" in methods:
        return multiprocessing.get_context("fork")
    _start_resource_tracker()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def worker_pool(n_workers: int):
    """A pool of `n_workers` tokenizing processes (see _pool_context), whose workers die of
    SIGTERM and leave Ctrl-C to this process: a forked worker inherits this process's signal
    handlers, and a run process's SIGTERM handler (stop at the next batch) would make it ignore
    Pool.terminate(), so that a pool stopped early waited for its workers for ever."""
    return _pool_context().Pool(n_workers, initializer=_worker_signals)


def _worker_signals() -> None:
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _start_resource_tracker() -> None:
    """forkserver and spawn pools need multiprocessing's resource tracker, a process started with
    a copy of our stderr's file descriptor. Inside a Textual app sys.stderr is Textual's capture,
    whose fileno() is -1, and starting the tracker then fails ("bad value(s) in fds_to_keep").
    Start it once with the real stderr."""
    from multiprocessing import resource_tracker

    try:
        usable = sys.stderr is None or sys.stderr.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        usable = True  # no file descriptor at all: the tracker starts without one
    if usable:
        return
    captured = sys.stderr
    sys.stderr = sys.__stderr__  # for a moment: the tracker inherits the terminal's stderr
    try:
        resource_tracker.ensure_running()
    finally:
        sys.stderr = captured


def _in_a_daemon() -> bool:
    """A pool's worker process (a daemon) is not allowed to start processes of its own."""
    import multiprocessing

    return multiprocessing.current_process().daemon


def tokenize_many(texts: Iterable[str], n_workers: int | None = None,
                  chunk_size: int = 200, progress=None) -> list[list[str]]:
    """`tokenize` on each text, in order; a large corpus is spread over `n_workers` processes.

    n_workers: processes to use (default: every core); small inputs (under PARALLEL_MIN_CHARS
    characters in all) are done in this process whatever n_workers says.
    chunk_size: texts sent to a worker at a time.
    progress: called as progress(characters done, characters in all) after each chunk.
    (For a whole corpus to train on, l4tui.data.corpus keeps the tokens as int32 ids instead.)
    """
    texts = list(texts)
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"tokenize_many() takes str texts, not {type(text).__name__}")
    if n_workers is None:
        n_workers = os.cpu_count() or 1
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    chunks = [texts[i:i + chunk_size] for i in range(0, len(texts), chunk_size)]
    n_workers = min(n_workers, len(chunks))
    total = sum(map(len, texts))
    if n_workers <= 1 or total < PARALLEL_MIN_CHARS or _in_a_daemon():
        if progress is None:
            return [tokenize(text) for text in texts]
        return _gather(chunks, ([tokenize(text) for text in chunk] for chunk in chunks), total, progress)
    with worker_pool(n_workers) as pool:
        tokenized = ([joined.split(" ") for joined in chunk] for chunk in pool.imap(_tokenize_joined, chunks))
        return _gather(chunks, tokenized, total, progress)


def _gather(chunks: list[list[str]], tokenized, total: int, progress) -> list[list[str]]:
    """The tokens of each chunk, joined, with a progress call after each."""
    results: list[list[str]] = []
    done = 0
    for chunk, tokens in zip(chunks, tokenized):
        results += tokens
        done += sum(map(len, chunk))
        if progress is not None:
            progress(done, total)
    return results


# --- back to text -------------------------------------------------------------------------------

_DROPPED = {BOS, EOS, PAD, "xxfake"}
_NO_SPACE_BEFORE = set(". , ! ? ; : ) ] } ... % n't 's 'm 're 've 'll 'd n’t ’s ’m ’re ’ve ’ll ’d".split())
_NO_SPACE_AFTER = set("( [ { $ # £ € ¿ ¡".split())
_JOINERS = {"/", "-", "\\"}  # spaCy split them off the words around them; most likely no spaces
_GLUED_PAIRS = {("gon", "na"), ("got", "ta"), ("y'", "all"), ("y’", "all")}  # spaCy's splits of one word
_MAX_REPEAT = 10_000  # a crafted "xxrep 999999999 a" must not build a huge string


def _expand(tokens: list[str]) -> list[tuple[str, str | None]]:
    """Undo xxmaj/xxup/xxrep/xxwrep. Each word comes with how it was made: "up" (xxup), "rep"
    (xxrep) or None."""
    words: list[tuple[str, str | None]] = []
    i, n = 0, len(tokens)
    while i < n:
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < n else None
        if token in _DROPPED:
            i += 1
        elif token == TK_UP and following is not None:
            words.append((following.upper(), "up"))
            i += 2
        elif token == TK_MAJ and following is not None:
            words.append((following[:1].upper() + following[1:], None))
            i += 2
        elif token in (TK_REP, TK_WREP) and i + 2 < n and following.isdecimal():
            count, what = min(int(following), _MAX_REPEAT), tokens[i + 2]
            if token == TK_REP:
                words.append((what * count, "rep"))
            else:
                words.extend((what, None) for _ in range(count))
            i += 3
        elif token == "\u2026":  # fastai's fix_html made it from "..."
            words.append(("...", None))
            i += 1
        else:
            words.append((token.replace("\u2581", " "), None))
            i += 1
    return words


def detokenize(tokens: list[str]) -> str:
    """Readable text back from tokens: xxmaj/xxup/xxrep/xxwrep undone, xxbos/xxeos/xxpad dropped,
    spaces where English puts them. A guess, not the original text byte for byte: case inside
    words, and spaces around punctuation, quotes, hyphens and slashes, are lost by tokenizing."""
    out: list[str] = []
    previous, previous_kind = "", None
    glue_next = True  # no space before the first word
    open_quote = False
    for word, kind in _expand(tokens):
        if word.isspace():  # newlines (from <br />) stand for themselves
            out.append(word)
            previous, previous_kind, glue_next = word, None, True
            continue
        glue = (glue_next or word in _NO_SPACE_BEFORE or word in _JOINERS or previous in _JOINERS
                or (previous.lower(), word.lower()) in _GLUED_PAIRS)
        if kind == "rep" and previous[-1:].isalpha() and word[:1].isalpha():
            glue = True  # "s xxrep 4 o" was "soooo" (and "l xxrep 4 o ve" "loooove": we cannot tell)
        if len(word) == 1 and word.islower() and (word == "i" or not previous or previous[-1] in ".!?\n"):
            word = word.upper()  # fastai leaves "I" and a sentence's "A" unmarked
        if word == '"':
            glue = glue_next or open_quote  # a closing quote hugs the word before it ...
            open_quote = not open_quote
            glue_next = open_quote  # ... an opening quote the word after it
        else:
            glue_next = word in _NO_SPACE_AFTER
        if glue and previous_kind == "up" and kind is None:
            word, kind = word.upper(), "up"  # "xxup do n't" was "DON'T"
        if out and not glue:
            out.append(" ")
        out.append(word)
        previous, previous_kind = word, kind
    return "".join(out)
