"""Labelled texts in the layouts of the lesson's IMDB data.

- fastai's IMDB_SAMPLE: one CSV, `label,text,is_valid` (is_valid True/False).
- The aclImdb folder tree of the full IMDB dataset: train/{pos,neg,unsup} and test/{pos,neg},
  one review per `<id>_<rating>.txt` file. test is the validation set; unsup has no labels
  (used to fine-tune the language model only).
"""

import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

from l4tui.data.errors import DataError, header_text, sniff_text_file, unreadable
from l4tui.textcut import clip

UNLABELLED = ""  # the label of aclImdb's unsup reviews


@dataclass
class TextDataset:
    source: Path
    format: str
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # UNLABELLED for texts without one
    is_valid: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)


def load_texts_csv(path, text_col: str = "text", label_col: str = "label", valid_col: str = "is_valid") -> TextDataset:
    """fastai's texts.csv; or any CSV with a text column (label and is_valid are optional).

    Quotes are read strictly: a quote that is never closed would make the rest of the file one
    text, and text after a closing quote means the quoting is off; both are reported with the
    line where the row starts.
    """
    path = Path(path)
    sniff_text_file(path, "a CSV of texts with a header line (label,text,is_valid)")
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # reviews can be long
    dataset = TextDataset(source=path, format="texts CSV (label,text,is_valid)")
    line = 1
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f, strict=True)
            columns = reader.fieldnames or []
            if text_col not in columns:
                raise DataError(path, f"no column {text_col!r}; {header_text(columns)}",
                                "name the text column, or use fastai's header label,text,is_valid", line=1)
            line = reader.line_num + 1
            for row in reader:
                text = row.get(text_col)
                if text is None:
                    raise DataError(path, "the row has fewer cells than the header", "check the quoting", line=line)
                dataset.texts.append(text)
                dataset.labels.append((row.get(label_col) or UNLABELLED).strip())
                dataset.is_valid.append(_truthy(row.get(valid_col)))
                line = reader.line_num + 1
    except UnicodeDecodeError as error:
        raise DataError(path, f"is not UTF-8 (byte {error.start})", "convert it: iconv -f latin1 -t utf-8") from None
    except csv.Error as error:
        raise DataError(path, _quote_problem(str(error)), QUOTING, line=line) from None
    except OSError as error:
        raise unreadable(path, error) from None
    if not dataset.texts:
        raise DataError(path, "has a header but no rows", "add some texts")
    return dataset


QUOTING = 'a text with commas, quotes or line breaks goes in "...", its own quotes doubled ("")'


def _quote_problem(error: str) -> str:
    """The csv module's words, said as what is wrong with the row that starts on the line named."""
    if "unexpected end of data" in error:
        return "a quote opened in this row is never closed (the rest of the file would be one text)"
    if "expected after" in error:
        return "a quoted cell goes on after its closing quote"
    return f"is not a valid CSV: {clip(error)}"


def _truthy(value) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes")


def load_imdb_folder(path, include_unsup: bool = True) -> TextDataset:
    """The aclImdb tree: train/pos, train/neg (train/unsup or unsup), test/pos, test/neg."""
    root = Path(path)
    if (root / "aclImdb").is_dir() and not (root / "train").is_dir():
        root = root / "aclImdb"
    if not (root / "train").is_dir() or not (root / "test").is_dir():
        raise DataError(root, "is not an IMDB folder: it has no train/ and test/ folders",
                        "point at aclImdb/, which holds train/{pos,neg,unsup} and test/{pos,neg}")
    dataset = TextDataset(source=root, format="IMDB folder tree (aclImdb)")
    parts = [("train", "pos"), ("train", "neg"), ("test", "pos"), ("test", "neg")]
    if include_unsup:
        parts += [("train", "unsup"), (".", "unsup")]  # aclImdb keeps it in train/, fastai's imdb at the top
    found = 0
    for split, label in parts:
        folder = root / split / label
        if not folder.is_dir():
            continue
        for file in sorted(folder.glob("*.txt")):
            try:
                text = file.read_text(encoding="utf-8")
            except UnicodeDecodeError as error:
                raise DataError(file, f"is not UTF-8 (byte {error.start})", "re-extract the archive") from None
            except OSError as error:
                raise unreadable(file, error) from None
            dataset.texts.append(text)
            dataset.labels.append(UNLABELLED if label == "unsup" else label)
            dataset.is_valid.append(split == "test")
            found += 1
    if not found:
        raise DataError(root, "has train/ and test/ but no reviews in train/pos, train/neg, test/pos or test/neg",
                        "the reviews are .txt files in those folders")
    return dataset


BUNDLED_TEXTS = "bundled-imdb"  # what the Text screen shows when no run names a dataset


def open_texts(data: str | None = None) -> TextDataset:
    """The one loader of a text dataset, used by the recipes and the screens alike: a bundled or
    downloaded dataset's name or a path (None: the bundled IMDB sample). A folder with a
    texts.csv is read as that CSV, any other folder as an IMDB tree (aclImdb's train/ and test/),
    a file as a CSV with a `text` column."""
    from l4tui.data.sources import resolve

    path = resolve(BUNDLED_TEXTS if data is None else data)
    if path.is_dir() and not (path / "texts.csv").exists():
        return load_imdb_folder(path)
    return load_texts_csv(path / "texts.csv" if path.is_dir() else path)
