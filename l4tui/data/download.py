"""Download a dataset from the registry, check it, and unpack it safely.

    get_dataset("ml-100k")  ->  ~/.cache/l4tui/data/ml-100k/

The data folder holds, per dataset:
    .<name>.part     a download in progress; the next attempt resumes it (HTTP Range)
    <archive file>   the verified archive (e.g. ml-100k.zip); a file put there by hand is used as is
    <folder>/        the unpacked dataset; present means complete, because it appears by a rename

Plain `urllib.request`, no shell, no new dependencies. Every way this can go wrong (offline,
server errors, a short or altered download, a damaged or malicious archive, a full disk) ends
in a `DownloadError` whose message says what happened and what to do, never a traceback.
"""

import copy
import errno
import gzip
import hashlib
import http.client
import os
import re
import shutil
import socket
import stat
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from pathlib import Path, PureWindowsPath
from typing import Callable, TextIO

from l4tui import __version__
from l4tui.data.registry import (ARCHIVE_TYPES, CHECKSUM_TYPES, Dataset, UnknownDatasetError,
                                 cache_dir, find_dataset)

ProgressCallback = Callable[[int, int | None], None]  # (bytes done, total bytes or None)
ReportCallback = Callable[[str], None]  # one line of news for the user

DEFAULT_TIMEOUT = 30.0  # seconds without a byte before we call the link dead
CHUNK_SIZE = 64 * 1024
FIRST_MIB = 2**20

# Python's own tar safety filter (PEP 706): 3.12+, backported to 3.8.17/3.9.17/3.10.12/3.11.4.
# We also run our own checks, so an older Python is safe too; this only adds a second lock.
HAS_TAR_DATA_FILTER = hasattr(tarfile, "data_filter")


class DownloadError(Exception):
    """Anything that stops a dataset from arriving; the message is written for the user."""


class ArchiveError(DownloadError):
    """The archive is damaged or holds something unsafe; nothing was unpacked."""


# ---------------------------------------------------------------------------------------------
# The one entry point


def get_dataset(name_or_entry: str | Dataset, dest_root: str | os.PathLike | None = None,
                progress: ProgressCallback | None = None, timeout: float = DEFAULT_TIMEOUT,
                report: ReportCallback | None = None) -> Path:
    """Make sure the dataset is unpacked under `dest_root` (default: `cache_dir()`); return its folder.

    `progress(done, total)` is called as bytes arrive (total is None when the server does not
    say); if it raises, the download stops and the partial file is kept for resuming.
    `report(line)` receives short news: already present, resuming, verifying, unpacking.
    """
    entry = _resolve(name_or_entry)
    root = Path(dest_root).expanduser() if dest_root is not None else cache_dir()
    try:
        return _fetch_and_unpack(entry, root, progress, timeout, report or (lambda line: None))
    except OSError as error:  # a last net for file-system trouble not handled nearer its cause
        where = f" ({error.filename})" if getattr(error, "filename", None) else ""
        raise DownloadError(f"Could not get {entry.name}: {_reason(error)}{where}.") from None


def _fetch_and_unpack(entry: Dataset, root: Path, progress, timeout: float, say) -> Path:
    target = root / entry.folder
    if target.is_dir():
        say(f"{entry.name} is already present at {target}; not downloading it again.")
        return target
    if root.exists() and not root.is_dir():
        raise DownloadError(f"The data folder {root} is a file, not a folder; "
                            "move it away or choose another folder.")
    root.mkdir(parents=True, exist_ok=True)

    archive = root / entry.archive_name
    downloaded = not archive.is_file()
    if downloaded:
        part = root / f".{entry.name}.part"
        _download(entry, part, archive, progress, timeout, say)
        say(f"Checking {entry.archive_name}...")
        _verify(part, entry, delete_on_mismatch=True)
        os.replace(part, archive)  # atomic: the archive path only ever holds a whole, checked file
    else:
        say(f"Using the archive already at {archive}.")
        _verify(archive, entry, delete_on_mismatch=False)  # the user's file: report, don't delete

    say(f"Unpacking {entry.archive_name} into {target}...")
    try:
        _unpack(archive, entry, target)
    except ArchiveError as error:
        if downloaded:
            # Keeping it would only make every later attempt fail the same way.
            archive.unlink(missing_ok=True)
            hint = "The downloaded archive was deleted; run again to download it afresh."
        else:
            hint = f"Delete or replace {archive} and try again."
        raise ArchiveError(f"{error} {hint}") from None
    say(f"{entry.name} is ready at {target}.")
    return target


