"""Check the built documentation in a real browser (headless Chromium).

Usage, from the repository root, after building the site::

    python doc/check_site.py [doc/_build/html] [--screenshots DIR] [--all-examples-executed]

The site is served on a local port and every HTML page is loaded in headless Chromium
(Debian's ``chromium`` package; ``apt-get install -y chromium``), driven through the Chrome
DevTools Protocol (the ``websocket-client`` package, in the ``doc`` extra). Each page must:

- load without a console error, an uncaught exception or a failed request, and without any
  request leaving the local server (no CDN, no web font from elsewhere);
- show every image (loaded, non-zero size), and the gallery's image files must exist and be
  non-empty;
- keep every code block within its box (no horizontal overflow: long lines wrap);
- render all its math (every math element typeset by MathJax, no MathJax error);
- contain no unresolved scikit-learn gallery reference (``sphx_glr_...`` as text).

API pages of the estimators must also show an "Examples using" gallery. With
``--all-examples-executed`` (a full gallery build), every example page must show a figure.
``--screenshots DIR`` saves a PNG of the main pages (``--full-page``: whole pages).

Exit status: 0 if every check passes, 1 with a list of the failures otherwise, 2 when
Chromium is not installed (nothing was checked).
"""

import argparse
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--hide-scrollbars", "--window-size=1280,1000", "--remote-debugging-port=0",
]
MAIN_PAGES = [
    "index.html", "which_estimator.html", "user_guide/missing.html",
    "user_guide/coordinated.html", "auto_examples/index.html",
    "auto_examples/missing/plot_imputed_halves.html", "generated/skmultimodal.MinVIRBM.html",
    "references.html",
]
PAGE_TIMEOUT = 60.0

# Run in each page once it has loaded: wait for MathJax, then measure.
PAGE_CHECKS = """
(async () => {
  const maths = Array.from(document.querySelectorAll('.math'));
  if (maths.length) {
    const t0 = Date.now();
    while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
      if (Date.now() - t0 > 20000) break;
      await new Promise(r => setTimeout(r, 50));
    }
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      await MathJax.startup.promise;
    }
  }
  await document.fonts.ready;
  const overflowing = [];
  for (const pre of document.querySelectorAll('pre')) {
    if (pre.clientWidth === 0) continue;  // not displayed
    if (pre.scrollWidth > pre.clientWidth + 1) {
      overflowing.push(pre.innerText.split('\\n').reduce(
        (a, b) => (b.length > a.length ? b : a), '').slice(0, 100));
    }
  }
  const images = Array.from(document.images).map(img => ({
    src: img.getAttribute('src'), ok: img.complete && img.naturalWidth > 0,
    lazy: img.loading === 'lazy'}));
  const unrendered = maths.filter(m => !m.querySelector('mjx-container'))
                          .map(m => m.textContent.slice(0, 80));
  return JSON.stringify({
    overflowing, images, n_math: maths.length, unrendered,
    math_errors: document.querySelectorAll('mjx-merror').length,
    stray_refs: (document.body.innerText.match(/sphx_glr_\\w+/g) || []).slice(0, 3),
    n_gallery_thumbs: document.querySelectorAll('.sphx-glr-thumbcontainer').length,
    n_example_figures: document.querySelectorAll(
      'img.sphx-glr-single-img, img.sphx-glr-multi-img').length,
    has_minigallery_heading: /Examples using/.test(document.body.innerText),
  });
})()
"""


def find_chromium():
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(root):
    """Serve ``root`` on a free local port in a background thread; returns the server."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Browser:
    """Headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, executable):
        import websocket  # the websocket-client package

        self._profile = tempfile.mkdtemp(prefix="check-site-chromium-")
        self._process = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        port_file = Path(self._profile, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self._process.poll() is not None:
                self.close()
                raise RuntimeError("Chromium did not start (no DevToolsActivePort).")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        from urllib.request import urlopen

        targets = json.load(urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = next(t for t in targets if t["type"] == "page")
        self._ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=PAGE_TIMEOUT,
                                               suppress_origin=True)
        self._id = 0
        self.events = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=1280, height=1000,
                  deviceScaleFactor=1, mobile=False)

    def call(self, method, **params):
        self._id += 1
        self._ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event, timeout=PAGE_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, message in enumerate(self.events):
                if message.get("method") == event:
                    del self.events[i]
                    return message
            self._ws.settimeout(max(0.01, deadline - time.monotonic()))
            self.events.append(json.loads(self._ws.recv()))
        raise TimeoutError(event)

    def drain(self, seconds=0.2):
        """Collect the events that arrive within ``seconds``."""
        self._ws.settimeout(seconds)
        try:
            while True:
                self.events.append(json.loads(self._ws.recv()))
        except Exception:  # the timeout: nothing more arrived
            pass
        self._ws.settimeout(PAGE_TIMEOUT)

    def close(self):
        try:
            self._ws.close()
        except Exception:
            pass
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
        shutil.rmtree(self._profile, ignore_errors=True)


