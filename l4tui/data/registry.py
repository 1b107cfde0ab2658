"""The datasets `l4tui` can download, and where downloads are kept.

Each entry says where the archive lives, what it should look like when it arrives (size and
checksum, where the publisher gives them) and which folder it unpacks to. A value we do not
know for sure is left as None and its check is skipped: a wrong checksum would refuse every
good download, so none is ever guessed.

Where the numbers come from:
- fastai's archives: fastai's own `download_checks.py` (and the older `checks.txt`), which
  records `(size in bytes, md5)` per URL. Note fastai's md5 covers only the *first MiB* of the
  file (fastdownload's `path_stats`: "md5 of its first megabyte"). For archives under 1 MiB
  that is the md5 of the whole file; for the big IMDB archive we record it as what it is
  ("md5-first-mib") rather than pretend it is a whole-file md5.
- MovieLens 100k: GroupLens's `ml-100k.zip.md5` next to the archive
  ("MD5 (ml-100k.zip) = 0e33842e24a9c977be4e0107933c0723"); its size 4,924,029 bytes agrees
  with fastai's record of the same file.
"""

import os
import posixpath
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

ARCHIVE_TYPES = ("tgz", "zip")  # "tgz" is any tar that tarfile can open: .tgz, .tar.gz, .tar
CHECKSUM_TYPES = ("md5", "sha256", "md5-first-mib")


class UnknownDatasetError(LookupError):
    """Asked for a dataset name that is not in the registry."""

    def __str__(self) -> str:  # LookupError would print the message with quotes around it
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Dataset:
    name: str  # what the user types; also names the partial download `.<name>.part`
    description: str
    url: str
    archive_type: str  # one of ARCHIVE_TYPES
    folder: str  # the folder the archive unpacks to, inside the data folder
    size: int | None = None  # bytes, when known
    checksum: str | None = None  # hex digest, when known
    checksum_type: str = "md5"  # one of CHECKSUM_TYPES
    kind: str = "dataset"  # or "pretrained": a model of the zoo, checked by its structure (data/zoo.py)

    @property
    def archive_name(self) -> str:
        """The archive's file name: the last part of its URL, so a file fetched by hand
        with a browser or curl already has the name `get_dataset` looks for."""
        from_url = posixpath.basename(urllib.parse.urlsplit(self.url).path)
        return from_url or f"{self.name}.{self.archive_type}"


DATASETS: dict[str, Dataset] = {
    entry.name: entry
    for entry in [
        Dataset(
            name="imdb",
            description="IMDB movie reviews: 25,000 labelled for training, 25,000 for testing "
            "(pos/neg folders) and 50,000 unlabelled — the lesson's text data (ULMFiT)",
            url="https://s3.amazonaws.com/fast-ai-nlp/imdb.tgz",
            archive_type="tgz",
            folder="imdb",
            size=144_440_600,  # fastai's record
            # fastai's md5 of the first MiB only (see the module docstring); no whole-file
            # checksum is published for this archive.
            checksum="90f9b1c4ff43a90d67553c9240dc0249",
            checksum_type="md5-first-mib",
        ),
        Dataset(
            name="imdb_sample",
            description="1,000 IMDB reviews in one CSV (texts.csv) — a quick text sample",
            url="https://s3.amazonaws.com/fast-ai-sample/imdb_sample.tgz",
            archive_type="tgz",
            folder="imdb_sample",
            size=571_827,  # fastai's record; under 1 MiB, so fastai's md5 is the whole file's
            checksum="0842e61a9867caa2e6fbdb14fa703d61",
        ),
        Dataset(
            name="adult_sample",
            description="Adult census income (adult.csv): predict salary >=50k from census "
            "columns — the lesson's tabular data",
            url="https://s3.amazonaws.com/fast-ai-sample/adult_sample.tgz",
            archive_type="tgz",
            folder="adult_sample",
            size=968_212,  # fastai's record; under 1 MiB, so fastai's md5 is the whole file's
            checksum="64eb9d7e23732de0b138f7372d15492f",
        ),
        Dataset(
            name="ml_sample",
            description="fastai's small MovieLens sample (ratings.csv) — a quick collab sample",
            url="https://s3.amazonaws.com/fast-ai-sample/movie_lens_sample.tgz",
            archive_type="tgz",
            folder="movie_lens_sample",
            size=51_790,  # fastai's record; under 1 MiB, so fastai's md5 is the whole file's
            checksum="10961384dfe7c5181460390a460c1f77",
        ),
        Dataset(
            name="ml-100k",
            description="MovieLens 100k from GroupLens: 100,000 ratings of 1,682 movies by "
            "943 users (u.data, u.item, ...) — the lesson's collab data",
            url="https://files.grouplens.org/datasets/movielens/ml-100k.zip",
            archive_type="zip",
            folder="ml-100k",
            size=4_924_029,
            checksum="0e33842e24a9c977be4e0107933c0723",  # GroupLens's ml-100k.zip.md5
        ),
    ]
}


# The model zoo: fastai's language models pretrained on Wikipedia (WikiText-103), the first step
# of ULMFiT. No size or checksum is published for them (fastai's download_checks.py has none), so
# what arrives is checked by its structure instead: l4tui/data/zoo.py.
PRETRAINED: dict[str, Dataset] = {
    entry.name: entry
    for entry in [
        Dataset(
            name="wt103-fwd",
            description="AWD-LSTM language model pretrained on Wikipedia (WikiText-103), reading "
            "forwards: emb 400, hidden 1152, 3 LSTMs, 60,000 words — the lesson's pretrained model",
            url="https://s3.amazonaws.com/fast-ai-modelzoo/wt103-fwd.tgz",
            archive_type="tgz",
            folder="wt103-fwd",
            kind="pretrained",
        ),
        Dataset(
            name="wt103-bwd",
            description="the same, reading backwards (fastai's backwards=True)",
            url="https://s3.amazonaws.com/fast-ai-modelzoo/wt103-bwd.tgz",
            archive_type="tgz",
            folder="wt103-bwd",
            kind="pretrained",
        ),
    ]
}
ALIASES = {"wt103": "wt103-fwd"}  # what the lesson calls it


def dataset_names() -> list[str]:
    return list(DATASETS) + list(PRETRAINED) + list(ALIASES)


def find_dataset(name: str) -> Dataset:
    """A dataset or a pretrained model of the zoo, by name (or alias: wt103 is wt103-fwd)."""
    name = ALIASES.get(name, name)
    found = DATASETS.get(name) or PRETRAINED.get(name)
    if found is None:
        raise UnknownDatasetError(f"No dataset called {name!r}. Known datasets: {', '.join(DATASETS)}; "
                                  f"pretrained models: {', '.join([*PRETRAINED, *ALIASES])}.")
    return found


def cache_dir() -> Path:
    """Where downloads go: $L4TUI_DATA, else $XDG_CACHE_HOME/l4tui/data, else ~/.cache/l4tui/data."""
    explicit = os.environ.get("L4TUI_DATA")
    if explicit:
        return Path(explicit).expanduser()
    xdg_cache = os.environ.get("XDG_CACHE_HOME")
    # The XDG spec says a relative path in XDG_CACHE_HOME is invalid and must be ignored.
    if xdg_cache and os.path.isabs(xdg_cache):
        return Path(xdg_cache) / "l4tui" / "data"
    return Path.home() / ".cache" / "l4tui" / "data"