def _resolve(name_or_entry) -> Dataset:
    if isinstance(name_or_entry, Dataset):
        entry = name_or_entry
    else:
        try:
            entry = find_dataset(str(name_or_entry))
        except UnknownDatasetError as error:
            raise DownloadError(str(error)) from None
    # These strings become file names and a URL: refuse anything that could point elsewhere.
    for label, value in (("name", entry.name), ("folder", entry.folder),
                         ("archive name", entry.archive_name)):
        if not value or value in (".", "..") or "/" in value or "\\" in value or "\0" in value:
            raise DownloadError(f"Dataset entry {entry.name!r} has an unusable {label}: {value!r}.")
    if urllib.parse.urlsplit(entry.url).scheme not in ("http", "https"):
        raise DownloadError(f"Dataset {entry.name!r}: only http(s) URLs can be downloaded, "
                            f"not {entry.url!r}.")
    if entry.archive_type not in ARCHIVE_TYPES:
        raise DownloadError(f"Dataset {entry.name!r}: unknown archive type {entry.archive_type!r} "
                            f"(expected one of {', '.join(ARCHIVE_TYPES)}).")
    if entry.checksum and entry.checksum_type not in CHECKSUM_TYPES:
        raise DownloadError(f"Dataset {entry.name!r}: unknown checksum type {entry.checksum_type!r}.")
    return entry


# ---------------------------------------------------------------------------------------------
# Downloading, with resume


def _download(entry: Dataset, part: Path, archive: Path, progress, timeout: float, say) -> None:
    """Fill `part` with the whole file, resuming what an earlier attempt left there."""
    start = part.stat().st_size if part.is_file() else 0
    if entry.size is not None and start > entry.size:
        part.unlink()  # longer than the real file: not a prefix of it, so useless
        start = 0
    if entry.size is not None and start == entry.size > 0:
        return  # an earlier attempt got every byte but stopped before the check

    for _attempt in range(2):  # the second only after throwing away a .part the server rejects
        headers = {"User-Agent": f"l4tui/{__version__} (Python urllib)"}
        if start:
            headers["Range"] = f"bytes={start}-"
            say(f"Resuming the download of {entry.name} at {_size(start)}.")
        else:
            say(f"Downloading {entry.name} from {entry.url}")
        request = urllib.request.Request(entry.url, headers=headers)
        try:
            # A fresh opener each time, so proxy settings are read from the environment now.
            response = urllib.request.build_opener().open(request, timeout=timeout)
        except urllib.error.HTTPError as error:
            error.close()
            if error.code == 416 and start:
                # "Range not satisfiable": our .part is at least as long as the server's file.
                if _content_range_total(error.headers.get("Content-Range")) == start:
                    return  # it is exactly as long: complete; the checks decide if it is right
                part.unlink(missing_ok=True)
                start = 0
                continue
            raise DownloadError(f"The server refused to send {entry.name}: HTTP {error.code} "
                                f"{error.reason} for {entry.url}") from None
        except urllib.error.URLError as error:
            raise _unreachable(entry, archive, error.reason) from None
        except (OSError, http.client.HTTPException) as error:
            raise _unreachable(entry, archive, error) from None

        with response:
            if start and response.status == 206:
                first, total = _parse_content_range(response.headers.get("Content-Range"))
                if first != start:  # not the bytes we asked for: start again from nothing
                    part.unlink(missing_ok=True)
                    start = 0
                    continue
                mode = "ab"
            else:
                if start:
                    say("The server does not support resuming; starting the download over.")
                start, mode = 0, "wb"
                total = _int_or_none(response.headers.get("Content-Length"))
            if entry.size is not None and total is not None and total != entry.size:
                part.unlink(missing_ok=True)
                raise DownloadError(
                    f"{entry.url} is {total:,} bytes, but {entry.name} should be {entry.size:,} "
                    "bytes. The file on the server has changed or is not the expected one; "
                    "nothing was kept.")
            _copy_body(response, part, mode, start, total, progress, entry, archive)
        return
    raise DownloadError(f"The server for {entry.url} kept answering resume requests with the "
                        f"wrong bytes; delete {part} and try again.")