def problems_of_events(events, origin):
    """Console errors, exceptions, failed and external requests among the events."""
    found = []
    for message in events:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            found.append(f"uncaught exception: {text}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            found.append(f"console.{params['type']}: {text}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            found.append(f"console error: {params['entry']['text']} "
                         f"({params['entry'].get('url', '')})")
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not url.startswith((origin, "data:", "about:", "blob:")):
                found.append(f"request leaves the site: {url}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            found.append(f"failed request: {params.get('errorText')} (type {params.get('type')})")
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            found.append(f"HTTP {params['response']['status']}: {params['response']['url']}")
    return found


def capture(browser, path, full_page):
    """Save a PNG of the page: the first 1280 x 1000 pixels, or the whole page."""
    import base64

    if full_page:
        height = browser.call("Runtime.evaluate", returnByValue=True,
                              expression="document.documentElement.scrollHeight")
        browser.call("Emulation.setDeviceMetricsOverride", width=1280, deviceScaleFactor=1,
                     height=min(int(height["result"]["value"]), 16000), mobile=False)
    data = browser.call("Page.captureScreenshot", format="png")["data"]
    path.write_bytes(base64.b64decode(data))
    if full_page:
        browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=1000,
                     deviceScaleFactor=1, mobile=False)


def check_page(browser, origin, page, screenshot=None, full_page=False):
    browser.events.clear()
    browser.call("Page.navigate", url=f"{origin}/{page}")
    browser.wait_for("Page.loadEventFired")
    result = browser.call("Runtime.evaluate", expression=PAGE_CHECKS, awaitPromise=True,
                          returnByValue=True, timeout=PAGE_TIMEOUT * 1000)
    if "exceptionDetails" in result:
        return [f"the page checks failed: {result['exceptionDetails']}"], {}
    report = json.loads(result["result"]["value"])
    browser.drain()
    found = problems_of_events(browser.events, origin)
    for line in report["overflowing"]:
        found.append(f"code block overflows its box: {line!r}")
    for image in report["images"]:
        if not image["ok"] and not image["lazy"]:
            found.append(f"image not shown: {image['src']}")
    for text in report["unrendered"]:
        found.append(f"math not rendered: {text!r}")
    if report["math_errors"]:
        found.append(f"{report['math_errors']} MathJax errors")
    for ref in report["stray_refs"]:
        found.append(f"unresolved reference shown as text: {ref}")
    if screenshot is not None:
        capture(browser, screenshot, full_page)
    return found, report


def check_files(root):
    """The gallery's image files exist and are non-empty."""
    found = []
    images = sorted(Path(root, "_images").glob("sphx_glr_*"))
    images += sorted(Path(root).glob("_downloads/**/*.png"))
    for path in images:
        if path.stat().st_size == 0:
            found.append(f"empty image file: {path.relative_to(root)}")
    return found, len(images)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build", nargs="?", default="doc/_build/html",
                        help="the built HTML site (default: doc/_build/html)")
    parser.add_argument("--screenshots", type=Path, help="save PNGs of the main pages here")
    parser.add_argument("--full-page", action="store_true",
                        help="screenshots of whole pages, not of their first screen")
    parser.add_argument("--all-examples-executed", action="store_true",
                        help="every example page must show a figure (full gallery build)")
    args = parser.parse_args(argv)
    root = Path(args.build).resolve()
    if not (root / "index.html").exists():
        parser.error(f"no built site in {root}: build the docs first.")
    executable = find_chromium()
    if executable is None:
        print("check_site: Chromium not found (apt-get install -y chromium); nothing checked.")
        return 2

    pages = sorted(str(p.relative_to(root)) for p in root.rglob("*.html")
                   if not p.relative_to(root).parts[0].startswith("_"))
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    server = serve(root)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    failures = {}
    file_problems, n_images = check_files(root)
    if file_problems:
        failures["(files)"] = file_problems
    tic = time.perf_counter()
    browser = Browser(executable)
    n_math = n_figures = 0
    try:
        for page in pages:
            shot = None
            if args.screenshots and page in MAIN_PAGES:
                shot = args.screenshots / (page.replace("/", "_").replace(".html", ".png"))
            found, report = check_page(browser, origin, page, shot, args.full_page)
            n_math += report.get("n_math", 0)
            n_figures += report.get("n_example_figures", 0)
            is_estimator = (page.startswith("generated/skmultimodal.")
                            and page.split(".")[-2][:1].isupper())
            if is_estimator and not report.get("n_gallery_thumbs"):
                found.append("an estimator's page without an 'Examples using' gallery")
            is_example = page.startswith("auto_examples/") and "/plot_" in page
            if args.all_examples_executed and is_example and not report.get(
                    "n_example_figures"):
                found.append("an example page without a figure")
            if found:
                failures[page] = found
    finally:
        browser.close()
        server.shutdown()
    seconds = time.perf_counter() - tic
    print(f"check_site: {len(pages)} pages in {seconds:.0f} s, {n_math} math elements, "
          f"{n_figures} example figures, {n_images} gallery image files.")
    for page, found in failures.items():
        print(f"  {page}:")
        for line in found[:20]:
            print(f"    - {line}")
    if failures:
        print(f"check_site: FAILED on {len(failures)} of {len(pages)} pages.")
        return 1
    print("check_site: every page passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
