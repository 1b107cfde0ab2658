"""The tail of a run's log, as the monitor shows it: from the end, and never stuck on a FIFO."""

import os

from l4tui.runs.untrusted import tail_lines


def test_the_last_lines_of_a_long_log_are_read_from_its_end(tmp_path):
    log = tmp_path / "stderr.log"
    log.write_text("".join(f"line {i}\n" for i in range(100_000)))
    assert tail_lines(log, 3) == ["line 99997", "line 99998", "line 99999"]
    # only the last max_bytes are read: the first of them may be a cut line, never an early one
    assert all(int(line.split()[-1]) > 99_000 for line in tail_lines(log, 10_000, max_bytes=2_000)[1:])


def test_a_short_empty_or_missing_log(tmp_path):
    log = tmp_path / "stderr.log"
    log.write_text("only\n")
    assert tail_lines(log, 5) == ["only"]
    assert tail_lines(log, 0) == []
    log.write_text("")
    assert tail_lines(log, 5) == []
    assert tail_lines(tmp_path / "missing.log", 5) == []
    assert tail_lines(tmp_path, 5) == []  # a folder under the log's name


def test_bad_bytes_and_a_fifo(tmp_path):
    log = tmp_path / "stderr.log"
    log.write_bytes(b"ok\n\xff\xfe broken\n")
    assert tail_lines(log, 2) == ["ok", "\ufffd\ufffd broken"]
    fifo = tmp_path / "fifo.log"
    os.mkfifo(fifo)
    assert tail_lines(fifo, 5) == []  # no writer: a plain open would wait forever
