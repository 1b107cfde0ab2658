"""fastai's tabular processing — FillMissing, Categorify, Normalize — fitted on the training rows only.

- FillMissing: a continuous column with missing values in training gets them filled with its
  training median, and a new categorical column `<name>_na` (True where the value was missing).
- Categorify: each categorical column's values become indices; index 0 is `#na#`, for missing
  values and for values never seen in training (so a model can always take a row).
- Normalize: continuous columns become (x - mean) / std, with the training mean and std.

Fitting takes the training rows as a stream of DataFrame chunks, in one pass, with bounded
memory: counts, sums and a fixed-size sample for the median (exact while a column has no more
values than the sample holds). `process_csv` then writes the processed arrays to .npy files, which
training can read memory-mapped: a CSV larger than memory is processed in bounded memory.
"""

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

NA = "#na#"
MEDIAN_SAMPLE = 100_000  # values kept per column to find its median


class _ContStats:
    """Running figures for one continuous column (non-missing values only)."""

    def __init__(self) -> None:
        self.count = self.missing = 0
        self.total = self.total_sq = 0.0
        self.sample = np.empty(MEDIAN_SAMPLE)  # a uniform random sample of the values seen
        self.kept = 0  # how much of `sample` is filled

    def add(self, values: np.ndarray, rng: np.random.Generator) -> None:
        present = values[~np.isnan(values)]
        self.missing += len(values) - len(present)
        # Reservoir sampling (algorithm R, vectorised per chunk): every value has the same chance.
        room = MEDIAN_SAMPLE - self.kept
        head, rest = present[:room], present[room:]
        self.sample[self.kept:self.kept + len(head)] = head
        self.kept += len(head)
        if len(rest):
            positions = self.count + len(head) + np.arange(len(rest))  # each value's index in the column
            slots = (rng.random(len(rest)) * (positions + 1)).astype(np.int64)
            keep = slots < MEDIAN_SAMPLE
            self.sample[slots[keep]] = rest[keep]
        self.count += len(present)
        self.total += float(present.sum())
        self.total_sq += float(np.square(present).sum())

    def median(self) -> float:
        return float(np.median(self.sample[:self.kept])) if self.kept else 0.0


@dataclass
class TabularProcessor:
    cat_names: list[str]
    cont_names: list[str]
    y_name: str = ""
    y_is_category: bool = True
    categories: dict[str, list[str]] = field(default_factory=dict)  # #na# first, then sorted
    na_names: list[str] = field(default_factory=list)  # continuous columns that get a `_na` column
    fill_values: dict[str, float] = field(default_factory=dict)
    means: dict[str, float] = field(default_factory=dict)
    stds: dict[str, float] = field(default_factory=dict)
    y_classes: list[str] = field(default_factory=list)
    n_fitted: int = 0

    # ---- fitting --------------------------------------------------------------------------

    def fit(self, chunks, seed: int = 0) -> "TabularProcessor":
        """Fit on an iterable of DataFrames holding the training rows, in one pass."""
        rng = np.random.default_rng(seed)
        seen = {name: set() for name in self.cat_names}
        stats = {name: _ContStats() for name in self.cont_names}
        labels: set[str] = set()
        for chunk in chunks:
            self.n_fitted += len(chunk)
            for name in self.cat_names:
                seen[name].update(_as_strings(chunk[name]).dropna().unique().tolist())
            for name in self.cont_names:
                stats[name].add(_as_floats(chunk[name]), rng)
            if self.y_name and self.y_is_category:
                labels.update(_as_strings(chunk[self.y_name]).dropna().unique().tolist())
        if self.n_fitted == 0:
            raise ValueError("no training rows to fit the processing on")
        self.categories = {name: [NA, *sorted(values)] for name, values in seen.items()}
        for name, s in stats.items():
            median = s.median()
            n = s.count + s.missing
            mean = (s.total + s.missing * median) / n
            variance = max((s.total_sq + s.missing * median ** 2) / n - mean ** 2, 0.0)
            self.fill_values[name] = median
            self.means[name], self.stds[name] = mean, math.sqrt(variance) + 1e-7
            if s.missing:
                self.na_names.append(name)
                self.categories[f"{name}_na"] = [NA, "False", "True"]
        self.y_classes = sorted(labels)
        return self

    # ---- applying ---------------------------------------------------------------------------

    @property
    def all_cat_names(self) -> list[str]:
        """The categorical columns the model sees: the original ones, then the `_na` indicators."""
        return self.cat_names + [f"{name}_na" for name in self.na_names]

    @property
    def cardinalities(self) -> list[int]:
        return [len(self.categories[name]) for name in self.all_cat_names]

    def transform(self, frame):
        """(x_cat int64 (n, n_cat), x_cont float32 (n, n_cont), y) for a DataFrame."""
        n = len(frame)
        x_cat = np.zeros((n, len(self.all_cat_names)), dtype=np.int64)
        for j, name in enumerate(self.cat_names):
            index = {value: i for i, value in enumerate(self.categories[name])}
            # unseen and missing values both map to 0, #na#
            x_cat[:, j] = _as_strings(frame[name]).map(index).fillna(0).to_numpy(dtype=np.int64)
        x_cont = np.zeros((n, len(self.cont_names)), dtype=np.float32)
        for j, name in enumerate(self.cont_names):
            values = _as_floats(frame[name])
            missing = np.isnan(values)
            values = np.where(missing, self.fill_values[name], values)
            x_cont[:, j] = (values - self.means[name]) / self.stds[name]
            if name in self.na_names:
                x_cat[:, len(self.cat_names) + self.na_names.index(name)] = np.where(missing, 2, 1)
        return x_cat, x_cont, self._transform_y(frame)

    def _transform_y(self, frame):
        if not self.y_name:
            return None
        if not self.y_is_category:
            return _as_floats(frame[self.y_name]).astype(np.float32)
        index = {label: i for i, label in enumerate(self.y_classes)}
        y = _as_strings(frame[self.y_name]).map(index)
        if y.isna().any():
            unknown = _as_strings(frame[self.y_name])[y.isna()].iloc[0]
            raise ValueError(f"label {unknown!r} of column {self.y_name!r} was not in the training rows "
                             f"(known: {', '.join(self.y_classes)})")
        return y.to_numpy(dtype=np.int64, copy=True)  # writable: torch.as_tensor warns on read-only arrays

    # ---- saving -------------------------------------------------------------------------------

    def save(self, path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path) -> "TabularProcessor":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError) as error:
            raise ValueError(f"{path}: not a saved tabular processor ({error})") from None


