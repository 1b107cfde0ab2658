"""`l4tui serve`: the app as a web page (l4tui/serve.py), checked in a real headless Chromium."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, l4tui, wait_for
from l4tui.runs.store import list_runs, process_alive
from l4tui.serve import app_command, exposure_warning, is_loopback, port_problem, public_url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_only_this_machine_counts_as_local():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.20") and not is_loopback("::")


def test_each_tab_runs_this_interpreters_l4tui_on_the_servers_runs_folder():
    command = app_command(Path("/tmp/my runs"), "/envs/py")
    assert command.startswith(f"{sys.executable} -m l4tui")
    assert "--runs '/tmp/my runs'" in command and "--python /envs/py" in command
    assert app_command() == f"{sys.executable} -m l4tui"


def test_a_server_on_every_interface_is_reached_by_the_machines_name():
    assert public_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert public_url("0.0.0.0", 9000) == f"http://{socket.getfqdn()}:9000"
    assert public_url("::1", 8000) == "http://[::1]:8000"


def test_binding_beyond_this_machine_warns_and_says_how_to_tunnel(runs_dir):
    text = exposure_warning("0.0.0.0", 8123)
    assert "Anyone who can reach that port" in text and "ssh -L 8123:127.0.0.1:8123" in text
    # The real command prints it before serving; a port in use ends it at once, in one line.
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        everywhere = l4tui("serve", "--host", "0.0.0.0", "--port", str(port), timeout=30)
        local = l4tui("serve", "--port", str(port), timeout=30)  # 127.0.0.1: no warning, the same refusal
    assert everywhere.returncode == 1
    assert everywhere.stderr.strip().splitlines()[-1] == (f"l4tui serve: can't listen on 0.0.0.0:{port}: it is in "
                                                          f"use (give another with --port)")
    assert "Traceback" not in everywhere.stderr
    assert local.returncode == 1 and "in use" in local.stderr
    # Listening on every interface: the warning comes before the server's banner.
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "l4tui", "serve", "--host", "0.0.0.0", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        first = server.stderr.readline()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    assert first.startswith(f"warning: serving on 0.0.0.0:{port}, not on this machine only.")


def test_port_problem_is_none_for_a_free_port():
    assert port_problem("127.0.0.1", free_port()) is None


def app_processes(server_pid: int) -> list[int]:
    """The l4tui apps the server started (textual-serve runs each through a shell: its children too)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if command[1:3] == [b"-m", b"l4tui"] and b"serve" not in command and parent != 1:
            if parent == server_pid or parent in found or proc_parent(parent) == server_pid:
                found.append(int(proc.name))
    return found


def proc_parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


@pytest.mark.slow
def test_the_app_in_a_real_browser_starts_runs_that_outlive_the_tab(runs_dir, tmp_path):
    """Chromium opens the page; the app's first frame reaches it; keys typed in the page switch
    panes and start a run from the launch form; closing the tab ends its app but not the run."""
    from browser import Browser, chromium_path

    if chromium_path() is None:
        pytest.skip("no Chromium here (Debian: apt install chromium); see docs/serve.md for the manual check")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "l4tui", "serve", "--port", str(port)], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert wait_for(lambda: port_problem("127.0.0.1", port) is not None, timeout=60), "the server never listened"

        async def in_the_browser() -> None:
            async with Browser(size=(1200, 760)) as browser:
                page = await browser.open(f"http://127.0.0.1:{port}/")
                await page.wait_for_text("1 Code", timeout=90)  # the app's first frame
                await page.wait_for_text("collab.py", timeout=60)  # its first file, opened after it
                await page.screenshot(tmp_path / "browser.png")
                second = await browser.open(f"http://127.0.0.1:{port}/")
                await second.wait_for_text("1 Code", timeout=90)
                assert len(app_processes(server.pid)) == 2  # a tab, an app
                seen = len(await page.received())
                await page.type("2")
                await page.wait_for_text("Runs", since=seen)
                seen = len(await page.received())
                await page.type("n")
                await page.wait_for_text("Start", since=seen)  # the launch form
                await page.press_ctrl("s")
                assert wait_for(lambda: any(r.state == "running" for r in list_runs(runs_dir)), timeout=60), \
                    (await page.received())[-1500:]

        asyncio.run(in_the_browser())
        assert (tmp_path / "browser.png").stat().st_size > 10_000  # a drawn page, not a blank one
        # The browser is gone, and with its tab the tab's app: the run goes on.
        time.sleep(2)
        [run] = list_runs(runs_dir)
        assert process_alive(run.pid, run.id) and run.state == "running"
        done = l4tui("runs", "stop", run.id, timeout=60)
        assert done.returncode == 0, done.stderr
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
