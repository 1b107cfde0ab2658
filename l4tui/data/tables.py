"""Tables in the layouts of the lesson's adult census data, and the user's own CSVs.

- fastai's ADULT_SAMPLE `adult.csv`: a header line, categories with a leading space
  (" Private"), missing values as empty cells, the label `salary` (`>=50k` / `<50k`).
- UCI's `adult.data` / `adult.test`: no header, `?` for missing values; adult.test starts with a
  line `|1x3 Cross validator` and its labels end with a dot (`>50K.`).
- Any CSV with a header: the user names the label column (and may name the categorical and
  continuous ones; otherwise text columns are categorical and number columns continuous).
"""

from dataclasses import dataclass, field
from pathlib import Path

from l4tui.data.errors import DataError, header_text, sniff_text_file, unreadable
from l4tui.textcut import clip

ADULT_COLUMNS = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
                 "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week",
                 "native-country", "salary"]
# The lesson's choice of columns (fastai's tabular tutorial).
ADULT_CAT_NAMES = ["workclass", "education", "marital-status", "occupation", "relationship", "race"]
ADULT_CONT_NAMES = ["age", "fnlwgt", "education-num"]
ADULT_Y_NAME = "salary"


@dataclass
class TableDataset:
    source: Path
    format: str
    frame: object  # pandas.DataFrame
    cat_names: list[str] = field(default_factory=list)
    cont_names: list[str] = field(default_factory=list)
    y_name: str = ""
    first_row_line: int = 2  # the file's line of the row labelled 0 (after the header)

    def line_of(self, position: int) -> int:
        """The file's line (from 1) of the row at `position` (its label counts the rows read)."""
        return int(self.frame.index[position]) + self.first_row_line


def _read_csv(path, **kwargs):
    import pandas as pd

    try:
        return pd.read_csv(path, **kwargs)
    except UnicodeDecodeError as error:
        raise DataError(path, f"is not UTF-8 (byte {error.start})", "convert it: iconv -f latin1 -t utf-8") from None
    except pd.errors.ParserError as error:
        raise DataError(path, f"is not a well-formed CSV: {clip(str(error))}",
                        "every line needs as many cells as the header") from None
    except OSError as error:
        raise unreadable(path, error) from None
    except pd.errors.EmptyDataError:
        raise DataError(path, "is empty", "expected a CSV with a header line") from None


def _is_number_column(frame, column) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(frame[column])


def _strip_categories(frame, columns):
    """Categories lose the leading space the adult data writes before them."""
    for column in columns:
        if not _is_number_column(frame, column):
            frame[column] = frame[column].str.strip()


def load_adult_csv(path) -> TableDataset:
    """fastai's adult.csv (with a header)."""
    path = Path(path)
    sniff_text_file(path, "fastai's adult.csv")
    frame = _read_csv(path, skipinitialspace=False)
    missing = [c for c in ADULT_CAT_NAMES + ADULT_CONT_NAMES + [ADULT_Y_NAME] if c not in frame.columns]
    if missing:
        raise DataError(path, f"has no column {missing[0]!r} ({header_text(frame.columns)})",
                        "adult.csv's header starts age,workclass,fnlwgt,...,salary", line=1)
    _strip_categories(frame, list(frame.columns))
    return TableDataset(path, "adult.csv (fastai)", frame, list(ADULT_CAT_NAMES), list(ADULT_CONT_NAMES),
                        ADULT_Y_NAME)


def load_adult_uci(path) -> TableDataset:
    """UCI's headerless adult.data or adult.test."""
    import numpy as np

    path = Path(path)
    sniff_text_file(path, "UCI's adult.data or adult.test")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            first = f.readline(1000)
    except OSError as error:
        raise unreadable(path, error) from None
    skip = 1 if first.startswith("|") else 0  # adult.test's "|1x3 Cross validator"
    frame = _read_csv(path, header=None, names=ADULT_COLUMNS, skiprows=skip, skipinitialspace=True,
                      na_values=["?"], skip_blank_lines=True, comment="|")
    if frame.shape[1] != len(ADULT_COLUMNS) or frame["salary"].isna().all():
        raise DataError(path, f"does not have adult's {len(ADULT_COLUMNS)} comma-separated columns",
                        "adult.data lines look like: 39, State-gov, 77516, Bachelors, 13, ...")
    frame = frame.dropna(subset=["salary"])
    frame["salary"] = frame["salary"].str.rstrip(".")  # adult.test writes ">50K."
    bad_age = frame["age"].apply(lambda v: isinstance(v, str))
    if bad_age.any():
        line = int(np.argmax(bad_age.to_numpy())) + 1 + skip
        raise DataError(path, "age is not a number", "is this really adult.data?", line=line)
    _strip_categories(frame, ADULT_CAT_NAMES)
    return TableDataset(path, "adult.data (UCI, no header)", frame, list(ADULT_CAT_NAMES), list(ADULT_CONT_NAMES),
                        ADULT_Y_NAME, first_row_line=1 + skip)


def load_table_csv(path, y_name: str, cat_names=None, cont_names=None) -> TableDataset:
    """A CSV of the user's: name the label column; the other columns' kinds are guessed if not given."""
    path = Path(path)
    sniff_text_file(path, "a CSV with a header line")
    frame = _read_csv(path)
    columns = [str(c) for c in frame.columns]
    for name in [y_name, *(cat_names or []), *(cont_names or [])]:
        if name not in columns:
            raise DataError(path, f"has no column {clip(repr(name))} ({header_text(columns)})",
                            "name a column of the header", line=1)
    rest = [c for c in columns if c != y_name]
    if cat_names is None:
        cat_names = [c for c in rest if c not in (cont_names or []) and not _is_number_column(frame, c)]
    if cont_names is None:
        cont_names = [c for c in rest if c not in cat_names and _is_number_column(frame, c)]
    _strip_categories(frame, cat_names)
    return TableDataset(path, "CSV", frame, list(cat_names), list(cont_names), y_name)


BUNDLED_TABLE = "bundled-adult"  # what the Tabular screen shows when no run names a dataset


def open_table(data: str | None = None, y_name: str | None = None, cat_names=None, cont_names=None) -> TableDataset:
    """The one loader of a tabular dataset, used by the recipe and the screens alike: a bundled or
    downloaded dataset's name or a path (None: the bundled adult sample), in any layout
    sources.detect_format finds. Adult's layouts bring the lesson's columns; any other CSV needs
    its label column named. Columns named here replace the layout's choice."""
    from l4tui.data.sources import detect_format, resolve

    path = resolve(BUNDLED_TABLE if data is None else data)
    kind = detect_format(path)
    if kind == "adult-csv":
        table = load_adult_csv(path / "adult.csv" if path.is_dir() else path)
    elif kind == "adult-uci":
        table = load_adult_uci(path / "adult.data" if path.is_dir() else path)
    elif not y_name:
        sniff_text_file(path, "a CSV with a header line")  # a binary file is that first, not an odd CSV
        raise DataError(path, "is a CSV l4tui does not recognise", "name its label column with --y COLUMN")
    else:
        table = load_table_csv(path, y_name, cat_names, cont_names)
    if cat_names is not None:
        table.cat_names = list(cat_names)
    if cont_names is not None:
        table.cont_names = list(cont_names)
    return table
