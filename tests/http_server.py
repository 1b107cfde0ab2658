"""A local file server with Range support, for the download tests (test_download.py,
test_zoo.py): it serves bytes put in `state.files` from 127.0.0.1 (port 0) in a background
thread, so nothing leaves the machine.

    def test_x(server): server.files["/a.tgz"] = data; url = f"{server.base}/a.tgz"
"""

import http.server
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class ServerState:
    base: str = ""
    files: dict = field(default_factory=dict)  # URL path -> bytes
    requests: list = field(default_factory=list)  # (path, Range header or None)
    bytes_sent: int = 0
    ignore_range: bool = False  # answer every request with the whole file (200)
    drop_after: int | None = None  # send this many body bytes, then hang up
    delay: float = 0.0  # wait this long before answering


class RangeHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        state = self.server.state
        range_header = self.headers.get("Range")
        state.requests.append((self.path, range_header))
        body = state.files.get(self.path)
        if state.delay:
            time.sleep(state.delay)
        if body is None:
            self.send_error(404)
            return
        start, status = 0, 200
        if range_header and not state.ignore_range:
            start = int(re.fullmatch(r"bytes=(\d+)-", range_header).group(1))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        payload = body[start:]
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.end_headers()
        if state.drop_after is not None:
            payload = payload[:state.drop_after]
        try:
            self.wfile.write(payload)
            state.bytes_sent += len(payload)
        except OSError:
            pass  # the client gave up (the timeout test); nothing to report

    def log_message(self, *args):
        pass


@contextmanager
def serving(monkeypatch):
    """The running server's state (a context manager: each test module makes its own fixture)."""
    # Requests to 127.0.0.1 must never go through a proxy set in the environment.
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    state = ServerState()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    httpd.state = state
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
