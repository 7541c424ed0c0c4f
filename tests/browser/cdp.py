"""A small Chrome DevTools Protocol client driving Debian's headless Chromium.

The browser resolves no host name but 127.0.0.1 (`--host-resolver-rules`), so a page that
tried to load anything from the internet (a CDN, a tile server) fails visibly; every request
URL is recorded for the tests to check.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


class BrowserError(AssertionError):
    """A failed DevTools command or a page that did not become ready."""


class Browser:
    """One headless Chromium with one page, attached over the DevTools websocket."""

    def __init__(self, width: int = 1280, height: int = 900) -> None:
        self.profile = tempfile.mkdtemp(prefix="zg-chromium-")
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-dev-shm-usage", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.ws = self._connect()
        self.events: list[dict[str, Any]] = []
        self.dialogs: list[str] = []
        self._next = 0
        target = self.call("Target.createTarget", {"url": "about:blank"}, page=False)
        attached = self.call("Target.attachToTarget",
                             {"targetId": target["targetId"], "flatten": True}, page=False)
        self.session_id = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def _connect(self) -> ClientConnection:
        assert self.proc.stderr is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            found = _LISTENING.search(line)
            if found:
                # Keep draining stderr so a chatty browser never blocks on a full pipe.
                threading.Thread(target=self.proc.stderr.read, daemon=True).start()
                return connect(found.group(1), max_size=None, open_timeout=10, legacy=True)
            if not line and self.proc.poll() is not None:
                break
        raise BrowserError("chromium did not start its DevTools endpoint")

    def call(self, method: str, params: dict[str, Any] | None = None, *, page: bool = True,
             timeout: float = 30.0) -> dict[str, Any]:
        """Send one command and wait for its result (events meanwhile are recorded)."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if page:
            message["sessionId"] = self.session_id
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"{method} timed out")
            data = json.loads(self.ws.recv(timeout=left))
            if data.get("id") == self._next:
                if "error" in data:
                    raise BrowserError(f"{method}: {data['error']}")
                result: dict[str, Any] = data.get("result", {})
                return result
            self._event(data)

    def _event(self, data: dict[str, Any]) -> None:
        if "method" not in data:
            return
        self.events.append(data)
        if data["method"] == "Page.javascriptDialogOpening":
            self.dialogs.append(data["params"].get("message", ""))
            self._next += 1
            self.ws.send(json.dumps({"id": self._next, "sessionId": self.session_id,
                                     "method": "Page.handleJavaScriptDialog",
                                     "params": {"accept": True}}))

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def goto(self, url: str, *, ready: str = "window.zgMap && window.zgMap.ready",
             timeout: float = 30.0) -> float:
        """Open a URL and wait until `ready` is true; return the seconds it took."""
        start = time.perf_counter()
        self.call("Page.navigate", {"url": url})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.evaluate(f"!!({ready})"):
                    return time.perf_counter() - start
            except BrowserError:
                pass
            time.sleep(0.02)
        raise BrowserError(f"{url} did not become ready: {self.console_errors()}")

    def wait_for(self, expression: str, timeout: float = 15.0) -> None:
        """Wait until a JavaScript expression is truthy."""
        deadline = time.monotonic() + timeout
        while not self.evaluate(f"!!({expression})"):
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out waiting for {expression}: {self.console_errors()}")
            time.sleep(0.03)

    def click(self, x: float, y: float) -> None:
        """A left mouse click at page coordinates."""
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y,
                                                   "button": "left", "clickCount": 1})

    def screenshot(self, path: Path) -> Path:
        """Save a PNG of the page."""
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def console_errors(self) -> list[str]:
        """Console errors, uncaught exceptions and failed loads seen so far."""
        out = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                out.append(str(details.get("exception", {}).get("description")
                               or details.get("exception", {}).get("value") or details)[:800])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append(" ".join(str(a.get("value", a.get("description", "")))
                                    for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                out.append(params["entry"].get("text", "") + " " + params["entry"].get("url", ""))
        return out

    def requested_urls(self) -> list[str]:
        """Every URL the page requested."""
        return [e["params"]["request"]["url"] for e in self.events
                if e["method"] == "Network.requestWillBeSent"]

    def close(self) -> None:
        """Close the connection and end this browser process."""
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)
