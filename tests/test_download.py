"""Downloading datasets: resume, checks, safe unpacking and clear errors.

Archives are built here in memory with tarfile/zipfile and served by a small HTTP server on
127.0.0.1 (port 0) in a background thread (tests/http_server.py); nothing leaves the machine.
"""

import hashlib
import io
import random
import re
import socket
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from http_server import serving

from l4tui.data import download
from l4tui.data.download import ArchiveError, DownloadError, file_checksum, get_dataset, text_progress_bar
from l4tui.data.registry import DATASETS, Dataset, cache_dir, find_dataset

FILES = {"README.txt": b"a tiny dataset\n", "ratings/u.data": b"1\t2\t5\t881250949\n" * 50}


# ---------------------------------------------------------------------------------------------
# A local file server with Range support (tests/http_server.py)


@pytest.fixture
def server(monkeypatch):
    with serving(monkeypatch) as state:
        yield state


@pytest.fixture
def root(tmp_path):
    return tmp_path / "cache"


# ---------------------------------------------------------------------------------------------
# Archives


def make_tgz(files=FILES, top="demo") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}" if top else name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def make_zip(files=FILES, top="demo") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(f"{top}/{name}" if top else name, data)
    return buffer.getvalue()


def evil_tgz(*members: tarfile.TarInfo) -> bytes:
    """A tar with one good file first, then the given members (a file's content is 'evil')."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        good = tarfile.TarInfo("demo/README.txt")
        good.size = 4
        tar.addfile(good, io.BytesIO(b"good"))
        for member in members:
            if member.isfile():
                member.size = 4
                tar.addfile(member, io.BytesIO(b"evil"))
            else:
                tar.addfile(member)
    return buffer.getvalue()


def tar_member(name, kind=tarfile.REGTYPE, linkname=""):
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = linkname
    member.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    return member


def evil_zip(name: str, data: bytes = b"evil", unix_mode: int | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("demo/README.txt", b"good")
        info = zipfile.ZipInfo(name)  # ZipInfo keeps the name as given, '..' and '/' included
        if unix_mode is not None:
            info.external_attr = unix_mode << 16
        zf.writestr(info, data)
    return buffer.getvalue()


def serve(server, data: bytes, archive_type="tgz", name="demo", folder="demo", **overrides) -> Dataset:
    """Put `data` on the server and describe it as a registry entry (sha256 and size known)."""
    server.files[f"/files/{name}.{archive_type}"] = data
    entry = Dataset(name=name, description="test data", url=f"{server.base}/files/{name}.{archive_type}",
                    archive_type=archive_type, folder=folder, size=len(data),
                    checksum=hashlib.sha256(data).hexdigest(), checksum_type="sha256")
    return replace(entry, **overrides)


def assert_nothing_left(root: Path, tmp_path: Path):
    """After a refused archive: no dataset folder, no scratch folder, nothing outside the cache."""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]
    assert list(root.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# Downloads


@pytest.mark.parametrize("archive_type,maker", [("tgz", make_tgz), ("zip", make_zip)])
def test_download_and_unpack(server, root, archive_type, maker):
    data = maker()
    entry = serve(server, data, archive_type)
    seen, news = [], []
    folder = get_dataset(entry, dest_root=root, progress=lambda d, t: seen.append((d, t)), report=news.append)

    assert folder == root / "demo"
    for name, content in FILES.items():
        assert (folder / name).read_bytes() == content
    assert (root / f"demo.{archive_type}").read_bytes() == data  # the archive is kept, whole
    assert sorted(p.name for p in root.iterdir()) == ["demo", f"demo.{archive_type}"]  # no .part, no scratch
    assert seen[0] == (0, len(data)) and seen[-1] == (len(data), len(data))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert server.requests == [(f"/files/demo.{archive_type}", None)]
    assert any("ready" in line for line in news)


def test_resume_requests_only_the_missing_bytes(server, root):
    data = make_tgz({"big.bin": random.Random(1).randbytes(200_000)})
    entry = serve(server, data)
    root.mkdir()
    already = 70_000
    (root / ".demo.part").write_bytes(data[:already])
    seen, news = [], []

    folder = get_dataset(entry, dest_root=root, progress=lambda d, t: seen.append((d, t)), report=news.append)

    assert server.requests == [("/files/demo.tgz", f"bytes={already}-")]
    assert server.bytes_sent == len(data) - already
    assert seen[0] == (already, len(data))
    assert (folder / "big.bin").stat().st_size == 200_000
    assert any("Resuming" in line for line in news)


def test_interrupted_download_keeps_the_part_and_resumes(server, root):
    data = make_tgz({"big.bin": random.Random(2).randbytes(100_000)})
    entry = serve(server, data)
    server.drop_after = 30_000
    with pytest.raises(DownloadError) as caught:
        get_dataset(entry, dest_root=root)
    message = str(caught.value)
    assert "stopped after" in message and str(root / ".demo.part") in message
    assert (root / ".demo.part").stat().st_size == 30_000

    server.drop_after = None
    folder = get_dataset(entry, dest_root=root)
    assert server.requests[-1] == ("/files/demo.tgz", "bytes=30000-")
    assert (folder / "big.bin").stat().st_size == 100_000


def test_server_ignoring_range_starts_over(server, root):
    data = make_tgz()
    entry = serve(server, data)
    server.ignore_range = True
    root.mkdir()
    (root / ".demo.part").write_bytes(data[:100])
    news = []
    folder = get_dataset(entry, dest_root=root, report=news.append)
    assert server.requests == [("/files/demo.tgz", "bytes=100-")]
    assert server.bytes_sent == len(data)  # the whole file came, and replaced the part
    assert (folder / "README.txt").read_bytes() == FILES["README.txt"]
    assert any("starting the download over" in line for line in news)


def test_part_already_complete_is_not_fetched_again(server, root):
    data = make_tgz()
    entry = serve(server, data)
    root.mkdir()
    (root / ".demo.part").write_bytes(data)
    get_dataset(entry, dest_root=root)
    assert server.requests == []  # the size says it is complete; the checksum confirms it


def test_range_not_satisfiable(server, root):
    """416: with no size in the registry, a .part as long as the file is complete; a longer one is junk."""
    data = make_tgz()
    entry = serve(server, data, size=None)
    root.mkdir()
    (root / ".demo.part").write_bytes(data)
    get_dataset(entry, dest_root=root)
    assert server.requests == [("/files/demo.tgz", f"bytes={len(data)}-")] and server.bytes_sent == 0

    other = tmp_root = root.parent / "cache2"
    tmp_root.mkdir()
    (other / ".demo.part").write_bytes(data + b"junk at the end")
    server.requests.clear()
    folder = get_dataset(entry, dest_root=other)
    assert server.requests == [("/files/demo.tgz", f"bytes={len(data) + 15}-"), ("/files/demo.tgz", None)]
    assert (folder / "README.txt").exists()


def test_checksum_mismatch_deletes_the_download(server, root):
    data = make_tgz()
    entry = serve(server, data, checksum="0" * 64)
    with pytest.raises(DownloadError) as caught:
        get_dataset(entry, dest_root=root)
    message = str(caught.value)
    assert "0" * 64 in message and hashlib.sha256(data).hexdigest() in message
    assert "sha256" in message
    assert list(root.iterdir()) == []


def test_md5_checksum_is_checked_too(server, root):
    data = make_tgz()
    good = serve(server, data, checksum=hashlib.md5(data).hexdigest(), checksum_type="md5")
    assert get_dataset(good, dest_root=root).is_dir()
    bad = serve(server, data, name="other", folder="other", checksum="f" * 32, checksum_type="md5")
    with pytest.raises(DownloadError, match="expected md5 f{32}, got"):
        get_dataset(bad, dest_root=root)


def test_size_mismatch(server, root):
    data = make_tgz()
    entry = serve(server, data, size=len(data) + 5)
    with pytest.raises(DownloadError) as caught:
        get_dataset(entry, dest_root=root)
    assert f"{len(data):,}" in str(caught.value) and f"{len(data) + 5:,}" in str(caught.value)
    assert list(root.iterdir()) == []


def test_http_error_is_reported(server, root):
    entry = serve(server, make_tgz())
    entry = replace(entry, url=f"{server.base}/files/missing.tgz")
    with pytest.raises(DownloadError, match="HTTP 404"):
        get_dataset(entry, dest_root=root)


def test_already_present_is_not_downloaded_again(server, root):
    entry = serve(server, make_tgz())
    get_dataset(entry, dest_root=root)
    server.requests.clear()
    news = []
    assert get_dataset(entry, dest_root=root, report=news.append) == root / "demo"
    assert server.requests == []
    assert any("already present" in line for line in news)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_offline_message_names_url_and_path(root):
    url = f"http://127.0.0.1:{closed_port()}/files/demo.tgz"
    entry = Dataset(name="demo", description="", url=url, archive_type="tgz", folder="demo")
    with pytest.raises(DownloadError) as caught:
        get_dataset(entry, dest_root=root)
    message = str(caught.value)
    assert "offline" in message
    assert url in message
    assert str(root / "demo.tgz") in message


def test_timeout_counts_as_offline(server, root):
    entry = serve(server, make_tgz())
    server.delay = 0.5
    with pytest.raises(DownloadError, match="(?s)timed out.*offline"):
        get_dataset(entry, dest_root=root, timeout=0.1)


def test_hand_placed_archive_is_used(root):
    data = make_zip()
    url = f"http://127.0.0.1:{closed_port()}/ml.zip"  # would fail if it were contacted
    entry = Dataset(name="demo", description="", url=url, archive_type="zip", folder="demo",
                    size=len(data), checksum=hashlib.md5(data).hexdigest())
    root.mkdir()
    (root / "ml.zip").write_bytes(data)
    news = []
    folder = get_dataset(entry, dest_root=root, report=news.append)
    assert (folder / "README.txt").read_bytes() == FILES["README.txt"]
    assert any("already at" in line for line in news)


def test_hand_placed_archive_that_does_not_match_is_kept_and_reported(root):
    url = f"http://127.0.0.1:{closed_port()}/ml.zip"
    entry = Dataset(name="demo", description="", url=url, archive_type="zip", folder="demo", size=10)
    root.mkdir()
    (root / "ml.zip").write_bytes(make_zip())
    with pytest.raises(DownloadError, match="expected 10 bytes"):
        get_dataset(entry, dest_root=root)
    assert (root / "ml.zip").exists()  # the user's file: we say what is wrong, we don't delete it


# ---------------------------------------------------------------------------------------------
# Damaged and malicious archives


def test_truncated_tgz(server, root, tmp_path):
    whole = make_tgz({"big.bin": random.Random(3).randbytes(100_000)})
    entry = serve(server, whole[: len(whole) // 2], size=None, checksum=None)  # nothing to check against
    with pytest.raises(ArchiveError) as caught:
        get_dataset(entry, dest_root=root)
    message = str(caught.value)
    assert str(root / "demo.tgz") in message and "damaged" in message
    assert "Traceback" not in message
    assert_nothing_left(root, tmp_path)  # the bad archive is deleted so the next run fetches afresh


@pytest.mark.parametrize("data", [make_zip()[:-40], b"<html>Service unavailable</html>"],
                         ids=["truncated-zip", "not-an-archive"])
def test_damaged_zip(server, root, tmp_path, data):
    entry = serve(server, data, archive_type="zip", size=None, checksum=None)
    with pytest.raises(ArchiveError, match="damaged or not a valid zip archive"):
        get_dataset(entry, dest_root=root)
    assert_nothing_left(root, tmp_path)


def test_damaged_hand_placed_archive_is_named_and_kept(root):
    entry = Dataset(name="demo", description="", url="http://127.0.0.1:9/demo.tgz",
                    archive_type="tgz", folder="demo")
    root.mkdir()
    (root / "demo.tgz").write_bytes(b"not a tar at all")
    with pytest.raises(ArchiveError, match=re.escape(f"Delete or replace {root / 'demo.tgz'}")) as caught:
        get_dataset(entry, dest_root=root)
    assert (root / "demo.tgz").exists()
    # One line, saying what it is not (tarfile lists each compression it tried on a line of its own).
    assert "\n" not in str(caught.value) and "it is not a tar file" in str(caught.value)


MALICIOUS_TARS = {
    "dotdot": lambda out: [tar_member("../evil")],
    "dotdot-deeper": lambda out: [tar_member("demo/../../outside/evil")],
    "absolute": lambda out: [tar_member(str(out / "abs.txt"))],
    "symlink-to-etc": lambda out: [tar_member("demo/etc", tarfile.SYMTYPE, "/etc"),
                                   tar_member("demo/etc/pwned")],
    "symlink-escaping": lambda out: [tar_member("demo/up", tarfile.SYMTYPE, "../../outside"),
                                     tar_member("demo/up/evil")],
    # Each link looks harmless on paper; only following the first on disk shows the second escapes.
    "symlink-chain": lambda out: [tar_member("demo/d1/d2", tarfile.DIRTYPE),
                                  tar_member("demo/s", tarfile.DIRTYPE),
                                  tar_member("demo/d1/d2/x", tarfile.SYMTYPE, "../../s"),
                                  tar_member("demo/d1/d2/y", tarfile.SYMTYPE, "x/../../../../outside"),
                                  tar_member("demo/d1/d2/y/evil")],
    "hardlink-outside": lambda out: [tar_member("demo/passwd", tarfile.LNKTYPE, "../../outside/x")],
    "device": lambda out: [tar_member("demo/null", tarfile.CHRTYPE)],
}


@pytest.mark.parametrize("own_checks_only", [False, True], ids=["with-data-filter", "own-checks-only"])
@pytest.mark.parametrize("case", list(MALICIOUS_TARS))
def test_malicious_tar_is_refused(server, root, tmp_path, monkeypatch, case, own_checks_only):
    if own_checks_only:  # as on a Python without tarfile's 'data' filter
        monkeypatch.setattr(download, "HAS_TAR_DATA_FILTER", False)
    entry = serve(server, evil_tgz(*MALICIOUS_TARS[case](tmp_path / "outside")))
    with pytest.raises(ArchiveError, match="unsafe"):
        get_dataset(entry, dest_root=root)
    assert_nothing_left(root, tmp_path)


@pytest.mark.parametrize("name,data,mode", [
    ("../evil.txt", b"evil", None),
    ("/abs/evil.txt", b"evil", None),
    ("demo/etc", b"/etc", 0o120777),  # a symlink entry pointing at /etc
    ("demo/null", b"", 0o020666),  # a character device entry
], ids=["dotdot", "absolute", "symlink-to-etc", "device"])
def test_malicious_zip_is_refused(server, root, tmp_path, name, data, mode):
    entry = serve(server, evil_zip(name, data, mode), archive_type="zip")
    with pytest.raises(ArchiveError) as caught:
        get_dataset(entry, dest_root=root)
    assert "unsafe" in str(caught.value) and repr(name) in str(caught.value)
    assert_nothing_left(root, tmp_path)


def test_archive_without_a_top_folder_becomes_the_folder(server, root):
    entry = serve(server, make_tgz(top=""))
    folder = get_dataset(entry, dest_root=root)
    assert (folder / "README.txt").exists() and (folder / "ratings" / "u.data").exists()


# ---------------------------------------------------------------------------------------------
# Registry, cache folder and helpers


def test_unknown_dataset_lists_the_known_ones(root):
    with pytest.raises(DownloadError) as caught:
        get_dataset("imbd", dest_root=root)
    assert "imbd" in str(caught.value) and "imdb" in str(caught.value) and "ml-100k" in str(caught.value)


@pytest.mark.parametrize("bad", [{"folder": ".."}, {"name": "a/b"}, {"url": "file:///etc/passwd"},
                                 {"archive_type": "rar"}])
def test_unusable_entries_are_refused(root, bad):
    entry = replace(Dataset(name="demo", description="", url="http://127.0.0.1:9/demo.tgz",
                            archive_type="tgz", folder="demo"), **bad)
    with pytest.raises(DownloadError):
        get_dataset(entry, dest_root=root)


def test_registry_entries_are_usable():
    assert set(DATASETS) == {"imdb", "imdb_sample", "adult_sample", "ml_sample", "ml-100k"}
    for name, entry in DATASETS.items():
        assert download._resolve(name) is entry
        assert entry.url.startswith("https://")
        assert (entry.checksum is None) or (entry.size is not None)
    assert find_dataset("ml-100k").archive_name == "ml-100k.zip"
    assert find_dataset("ml_sample").archive_name == "movie_lens_sample.tgz"
    assert find_dataset("ml_sample").folder == "movie_lens_sample"


def test_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("L4TUI_DATA", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("L4TUI_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "l4tui" / "data"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "l4tui" / "data"


def test_default_dest_root_is_the_cache_dir(server, tmp_path, monkeypatch):
    monkeypatch.setenv("L4TUI_DATA", str(tmp_path / "data"))
    entry = serve(server, make_tgz())
    assert get_dataset(entry) == tmp_path / "data" / "demo"


def test_md5_of_first_mib(tmp_path):
    path = tmp_path / "blob"
    data = random.Random(4).randbytes(2**20 + 5000)
    path.write_bytes(data)
    assert file_checksum(path, "md5-first-mib") == hashlib.md5(data[: 2**20]).hexdigest()
    assert file_checksum(path, "md5") == hashlib.md5(data).hexdigest()
    assert file_checksum(path, "sha256") == hashlib.sha256(data).hexdigest()


def test_text_progress_bar():
    out = io.StringIO()
    bar = text_progress_bar(out, width=10, label="demo")
    for done in (0, 500_000, 500_000, 1_000_000):
        bar(done, 1_000_000)
    text = out.getvalue()
    assert text.count("\r") == 3  # the repeated value drew nothing
    assert "[#####.....]  50%" in text and "[##########] 100%" in text and text.endswith("\n")
    unknown = io.StringIO()
    text_progress_bar(unknown)(2_500_000, None)
    assert unknown.getvalue() == "\r2.5 MB"


def test_data_layer_imports_neither_textual_nor_torch():
    code = ("import sys, l4tui.data.download, l4tui.data.registry; "
            "print(sorted(m for m in ('textual', 'torch') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


@pytest.mark.skipif(not download.HAS_TAR_DATA_FILTER, reason="this Python has no tarfile 'data' filter")
def test_data_filter_is_a_second_lock(server, root, tmp_path, monkeypatch):
    monkeypatch.setattr(download, "_tar_member_refusal", lambda member, root: None)  # our checks off
    entry = serve(server, evil_tgz(tar_member("demo/etc", tarfile.SYMTYPE, "/etc")))
    with pytest.raises(ArchiveError, match="unsafe"):
        get_dataset(entry, dest_root=root)
    assert_nothing_left(root, tmp_path)


@pytest.mark.parametrize("own_checks_only", [False, True], ids=["with-data-filter", "own-checks-only"])
def test_risky_permissions_are_dropped(server, root, monkeypatch, own_checks_only):
    if own_checks_only:
        monkeypatch.setattr(download, "HAS_TAR_DATA_FILTER", False)
    member = tar_member("demo/tool")
    member.mode = 0o6777  # set-uid, set-gid, writable by anyone
    entry = serve(server, evil_tgz(member))
    mode = (get_dataset(entry, dest_root=root) / "tool").stat().st_mode
    assert not mode & (0o6000 | 0o002)


def test_file_system_trouble_is_a_clear_error(server, tmp_path):
    entry = serve(server, make_tgz())
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    with pytest.raises(DownloadError, match="is a file, not a folder"):
        get_dataset(entry, dest_root=blocker)


def test_empty_archive_is_refused(server, root, tmp_path):
    entry = serve(server, make_tgz(files={}))
    with pytest.raises(ArchiveError, match="holds no files"):
        get_dataset(entry, dest_root=root)
    assert_nothing_left(root, tmp_path)


class Cancelled(Exception):
    pass


def test_progress_callback_can_cancel_and_the_part_is_kept(server, root):
    data = make_tgz({"big.bin": random.Random(5).randbytes(300_000)})
    entry = serve(server, data)

    def cancel_after_first_chunk(done, total):
        if done > 0:
            raise Cancelled()

    with pytest.raises(Cancelled):
        get_dataset(entry, dest_root=root, progress=cancel_after_first_chunk)
    kept = (root / ".demo.part").stat().st_size
    assert 0 < kept < len(data)
    get_dataset(entry, dest_root=root)
    assert server.requests[-1] == ("/files/demo.tgz", f"bytes={kept}-")
