"""A small Chrome DevTools Protocol client over --remote-debugging-pipe, standard library
only: it drives the system's Chromium (Debian package `chromium`) with no driver to
download and no network. Messages are JSON separated by NUL bytes; Chromium reads
commands on its fd 3 and writes replies and events on its fd 4.

Only what the browser tests need: open a page, evaluate JavaScript, real mouse and
keyboard input, screenshots, and a record of console errors, uncaught exceptions and
JavaScript dialogs (an alert() would mean a profiled name was run as code)."""

import base64
import fcntl
import json
import os
import shutil
import struct
import subprocess
import tempfile
import threading
import time
import zlib

CHROMIUM = os.environ.get("SPYGLASS_CHROMIUM", "/usr/bin/chromium")


class CDPError(Exception):
    pass


def _stderr():
    """Chromium's own log: discarded unless SG_CHROMIUM_LOG names a file."""
    path = os.environ.get("SG_CHROMIUM_LOG")
    return open(path, "ab") if path else subprocess.DEVNULL


class Browser:
    def __init__(self, width=1280, height=900, timeout=20):
        self.timeout = timeout
        self._profile_dir = tempfile.mkdtemp(prefix="sg-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def child_fds():
            # fds 3 and 4 are the protocol; move them out of the way first so that one
            # dup2 cannot close the other
            a = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--remote-debugging-pipe", "--no-sandbox",
             "--disable-gpu", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking", "--mute-audio",
             "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
             f"--user-data-dir={self._profile_dir}", f"--window-size={width},{height}",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=_stderr(),
            pass_fds=(3, 4, to_chrome_r, from_chrome_w), preexec_fn=child_fds)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._lock = threading.Lock()
        self._cond = threading.Condition()
        self._next = 0
        self._replies = {}
        self.events = []
        self.console_errors = []
        self.dialogs = []
        self.dialog_answer = None  # text for prompt(); None dismisses
        self.session = None
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.call("Target.attachToTarget",
                             {"targetId": target["targetId"], "flatten": True}, session=False)
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    # ---- transport ----

    def _send(self, msg):
        data = json.dumps(msg).encode() + b"\0"
        with self._lock:
            while data:
                n = os.write(self._to_chrome, data)
                data = data[n:]

    def _read_loop(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 1 << 20)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._replies[None] = "closed"
                    self._cond.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                self._dispatch(json.loads(raw))

    def _dispatch(self, msg):
        if "id" in msg:
            with self._cond:
                self._replies[msg["id"]] = msg
                self._cond.notify_all()
            return
        method, params = msg.get("method"), msg.get("params", {})
        if method == "Page.javascriptDialogOpening":
            # answered from this thread: the page is blocked until it is
            self.dialogs.append(params)
            answer = self.dialog_answer
            reply = {"accept": answer is not None}
            if answer is not None:
                reply["promptText"] = answer
            self._next_id_send("Page.handleJavaScriptDialog", reply, msg.get("sessionId"))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.console_errors.append(" ".join(
                str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            d = params.get("exceptionDetails", {})
            self.console_errors.append(d.get("exception", {}).get("description") or d.get("text"))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.console_errors.append(f"{entry.get('source')}: {entry.get('text')}")
        with self._cond:
            self.events.append(msg)
            self._cond.notify_all()

    def _next_id_send(self, method, params, session):
        with self._cond:
            self._next += 1
            mid = self._next
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self._send(msg)
        return mid

    def call(self, method, params=None, session=True, timeout=None):
        mid = self._next_id_send(method, params, self.session if session else None)
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cond:
            while mid not in self._replies:
                if None in self._replies:
                    raise CDPError(f"browser exited during {method}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CDPError(f"{method}: no reply in time")
                self._cond.wait(left)
            reply = self._replies.pop(mid)
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def wait_event(self, method, since=0, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cond:
            while True:
                for ev in self.events[since:]:
                    if ev.get("method") == method:
                        return ev
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CDPError(f"no {method} in time")
                self._cond.wait(left)

    # ---- what the tests use ----

    def open(self, path_or_url):
        url = path_or_url if "://" in path_or_url else "file://" + os.path.abspath(path_or_url)
        since = len(self.events)
        self.call("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired", since)

    def eval(self, expr, timeout=None):
        res = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                             "awaitPromise": True}, timeout=timeout)
        if "exceptionDetails" in res:
            d = res["exceptionDetails"]
            raise CDPError(d.get("exception", {}).get("description") or d.get("text"))
        return res.get("result", {}).get("value")

    def wait_for(self, expr, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            if self.eval(f"!!({expr})"):
                return
            if time.monotonic() > deadline:
                raise CDPError(f"timed out waiting for {expr}")
            time.sleep(0.02)

    def mouse(self, kind, x, y, clicks=0):
        params = {"type": kind, "x": x, "y": y, "button": "left" if clicks else "none",
                  "clickCount": clicks}
        self.call("Input.dispatchMouseEvent", params)

    def click(self, x, y):
        self.mouse("mouseMoved", x, y)
        self.call("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x, "y": y,
                                               "button": "left", "clickCount": 1})
        self.call("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x, "y": y,
                                               "button": "left", "clickCount": 1})

    def type_text(self, text):
        self.call("Input.insertText", {"text": text})

    def key(self, key, code, vk, modifiers=0):
        for kind in ("rawKeyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": code,
                                                 "windowsVirtualKeyCode": vk,
                                                 "modifiers": modifiers})

    def screenshot(self, path=None, clip=None):
        """PNG bytes of the viewport, or of clip = (x, y, width, height) in the page."""
        params = {"format": "png"}
        if clip:
            params["clip"] = dict(zip(("x", "y", "width", "height"), clip), scale=1)
        data = base64.b64decode(self.call("Page.captureScreenshot", params)["data"])
        if path:
            with open(path, "wb") as f:
                f.write(data)
        return data

    def close(self):
        try:
            self.call("Browser.close", session=False, timeout=5)
        except CDPError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self._profile_dir, ignore_errors=True)


def png_pixels(data):
    """(width, height, rows of RGB(A) tuples) of an 8-bit RGB/RGBA PNG, without PIL."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6):
                raise ValueError("only 8-bit RGB/RGBA")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return width, height, bpp, rows