def _copy_body(response, part: Path, mode: str, done: int, total, progress, entry, archive) -> None:
    if progress:
        progress(done, total)
    try:
        out = open(part, mode)
    except OSError as error:
        raise DownloadError(f"Cannot write {part}: {_reason(error)}.") from None
    with out:
        while True:
            try:
                chunk = response.read(CHUNK_SIZE)
            except (OSError, http.client.HTTPException) as error:
                raise _unreachable(entry, archive, error, kept=(part, done, total)) from None
            if not chunk:
                break
            try:
                out.write(chunk)
            except OSError as error:
                raise DownloadError(f"Cannot write {part}: {_reason(error)}. The partial download "
                                    "is kept; free some space and run again to resume.") from None
            done += len(chunk)
            if progress:
                progress(done, total)
    # urllib does not complain when the connection closes early; the byte count tells.
    if total is not None and done < total:
        raise _unreachable(entry, archive, "the connection closed early", kept=(part, done, total))


def _unreachable(entry: Dataset, archive: Path, reason, kept=None) -> DownloadError:
    """The message for every network failure: what happened, and how to do it by hand."""
    host = urllib.parse.urlsplit(entry.url).hostname or entry.url
    if kept:
        part, done, total = kept
        of_total = f" of {_size(total)}" if total else ""
        head = (f"The download of {entry.name} stopped after {_size(done)}{of_total} "
                f"({_reason(reason)}). The partial file is kept at {part}; run again to resume.")
    elif _looks_offline(reason):
        head = (f"Could not reach {host} to download {entry.name} ({_reason(reason)}): "
                "this machine seems to be offline.")
    else:
        head = f"Could not download {entry.name} from {host}: {_reason(reason)}."
    return DownloadError(f"{head}\nTo get it by hand, fetch\n    {entry.url}\nand put the file at\n"
                         f"    {archive}\nthen run the same command again: the file there is "
                         "checked and unpacked without downloading.")


def _looks_offline(reason) -> bool:
    if isinstance(reason, (socket.gaierror, ConnectionError, TimeoutError)):
        return True
    return isinstance(reason, OSError) and reason.errno in (
        errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.ECONNREFUSED)


def _parse_content_range(value) -> tuple[int | None, int | None]:
    """'bytes 100-199/1000' -> (100, 1000); the total may be '*' (unknown)."""
    match = re.fullmatch(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)\s*", value or "")
    if not match:
        return None, None
    return int(match.group(1)), _int_or_none(match.group(2))


def _content_range_total(value) -> int | None:
    """The total from a 416's 'bytes */1000'."""
    match = re.fullmatch(r"\s*bytes\s+\*/(\d+)\s*", value or "")
    return int(match.group(1)) if match else None


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# Checking what arrived


def _verify(path: Path, entry: Dataset, delete_on_mismatch: bool) -> None:
    size = path.stat().st_size
    problem = None
    if entry.size is not None and size != entry.size:
        problem = f"expected {entry.size:,} bytes, got {size:,}"
    elif entry.checksum:
        actual = file_checksum(path, entry.checksum_type)
        if actual.lower() != entry.checksum.lower():
            problem = f"expected {entry.checksum_type} {entry.checksum.lower()}, got {actual}"
    if problem is None:
        return
    if delete_on_mismatch:
        path.unlink(missing_ok=True)
        raise DownloadError(f"The download of {entry.name} is not the expected file ({problem}). "
                            f"It was deleted; run again to download it afresh (source: {entry.url}).")
    raise DownloadError(f"{path} is not the expected file for {entry.name} ({problem}). "
                        f"Delete it, or replace it with a fresh copy of {entry.url}.")


