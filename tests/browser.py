"""A headless Chromium driven through the DevTools protocol, for the `l4tui serve` test: open a
page, read what its terminal was sent, type keys into it, take a screenshot.

The served page draws the terminal with xterm.js on a canvas, so its text is not in the DOM.
What the page was sent is: a script installed before the page loads keeps a copy of every
message its websockets receive (the app's output, escape sequences and all), which the test
reads back as text. aiohttp (textual-serve's own dependency) speaks the protocol's websocket.
"""

import asyncio
import base64
import itertools
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import aiohttp

# Kept on window.__received: each websocket message, as text (binary ones decoded as UTF-8).
RECORD_WEBSOCKETS = r"""
(() => {
  window.__received = [];
  const decoder = new TextDecoder("utf-8");
  const Original = window.WebSocket;
  window.WebSocket = function (...args) {
    const socket = new Original(...args);
    socket.addEventListener("message", (event) => {
      if (typeof event.data === "string") window.__received.push(event.data);
      else if (event.data instanceof ArrayBuffer) window.__received.push(decoder.decode(event.data));
      else if (event.data instanceof Blob) event.data.arrayBuffer().then((b) => window.__received.push(decoder.decode(b)));
    });
    return socket;
  };
  window.WebSocket.prototype = Original.prototype;
  Object.assign(window.WebSocket, Original);
})();
"""
ESCAPES = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """`async with Browser() as browser: page = await browser.open(url)`."""

    def __init__(self, size=(1280, 800)) -> None:
        self.size = size
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future] = {}

    async def __aenter__(self) -> "Browser":
        self.profile = tempfile.TemporaryDirectory(prefix="l4tui-chromium-")
        self.process = subprocess.Popen(
            [chromium_path(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-dev-shm-usage", f"--user-data-dir={self.profile.name}", "--remote-debugging-port=0",
             f"--window-size={self.size[0]},{self.size[1]}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile.name) / "DevToolsActivePort"
        for _ in range(300):  # Chromium writes the port it listens on here
            if port_file.exists() and len(port_file.read_text().split()) >= 2:
                break
            await asyncio.sleep(0.1)
        port, path = port_file.read_text().split()[:2]
        self.session = aiohttp.ClientSession()
        self.socket = await self.session.ws_connect(f"ws://127.0.0.1:{port}{path}", max_msg_size=0)
        self.reader = asyncio.ensure_future(self._read())
        return self

    async def __aexit__(self, *exc) -> None:
        self.reader.cancel()
        await self.socket.close()
        await self.session.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.profile.cleanup()

    async def _read(self) -> None:
        async for message in self.socket:
            reply = json.loads(message.data)
            waiting = self._waiting.pop(reply.get("id"), None)
            if waiting is not None and not waiting.done():
                waiting.set_result(reply)

    async def call(self, method: str, session: str | None = None, **params) -> dict:
        number = next(self._ids)
        self._waiting[number] = asyncio.get_running_loop().create_future()
        message = {"id": number, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        await self.socket.send_str(json.dumps(message))
        reply = await asyncio.wait_for(self._waiting[number], 30)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def open(self, url: str) -> "Page":
        target = (await self.call("Target.createTarget", url="about:blank"))["targetId"]
        session = (await self.call("Target.attachToTarget", targetId=target, flatten=True))["sessionId"]
        page = Page(self, session)
        await page.call("Page.enable")
        await page.call("Page.addScriptToEvaluateOnNewDocument", source=RECORD_WEBSOCKETS)
        await page.call("Page.navigate", url=url)
        return page


class Page:
    def __init__(self, browser: Browser, session: str) -> None:
        self.browser = browser
        self.session = session

    async def call(self, method: str, **params) -> dict:
        return await self.browser.call(method, self.session, **params)

    async def evaluate(self, expression: str):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    async def received(self) -> str:
        """Everything the page's websockets were sent so far, escape sequences taken out."""
        return ESCAPES.sub("", "".join(await self.evaluate("window.__received || []") or []))

    async def wait_for_text(self, text: str, timeout: float = 60, since: int = 0) -> str:
        """Until `text` is in what the page was sent (after the first `since` characters)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            received = await self.received()
            if text in received[since:]:
                return received
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{text!r} never reached the page; its last text: {received[-1500:]!r}")
            await asyncio.sleep(0.2)

    async def type(self, text: str) -> None:
        """Keys into the terminal (xterm.js listens on its hidden textarea)."""
        await self.evaluate("document.querySelector('.xterm-helper-textarea')?.focus()")
        for character in text:
            await self.call("Input.dispatchKeyEvent", type="keyDown", text=character, key=character,
                            unmodifiedText=character)
            await self.call("Input.dispatchKeyEvent", type="keyUp", key=character)

    async def press_ctrl(self, letter: str) -> None:
        code = ord(letter.upper())
        await self.evaluate("document.querySelector('.xterm-helper-textarea')?.focus()")
        await self.call("Input.dispatchKeyEvent", type="rawKeyDown", key=letter, code=f"Key{letter.upper()}",
                        windowsVirtualKeyCode=code, modifiers=2)
        await self.call("Input.dispatchKeyEvent", type="keyUp", key=letter, code=f"Key{letter.upper()}",
                        windowsVirtualKeyCode=code, modifiers=2)

    async def screenshot(self, path: Path) -> None:
        data = (await self.call("Page.captureScreenshot", format="png"))["data"]
        Path(path).write_bytes(base64.b64decode(data))