def _as_strings(series):
    """Category values as strings (numbers too, so 1 and "1" are one category); NaN stays NaN."""
    return series.where(series.isna(), series.astype(str).str.strip())


def _as_floats(series) -> np.ndarray:
    import pandas as pd

    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)


# ---- whole CSVs, in bounded memory ----------------------------------------------------------------

class NpyWriter:
    """Writes an .npy file block by block with plain file writes.

    A memory map would do the same, but every page written stays in the process's resident
    memory; plain writes leave them to the page cache, so memory stays bounded by the chunk size.
    """

    def __init__(self, path, dtype, shape):
        header = np.lib.format.open_memmap(path, "w+", dtype, shape)  # writes the header, sizes the file
        self.offset, self.dtype = header.offset, np.dtype(dtype)
        self.row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * self.dtype.itemsize
        del header
        self.file = open(path, "r+b")
        self.rows = 0

    def append(self, block: np.ndarray) -> None:
        self.file.seek(self.offset + self.rows * self.row_bytes)
        self.file.write(np.ascontiguousarray(block, dtype=self.dtype).tobytes())
        self.rows += len(block)

    def close(self) -> None:
        self.file.close()


def split_mask(n_rows: int, valid_pct: float, rng: np.random.Generator) -> np.ndarray:
    """True for the rows of a chunk that go to the validation set (random, seeded)."""
    return rng.random(n_rows) < valid_pct


def process_csv(path, out_dir, cat_names, cont_names, y_name, y_is_category=True, valid_pct=0.2,
                seed=42, chunksize=200_000, read_csv_kwargs=None) -> dict:
    """Fit on the training rows of a CSV and write the processed arrays as .npy files.

    Two passes over the file, chunk by chunk: the first fits the processing on the training rows,
    the second writes x_cat, x_cont and y for train and valid into .npy files, block by block.
    Peak memory is a few chunks and the median samples, whatever the size of the file.
    Returns a summary (rows, files written, cardinalities).
    """
    import pandas as pd

    kwargs = {"chunksize": chunksize, **(read_csv_kwargs or {})}
    processor = TabularProcessor(list(cat_names), list(cont_names), y_name, y_is_category)

    def training_chunks():
        rng = np.random.default_rng(seed)
        for chunk in pd.read_csv(path, **kwargs):
            yield chunk[~split_mask(len(chunk), valid_pct, rng)]

    processor.fit(training_chunks(), seed=seed)
    n_train = processor.n_fitted
    n_total = sum(len(chunk) for chunk in pd.read_csv(path, usecols=[y_name] if y_name else [0], **kwargs))
    sizes = {"train": n_train, "valid": n_total - n_train}

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_cat, n_cont = len(processor.all_cat_names), len(processor.cont_names)
    y_dtype = np.int64 if y_is_category else np.float32
    writers = {split: {"x_cat": NpyWriter(out_dir / f"{split}_x_cat.npy", np.int64, (n, n_cat)),
                       "x_cont": NpyWriter(out_dir / f"{split}_x_cont.npy", np.float32, (n, n_cont)),
                       "y": NpyWriter(out_dir / f"{split}_y.npy", y_dtype, (n,))}
               for split, n in sizes.items()}
    rng = np.random.default_rng(seed)
    for chunk in pd.read_csv(path, **kwargs):
        valid = split_mask(len(chunk), valid_pct, rng)  # the same draws as the first pass
        for split, rows in (("train", chunk[~valid]), ("valid", chunk[valid])):
            x_cat, x_cont, y = processor.transform(rows)
            writers[split]["x_cat"].append(x_cat)
            writers[split]["x_cont"].append(x_cont)
            writers[split]["y"].append(y)
    for split in writers.values():
        for writer in split.values():
            writer.close()
    processor.save(out_dir / "processor.json")
    return {"rows": sizes, "cardinalities": processor.cardinalities, "out_dir": str(out_dir),
            "cat_names": processor.all_cat_names, "cont_names": processor.cont_names}