def file_checksum(path: Path, checksum_type: str = "md5") -> str:
    """Hex digest of the file; "md5-first-mib" hashes only its first MiB (fastai's convention)."""
    algorithm = "md5" if checksum_type == "md5-first-mib" else checksum_type
    # usedforsecurity=False: these hashes detect damage, and FIPS systems refuse md5 otherwise.
    digest = hashlib.new(algorithm, usedforsecurity=False)
    limit = FIRST_MIB if checksum_type == "md5-first-mib" else None
    with open(path, "rb") as f:
        while limit is None or limit > 0:
            chunk = f.read(CHUNK_SIZE if limit is None else min(CHUNK_SIZE, limit))
            if not chunk:
                break
            digest.update(chunk)
            if limit is not None:
                limit -= len(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# Unpacking safely


def _unpack(archive: Path, entry: Dataset, target: Path) -> None:
    """Extract into a fresh temporary folder beside `target`, then rename it into place.

    The rename is atomic, so `target` either does not exist or holds the whole dataset.
    """
    scratch = Path(tempfile.mkdtemp(prefix=f".{entry.name}.unpacking-", dir=target.parent))
    damaged = f"{archive} is damaged or not a valid {entry.archive_type} archive"
    try:
        try:
            if entry.archive_type == "zip":
                _extract_zip(archive, scratch)
            else:
                _extract_tar(archive, scratch)
        except ArchiveError:
            raise
        except (tarfile.TarError, zipfile.BadZipFile, gzip.BadGzipFile, zlib.error, EOFError,
                RuntimeError, NotImplementedError) as error:
            # RuntimeError / NotImplementedError: zipfile's "encrypted" and "unknown compression".
            raise ArchiveError(f"{damaged} ({_one_line_reason(error)}).") from None
        except OSError as error:
            if error.errno is None:  # the bz2 layer reports bad data as an OSError without errno
                raise ArchiveError(f"{damaged} ({_reason(error)}).") from None
            raise DownloadError(f"Could not unpack {archive} into {target.parent}: {_reason(error)}. "
                                "The archive is kept; run again once that is fixed.") from None
        if entry.kind == "pretrained":
            _check_pretrained(archive, scratch)
        _move_into_place(scratch, target, archive)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # gone already when it became the target


def _one_line_reason(error: BaseException) -> str:
    """Why an archive could not be read, in one line: tarfile's "could not be opened" lists each
    compression it tried on lines of their own (a message cut at its first line would end in the
    middle of that list)."""
    if isinstance(error, tarfile.ReadError) and "could not be opened successfully" in str(error):
        return "it is not a tar file, gzipped or not"
    return " ".join(_reason(error).split())


def _check_pretrained(archive: Path, scratch: Path) -> None:
    """A model of the zoo has no published checksum: its structure is checked instead
    (data/zoo.py), before it takes its folder. ArchiveError, so a bad download is not kept."""
    from l4tui.data.zoo import PretrainedError, check_unpacked

    entries = list(scratch.iterdir())
    content = entries[0] if len(entries) == 1 and entries[0].is_dir() else scratch
    try:
        check_unpacked(archive, content)
    except PretrainedError as error:
        raise ArchiveError(f"{archive} is not a pretrained AWD-LSTM language model: {error}.") from None


def _move_into_place(scratch: Path, target: Path, archive: Path) -> None:
    # The lesson's archives hold one top folder (imdb/, ml-100k/ ...): that folder becomes the
    # target. An archive without a single top folder makes the scratch folder itself the target.
    entries = list(scratch.iterdir())
    if not entries:
        raise ArchiveError(f"{archive} holds no files.")
    single_folder = len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink()
    content = entries[0] if single_folder else scratch
    try:
        os.rename(content, target)
    except OSError as error:
        if target.is_dir():
            return  # another process finished the same dataset first; theirs is as good
        raise DownloadError(f"Could not move the unpacked dataset to {target}: {_reason(error)}.") from None


def _unsafe_name(name: str) -> str | None:
    """Why a member's path would land outside the target, or None if it would not."""
    if not name:
        return "has an empty name"
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive:
        return "has an absolute path"
    if ".." in re.split(r"[\\/]", name):
        return "climbs out of the folder with '..'"
    return None


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def _extract_tar(archive: Path, scratch: Path) -> None:
    root = os.path.realpath(scratch)

    def checked_members(tar: tarfile.TarFile):
        # A generator, so extractall checks each member just before writing it: the realpath
        # checks then follow links already on disk, which catches chains of innocent-looking
        # symlinks that add up to an escape.
        for member in tar:
            refusal = _tar_member_refusal(member, root)
            if refusal:
                raise ArchiveError(f"{archive} is unsafe: member {member.name!r} {refusal}; "
                                   "nothing was unpacked.")
            if not HAS_TAR_DATA_FILTER:
                member = _without_risky_modes(member)
            yield member

    with tarfile.open(archive, "r:*") as tar:
        tar.errorlevel = 1  # fatal errors raise instead of being logged and skipped
        if HAS_TAR_DATA_FILTER:
            try:
                tar.extractall(scratch, members=checked_members(tar), filter="data")
            except tarfile.FilterError as error:  # subclass of TarError: ours are raised first
                raise ArchiveError(f"{archive} is unsafe: {error}; nothing was unpacked.") from None
        else:
            tar.extractall(scratch, members=checked_members(tar))


def _tar_member_refusal(member: tarfile.TarInfo, root: str) -> str | None:
    refusal = _unsafe_name(member.name)
    if refusal:
        return refusal
    if not _inside(os.path.realpath(os.path.join(root, member.name)), root):
        return "would be written outside the folder through a link"
    if member.isdev():
        return "is a device file or pipe"
    if member.issym() or member.islnk():
        link = member.linkname
        if not link or link.startswith(("/", "\\")) or PureWindowsPath(link).drive:
            return f"is a link to an absolute path ({link!r})"
        # A symlink is relative to its own folder; a hard link names another member.
        base = os.path.join(root, os.path.dirname(member.name)) if member.issym() else root
        if not _inside(os.path.realpath(os.path.join(base, link)), root):
            return f"is a link pointing outside the folder ({link!r})"
        return None
    if not (member.isfile() or member.isdir()):
        return "is not a regular file, folder or link"
    return None


def _without_risky_modes(member: tarfile.TarInfo) -> tarfile.TarInfo:
    """What the 'data' filter does to permissions and owners, for Pythons without it: no
    set-uid/gid or sticky bits, nothing writable by others, files and folders we can always
    read, and (when extracting as root) no owners taken from the archive."""
    if member.issym():
        return member
    safe = copy.copy(member)  # keep offsets and sizes; only the attributes change
    safe.mode = (member.mode & 0o755) | (0o700 if member.isdir() else 0o600)
    safe.uid = safe.gid = os.getuid() if hasattr(os, "getuid") else 0
    safe.uname = safe.gname = ""
    return safe


def _extract_zip(archive: Path, scratch: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        for info in members:  # check all before writing anything
            refusal = _unsafe_name(info.filename)
            kind = stat.S_IFMT(info.external_attr >> 16)
            if refusal is None and kind in (stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO, stat.S_IFSOCK):
                refusal = "is a device file or pipe"
            if refusal is None and kind == stat.S_IFLNK:
                # zipfile writes a symlink entry as a small file holding the target, never as
                # a link; still, an archive that tries to point outside is not to be trusted.
                link = zf.read(info).decode("utf-8", "replace")
                resolved = os.path.normpath(os.path.join(os.path.dirname(info.filename), link))
                if _unsafe_name(resolved.replace(os.sep, "/")):
                    refusal = f"is a link pointing outside the folder ({link!r})"
            if refusal:
                raise ArchiveError(f"{archive} is unsafe: member {info.filename!r} {refusal}; "
                                   "nothing was unpacked.")
        zf.extractall(scratch, members)  # reads every member, so bad data fails its CRC here


# ---------------------------------------------------------------------------------------------
# Small helpers for people


def text_progress_bar(stream: TextIO | None = None, width: int = 30, label: str = "") -> ProgressCallback:
    """A progress callback that draws `label [#####.....]  42%  1.2 MB / 2.9 MB` on one line.

    It redraws only when the text changes (kind to slow SSH links) and ends the line at 100%.
    """
    last = [""]

    def draw(done: int, total: int | None) -> None:
        out = stream or sys.stderr
        prefix = f"{label} " if label else ""
        if total:
            fraction = min(done / total, 1.0)
            filled = int(fraction * width)
            text = (f"{prefix}[{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%}  "
                    f"{_size(done)} / {_size(total)}")
        else:
            text = f"{prefix}{_size(done)}"
        if text != last[0]:
            out.write("\r" + text.ljust(len(last[0])))
            if total and done >= total:
                out.write("\n")
            out.flush()
            last[0] = text

    return draw


def _size(count: int | None) -> str:
    if count is None:
        return "?"
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


def _reason(error) -> str:
    """A short human reason from an exception (or a string), without the class noise."""
    if isinstance(error, str):
        return error
    if isinstance(error, socket.gaierror):
        return "the name of the server could not be looked up"
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.rstrip(".")
    text = str(error).strip()
    return text or type(error).__name__
