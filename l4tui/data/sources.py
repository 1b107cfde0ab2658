"""Where a dataset comes from and what it is: bundled names, paths, and format detection.

The loaders of each kind (ratings.py, tables.py, texts.py) find their data through `resolve`
and `detect_format`; what `l4tui data show` prints of a dataset is describe.py's.
"""

from pathlib import Path

from l4tui.data.errors import DataError
from l4tui.paths import datasets_dir

BUNDLED = {  # name -> (family, path inside datasets/); names unlike the downloads' (fastai's)
    "bundled-imdb": ("text", "imdb-sample/texts.csv"),
    "bundled-adult": ("tabular", "adult-sample/adult.csv"),
    "bundled-ml": ("collab", "ml-sample"),
}
FAMILIES = {"imdb": "text", "imdb_sample": "text", "adult_sample": "tabular", "ml_sample": "collab",
            "ml-100k": "collab"}
ADULT_UCI_NAMES = ("adult.data", "adult.test")
# Files that are plainly no dataset, by their suffix: named for what they are, not "a CSV l4tui does
# not recognise" (`l4tui data show main.py`).
NOT_DATA = {".py": "a Python file", ".pyi": "a Python stub file", ".ipynb": "a Jupyter notebook",
            ".md": "a Markdown file", ".toml": "a TOML file", ".yaml": "a YAML file", ".yml": "a YAML file",
            ".json": "a JSON file", ".pth": "a PyTorch file (weights?)", ".pt": "a PyTorch file (weights?)",
            ".pkl": "a pickle", ".zip": "an archive", ".tgz": "an archive", ".gz": "an archive",
            ".tar": "an archive", ".png": "an image", ".jpg": "an image", ".svg": "an image"}
ACCEPTED = "a dataset's name from `l4tui data list`, a CSV with a header line, u.data, or a dataset's folder"


def resolve(name_or_path) -> Path:
    """A bundled dataset's name, a downloaded dataset's name, or a path to a file or folder."""
    from l4tui.data.registry import DATASETS, cache_dir

    text = str(name_or_path)
    if text in BUNDLED:
        return datasets_dir() / BUNDLED[text][1]
    if text in DATASETS:
        folder = cache_dir() / DATASETS[text].folder
        if folder.is_dir():
            return folder
        raise DataError(folder, f"{text} is not downloaded yet", f"run: l4tui data get {text}")
    path = Path(text).expanduser()
    if path.exists():
        return path
    raise DataError(path, "no such file or folder, and no dataset of that name",
                    "`l4tui data list` shows the datasets by name")


def list_datasets() -> list[str]:
    """What `l4tui data list` prints: the bundled datasets, then the ones to download, then the
    pretrained models of the zoo."""
    from l4tui.data.registry import ALIASES, DATASETS, PRETRAINED, cache_dir

    lines = ["bundled (work offline):"]
    for name, (family, relative) in BUNDLED.items():
        lines.append(f"  {name:<14} {family:<8} {datasets_dir() / relative}")
    lines.append(f"to download (`l4tui data get NAME`, into {cache_dir()}):")
    for name, entry in DATASETS.items():
        folder = cache_dir() / entry.folder
        where = str(folder) if folder.is_dir() else "not downloaded"
        lines.append(f"  {name:<14} {FAMILIES.get(name, '?'):<8} {size_text(entry, folder):>10}  {where}")
        lines.append(f"  {'':<14} {entry.description}")
    lines.append(f"pretrained models (`l4tui data get NAME`, then `l4tui train lm --pretrained NAME`):")
    for name, entry in PRETRAINED.items():
        folder = cache_dir() / entry.folder
        where = str(folder) if folder.is_dir() else "not downloaded"
        alias = next((a for a, target in ALIASES.items() if target == name), "")
        lines.append(f"  {name:<14} {'lm':<8} {size_text(entry, folder):>10}  {where}")
        lines.append(f"  {'':<14} {entry.description}" + (f" (also called {alias})" if alias else ""))
    return lines


def size_text(entry, folder: Path) -> str:
    """The download's published size; when none is published (fastai's model zoo), what the
    downloaded folder takes on disk, or "size unknown" before it is downloaded."""
    if entry.size:
        return f"{entry.size / 2**20:,.1f} MiB"
    if folder.is_dir():
        try:
            on_disk = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
        except OSError:
            return "size unknown"
        return f"{on_disk / 2**20:,.1f} MiB"
    return "size unknown"


def detect_format(path: Path) -> str:
    """One of: movielens-100k, movielens-csv, imdb-folder, texts-csv, adult-csv, adult-uci, csv."""
    path = Path(path)
    if path.is_dir():
        for marker, kind in (("u.data", "movielens-100k"), ("ratings.csv", "movielens-csv"),
                             ("aclImdb", "imdb-folder"), ("train", "imdb-folder"),
                             ("texts.csv", "texts-csv"), ("adult.csv", "adult-csv"), ("adult.data", "adult-uci")):
            if (path / marker).exists():
                return kind
        raise DataError(path, "is a folder with no dataset l4tui knows",
                        "expected u.data, ratings.csv, an IMDB tree (train/, test/), texts.csv or adult.csv")
    what = NOT_DATA.get(path.suffix.lower())
    if what is not None:
        archive = " (unpack it first)" if what == "an archive" else ""
        raise DataError(path, f"is {what}, not a dataset{archive}", f"give {ACCEPTED}")
    if path.name == "u.data":
        return "movielens-100k"
    if path.name in ADULT_UCI_NAMES:
        return "adult-uci"
    header = _first_line(path)
    columns = [c.strip() for c in header.split(",")]
    if {"userId", "movieId", "rating"} <= set(columns):
        return "movielens-csv"
    if "text" in columns:
        return "texts-csv"
    if {"age", "workclass", "salary"} <= set(columns):
        return "adult-csv"
    if "\t" in header and len(header.split("\t")) == 4:
        return "movielens-100k"
    return "csv"


def _first_line(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.readline().strip()
    except OSError as error:
        raise DataError(path, f"can't be read: {error.strerror}", "check its permissions") from None
