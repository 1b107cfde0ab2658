"""`l4tui serve`: the app in a browser tab, for boxes reached only through a web terminal or a poor
console. textual-serve runs a web server; each browser tab that opens the page gets an app process
of its own (the same `l4tui` a terminal runs, in the folder the server was started in, on the same
runs folder), drawn by xterm.js in the page. Runs started from a tab are the same detached runs as
from a terminal: closing the tab ends its app, not its runs.

The server binds to 127.0.0.1 unless told otherwise: whoever reaches the port gets the app, which
reads the files of this folder and starts training, with the server's user's rights. From a laptop,
an SSH tunnel reaches it without opening the port (docs/serve.md).
"""

import getpass
import ipaddress
import shlex
import socket
import sys
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
TITLE = "l4tui"


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only (127.x, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: what it resolves to
        try:
            return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
        except (OSError, ValueError):
            return False


def app_command(runs: Path | None = None, python: str | None = None) -> str:
    """The shell command textual-serve runs for each tab: this interpreter's l4tui, with the
    server's runs folder and environment, so a tab sees what `l4tui` here would."""
    words = [sys.executable, "-m", "l4tui"]
    if runs is not None:
        words += ["--runs", str(runs)]
    if python is not None:
        words += ["--python", python]
    return " ".join(shlex.quote(word) for word in words)


def public_url(host: str, port: int) -> str:
    """The address the page's websocket is told to connect to: the one a browser uses. A server
    bound to every interface (0.0.0.0, ::) is reached by this machine's name."""
    if host in ("0.0.0.0", "::", ""):
        host = socket.getfqdn()
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"http://{host}:{port}"


def exposure_warning(host: str, port: int) -> str:
    """What binding beyond this machine means, and the safer way."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container's)
        user = "you"
    return (f"warning: serving on {host}:{port}, not on this machine only. Anyone who can reach that port gets "
            f"the app: they can read the files of this folder and start training, as you.\n"
            f"To use it from your own computer instead, keep the default host (127.0.0.1) and tunnel over SSH:\n"
            f"    ssh -L {port}:127.0.0.1:{port} {user}@{socket.gethostname()}\n"
            f"then open http://127.0.0.1:{port} in your browser there.")


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, runs: Path | None = None,
          python: str | None = None, url: str | None = None) -> int:
    """Run the web server until Ctrl-C. Returns the exit status."""
    try:
        from textual_serve.server import Server
    except ImportError:
        print("l4tui serve needs textual-serve: pip install textual-serve", file=sys.stderr)
        return 1
    problem = port_problem(host, port)
    if problem:
        print(f"l4tui serve: {problem}", file=sys.stderr)
        return 1
    if not is_loopback(host):
        print(exposure_warning(host, port), file=sys.stderr)
    server = Server(app_command(runs, python), host=host, port=port, title=TITLE,
                    public_url=url or public_url(host, port))
    server.serve()
    return 0


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port (in use, not an address of this machine), or None."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)
    except OSError as error:
        return f"can't use host {host!r}: {error.strerror or error}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            reason = "it is in use (give another with --port)" if error.errno == 98 else error.strerror
            return f"can't listen on {host}:{port}: {reason}"
    return None
