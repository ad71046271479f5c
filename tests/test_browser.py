"""The widgets in a real browser: JupyterLab on 127.0.0.1 driven by Debian's Chromium (Playwright).

Run it alone with ``pytest tests/test_browser.py`` (about 4 minutes on 2 busy cores). It needs
``chromium`` (``apt-get install chromium``) and Playwright for Python (in requirements.txt); no
``playwright install``: Chromium is launched from ``/usr/bin/chromium``. Without them the test
is skipped with the reason, except under ``CI=true``, where it fails.

For notebooks 00, 06, 07 and 08, each on a temporary copy:

* opened before any run (untrusted): no raw widget text, no "Error displaying widget";
* run all cells: every widget output renders as controls, no error output, no Python error on
  the kernel's IOPub channel or in the kernel's log, no page console error;
* a slider moved with the keyboard changes the picture (the <img> bytes); the time from key
  press to new picture is recorded;
* the Studio (08): the weights dropdown shows a value; a gallery pick, an upload through the
  file chooser (a real PNG) and a broken file (one-line message); glow visibly changes a
  picture with highlights; the progress bar moves through the generator pass;
* saved, closed (kernel shut down) and reopened: no "model not found", no raw text, the static
  stand-ins shown; the saved file holds no widget view.

Screenshots and ``latency.json`` (slider-to-picture seconds, with the CPU) go to
``artifacts/browser/`` (git-ignored; CI keeps it).
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "browser"
NOTEBOOKS = ("00_quickstart", "06_color_grading_and_glow", "07_quantized_cpu_inference", "08_studio")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RAW_WIDGET_TEXT = re.compile(
    r"interactive\(children=|\b[A-Z][A-Za-z]*(Box|Slider|Dropdown|Upload)\((children|value)="
)
RUN_TIMEOUT_S = 420  # notebook 07 runs its live benchmark: minutes on a loaded 2-core machine

LATENCY: dict[str, dict[str, float]] = {}
_LAB: list = []  # the running server, for the helpers that read its log
_OPENED: list = []  # notebooks opened so far (each in its own workspace)


def _need(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser test must run in CI)")
    pytest.skip(reason)


def _chromium() -> str:
    """Debian's chromium (or the executable ``ANIMEGAN_EDU_CHROMIUM`` names)."""
    wanted = os.environ.get("ANIMEGAN_EDU_CHROMIUM")
    if wanted:
        path = wanted if Path(wanted).is_file() else None
    else:
        path = shutil.which("chromium") or (
            "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
        )
    if path is None:
        _need(f"chromium not found{f' at {wanted}' if wanted else ''}: apt-get install -y chromium")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settings(path: Path, plugin: str, values: dict) -> None:
    f = path / plugin.replace(":", "/")
    f = f.with_name(f.name + ".jupyterlab-settings")
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(json.dumps(values))


class Lab:
    """A JupyterLab server on 127.0.0.1 over a temporary copy of the notebooks."""

    def __init__(self, tmp: Path) -> None:
        from animegan_edu.studio.live import install_jupyter_config

        self.tmp = tmp
        self.root = tmp / "root"
        (self.root / "notebooks").mkdir(parents=True)
        for nb in NOTEBOOKS:  # copies (the .ipynb alone: jupytext writes its .py pair on save)
            shutil.copy(ROOT / "notebooks" / f"{nb}.ipynb", self.root / "notebooks" / f"{nb}.ipynb")
        config, self.runtime, settings = tmp / "config", tmp / "runtime", tmp / "settings"
        install_jupyter_config(config)  # what `make install` does for the project's venv
        _settings(settings, "@jupyterlab/docmanager-extension:plugin", {"autosave": False})
        _settings(settings, "@jupyterlab/notebook-extension:tracker", {"windowingMode": "none"})
        _settings(
            settings,
            "@jupyterlab/apputils-extension:notification",
            {"fetchNews": "false", "checkForUpdates": False},
        )
        self.port, self.token = _free_port(), base64.b32encode(os.urandom(15)).decode().lower()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(
            os.environ,
            JUPYTER_CONFIG_DIR=str(config),
            JUPYTER_RUNTIME_DIR=str(self.runtime),
            JUPYTER_DATA_DIR=str(tmp / "data"),
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
            OMP_NUM_THREADS="1",
            ANIMEGAN_EDU_OFFLINE="1",
            MPLBACKEND="module://matplotlib_inline.backend_inline",
        )
        self.log_path = tmp / "lab.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.root}",
                "--ServerApp.open_browser=False",
                "--ServerApp.allow_root=True",
            ],
            cwd=self.root,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 120
        while True:
            try:
                self.api("GET", "/api/status")
                break
            except Exception:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"JupyterLab did not start:\n{self.log()[-3000:]}")
                time.sleep(0.5)

    def api(self, method: str, path: str):
        req = urllib.request.Request(
            self.url + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            body = r.read()
        return json.loads(body) if body else None

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def kernel_state(self, notebook: str):
        for s in self.api("GET", "/api/sessions"):
            if s["path"].endswith(f"{notebook}.ipynb"):
                return s["kernel"]["id"], s["kernel"]["execution_state"]
        return None, None

    def shutdown_kernels(self) -> None:
        for s in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{s['id']}")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


class IOPubWatch:
    """Subscribes to every kernel's IOPub channel (by its connection file) and keeps the errors."""

    def __init__(self, runtime: Path) -> None:
        self.runtime, self.errors, self._seen = runtime, [], set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from jupyter_client import BlockingKernelClient

        clients = []
        while not self._stop.is_set():
            for f in self.runtime.glob("kernel-*.json"):
                if f not in self._seen:
                    try:
                        c = BlockingKernelClient(connection_file=str(f))
                        c.load_connection_file()
                    except (ValueError, OSError):  # still being written: next round
                        continue
                    self._seen.add(f)
                    c.start_channels(shell=False, stdin=False, hb=False, control=False)
                    clients.append(c)
            for c in clients:
                try:
                    while True:
                        msg = c.get_iopub_msg(timeout=0.05)
                        kind, content = msg["msg_type"], msg["content"]
                        if kind == "error" or (
                            kind == "stream"
                            and content.get("name") == "stderr"
                            and "Traceback" in content.get("text", "")
                        ):
                            detail = content.get("evalue", content.get("text", ""))[-1500:]
                            self.errors.append(f"{kind}: {content.get('ename', '')} {detail}")
                except Exception:
                    pass
            time.sleep(0.2)
        for c in clients:
            c.stop_channels()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    _chromium()
    try:
        import playwright  # noqa: F401
    except ImportError:
        _need("playwright is not installed: pip install playwright")
    server = Lab(tmp_path_factory.mktemp("lab"))
    watch = IOPubWatch(server.runtime)
    server.iopub = watch
    _LAB[:] = [server]
    yield server
    _LAB.clear()
    watch.close()
    server.close()


@pytest.fixture(scope="module")
def browser(lab, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser test artifacts: {ARTIFACTS}")
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=_chromium(),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1500, "height": 1100},
        )
        ctx.console_errors = []
        ctx.on("console", lambda m: ctx.console_errors.append(m.text) if m.type == "error" else None)
        ctx.on("weberror", lambda e: ctx.console_errors.append(f"page error: {e.error}"))
        yield ctx
        ctx.close()
    _write_latency()


def _write_latency() -> None:
    if not LATENCY:
        return
    from animegan_edu.machine import cpu_info

    out = {
        "what": "seconds from a slider key press (or click, or file chosen) to the new picture in the page, "
        "JupyterLab + Chromium on 127.0.0.1, kernels with OMP_NUM_THREADS=1",
        "measured_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpu": cpu_info(),
        "load_average_1min": os.getloadavg()[0],
        "notebooks": LATENCY,
    }
    path = ARTIFACTS / "latency.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"latency figures: {path}")


# --------------------------------------------------------------------------- page helpers


def _open(lab: Lab, browser, notebook: str):
    page = browser.new_page()
    # a fresh workspace each time: JupyterLab would otherwise reopen (and start kernels for) earlier tabs
    _OPENED.append(notebook)
    page.goto(f"{lab.url}/lab/workspaces/w{len(_OPENED)}/tree/notebooks/{notebook}.ipynb?token={lab.token}")
    try:
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
    except Exception:
        _shot(page, f"{notebook}-open-failed")
        raise
    _wait_idle(lab, notebook, 120)
    page.wait_for_timeout(1500)  # outputs render
    return page


def _wait_idle(lab: Lab, notebook: str, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        _, state = lab.kernel_state(notebook)
        if state == "idle":
            return
        time.sleep(0.5)
    raise AssertionError(f"{notebook}: kernel not idle after {timeout} s")


def _page_problems(page) -> list[str]:
    """Raw widget text, widget errors and error outputs anywhere in the notebook."""
    text = page.inner_text(".jp-NotebookPanel .jp-Notebook")
    problems = []
    if "Error displaying widget" in text:
        problems.append("Error displaying widget: " + text[text.index("Error displaying widget") :][:80])
    m = RAW_WIDGET_TEXT.search(text)
    if m:
        problems.append(f"raw widget text: {text[m.start() : m.start() + 60]!r}")
    for err in page.locator(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
    ).all_inner_texts():
        if "Traceback" in err or re.search(r"^\w+Error\b", err, re.M):
            problems.append(f"error output: {err[:300]}")
    return problems


def _run_all(lab: Lab, page, notebook: str) -> float:
    t0 = time.time()
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    while True:
        prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        done = prompts and all(re.search(r"\[\d+\]", p) for p in prompts)
        _, state = lab.kernel_state(notebook)
        if done and state == "idle":
            break
        problems = [p for p in _page_problems(page) if p.startswith("error output")]
        assert not problems, f"{notebook}: {problems}"
        assert time.time() - t0 < RUN_TIMEOUT_S, (
            f"{notebook}: still running after {RUN_TIMEOUT_S} s: {prompts}"
        )
        time.sleep(1)
    page.wait_for_timeout(1000)
    return time.time() - t0


def _img_bytes(page, img) -> bytes:
    b64 = page.evaluate(
        """async (img) => { const r = await fetch(img.src); const b = new Uint8Array(await r.arrayBuffer());
               let s = ''; for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
               return btoa(s); }""",
        img,
    )
    return base64.b64decode(b64)


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float32) / 255.0


def _changes_picture(page, container, action, timeout_s: float = 120) -> tuple[float, bytes, bytes]:
    """Do ``action``; wait for the <img> in ``container`` to change. (seconds, bytes before, bytes after)."""
    handle = container.element_handle()
    img_js = "(el) => { const i = el.matches('img') ? el : el.querySelector('img'); return i ? i.src : null }"
    before_src = handle.evaluate(img_js)
    assert before_src, "no picture before the change"
    before = _img_bytes(page, handle.evaluate_handle(img_js.replace("return i ? i.src : null", "return i")))
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    log_start = len(_LAB[0].log()) if _LAB else 0
    iopub_start = len(_LAB[0].iopub.errors) if _LAB else 0
    t0 = time.perf_counter()
    action()
    while True:  # wait for the new picture; stop at once if the kernel logs a Python error
        try:
            page.wait_for_function(
                f"([el, before]) => {{ const src = ({img_js})(el); return src && src !== before; }}",
                arg=[handle, before_src],
                timeout=500,
                polling="raf",
            )
            break
        except PlaywrightTimeout:
            pass
        # not yet: a Python error in the kernel, or too long a wait, fails at once
        log = _LAB[0].log()[log_start:] if _LAB else ""
        assert "Traceback (most recent call last)" not in log, (
            f"the kernel raised instead of updating the picture:\n{log[-2500:]}"
        )
        errors = _LAB[0].iopub.errors[iopub_start:] if _LAB else []
        assert not errors, "the kernel raised instead of updating the picture (IOPub):\n" + "\n".join(errors)
        assert time.perf_counter() - t0 < timeout_s, f"the picture did not change within {timeout_s} s"
    seconds = time.perf_counter() - t0
    after = _img_bytes(page, handle.evaluate_handle(img_js.replace("return i ? i.src : null", "return i")))
    return seconds, before, after


def _press(page, slider, key: str):
    def act():
        handle = slider.locator(".noUi-handle").first
        handle.focus()
        handle.press(key)

    return act


def _set_readout(slider, value: str):
    def act():
        readout = slider.locator(".widget-readout").first
        readout.click()
        readout.press("Control+a")
        readout.type(value)
        readout.press("Enter")

    return act


def _shot(locator_or_page, name: str) -> None:
    path = ARTIFACTS / f"{name}.png"
    try:
        if hasattr(locator_or_page, "scroll_into_view_if_needed"):
            locator_or_page.scroll_into_view_if_needed()
        locator_or_page.screenshot(path=str(path))
    except Exception as exc:  # a screenshot is evidence, not the check
        print(f"screenshot {name} failed: {exc}")


def _check_clean_run(lab: Lab, browser, page, notebook: str, log_start: int) -> None:
    assert _page_problems(page) == [], notebook
    log = lab.log()[log_start:]
    kernel_tracebacks = [b for b in log.split("Traceback (most recent call last)")[1:]]
    assert not kernel_tracebacks, f"{notebook}: Python traceback in the kernel's log:\n{log[-3000:]}"
    assert lab.iopub.errors == [], f"{notebook}: errors on the kernel's IOPub channel: {lab.iopub.errors}"
    assert browser.console_errors == [], f"{notebook}: page console errors: {browser.console_errors}"


def _save_close_reopen(lab: Lab, browser, page, notebook: str) -> None:
    """Save, close the page, shut the kernel down, reopen: nothing broken, stand-ins shown."""
    from animegan_edu.studio.live import STANDIN_KEY, WIDGET_VIEW, widget_output_problems

    path = lab.root / "notebooks" / f"{notebook}.ipynb"
    before = path.stat().st_mtime_ns
    page.locator(".lm-MenuBar-itemLabel", has_text="File").first.click()
    page.locator('.lm-Menu-item[data-command="docmanager:save"]').first.click()
    deadline = time.time() + 30
    while path.stat().st_mtime_ns == before:
        assert time.time() < deadline, f"{notebook}: not saved"
        time.sleep(0.2)
    page.wait_for_function("() => !document.querySelector('.lm-TabBar-tab.jp-mod-dirty')", timeout=30_000)
    page.wait_for_timeout(500)
    saved = json.loads(path.read_text())
    assert widget_output_problems(saved) == [], notebook
    assert WIDGET_VIEW not in json.dumps(saved), f"{notebook}: a widget view was saved"
    standins = [
        o for c in saved["cells"] for o in c.get("outputs", []) if (o.get("metadata") or {}).get(STANDIN_KEY)
    ]
    assert standins, f"{notebook}: the saved file lost its static stand-ins"
    page.close()
    lab.shutdown_kernels()
    again = _open(lab, browser, notebook)
    try:
        again.wait_for_timeout(1500)
        assert _page_problems(again) == [], f"{notebook} reopened"
        if notebook == "08_studio":  # the studio's static before/after figure stands in for it
            shown = again.locator(".jp-CodeCell").first.locator(
                '.jp-OutputArea-output[data-mime-type="image/jpeg"] img'
            )
        else:
            shown = again.locator(".jp-OutputArea-output", has_text="run this cell in JupyterLab")
        assert shown.count() >= 1, f"{notebook} reopened: no static stand-in shown"
        _shot(shown.first, f"{notebook}-reopened")
    finally:
        again.close()
        lab.shutdown_kernels()


def _run_notebook(lab: Lab, browser, notebook: str):
    log_start = len(lab.log())
    page = _open(lab, browser, notebook)
    assert _page_problems(page) == [], f"{notebook} before running (untrusted, stored outputs)"
    seconds = _run_all(lab, page, notebook)
    print(f"{notebook}: all cells ran in {seconds:.0f} s")
    return page, log_start


# --------------------------------------------------------------------------- the notebooks


def test_00_quickstart_sliders(lab, browser):
    nb = "00_quickstart"
    page, log_start = _run_notebook(lab, browser, nb)
    ui = page.locator(".widget-interact").first
    assert ui.locator(".widget-slider").count() == 2
    seconds, before, after = _changes_picture(
        page, ui, _press(page, ui.locator(".widget-slider").nth(1), "ArrowLeft")
    )
    assert before != after
    LATENCY.setdefault(nb, {})["strength slider (generator re-runs, 256 px)"] = round(seconds, 3)
    _shot(ui, f"{nb}-sliders")
    _check_clean_run(lab, browser, page, nb, log_start)
    _save_close_reopen(lab, browser, page, nb)


def test_06_grading_sliders(lab, browser):
    nb = "06_color_grading_and_glow"
    page, log_start = _run_notebook(lab, browser, nb)
    uis = page.locator(".widget-interact")
    assert uis.count() == 5
    names = ["channel gains", "S-curve", "saturation", "CLAHE", "glow"]
    for i, name in enumerate(names):
        ui = uis.nth(i)
        seconds, before, after = _changes_picture(
            page, ui, _press(page, ui.locator(".widget-slider").first, "ArrowLeft")
        )
        assert before != after, name
        LATENCY.setdefault(nb, {})[f"{name} slider"] = round(seconds, 3)
    _shot(uis.nth(4), f"{nb}-glow-slider")
    _check_clean_run(lab, browser, page, nb, log_start)
    _save_close_reopen(lab, browser, page, nb)


def test_07_quantized_sliders(lab, browser):
    nb = "07_quantized_cpu_inference"
    page, log_start = _run_notebook(lab, browser, nb)
    box = page.locator(".jp-OutputArea-output .widget-vbox").filter(has=page.locator(".widget-slider")).first
    assert box.locator(".widget-slider").count() == 2 and box.locator("select").count() == 1
    seconds, before, after = _changes_picture(
        page, box, _press(page, box.locator(".widget-slider").first, "ArrowRight")
    )
    assert before != after
    LATENCY.setdefault(nb, {})["size slider 192 -> 256 px (INT8, timed 3 times)"] = round(seconds, 3)
    _shot(box, f"{nb}-explorer")
    _check_clean_run(lab, browser, page, nb, log_start)
    _save_close_reopen(lab, browser, page, nb)


def _status(studio) -> str:
    return studio.locator(".animegan-studio-status").inner_text()


def test_08_studio(lab, browser, tmp_path):
    nb = "08_studio"
    page, log_start = _run_notebook(lab, browser, nb)
    studio = page.locator(".animegan-studio").first
    view = studio.locator(".animegan-studio-view")
    lat = LATENCY.setdefault(nb, {})
    # the only thing the output shows is the live studio: no static figure under it
    out = page.locator(".jp-OutputArea-output").filter(has=studio)
    assert out.count() == 1 and out.locator("img").count() == studio.locator("img").count()

    # gallery labels fit their buttons (no "astron…"), and nothing promises drag-and-drop
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        button = studio.locator(".animegan-studio-gallery button", has_text=name)
        assert button.evaluate("(b) => b.scrollWidth <= b.clientWidth"), f"gallery label {name!r} is cut"
    assert "drag" not in studio.inner_text().lower()

    weights = studio.locator(".animegan-studio-weights select")
    chosen = weights.evaluate("(s) => s.selectedIndex >= 0 ? s.options[s.selectedIndex].text : ''")
    assert chosen.strip(), "the weights dropdown is blank"
    offered = weights.evaluate("(s) => Array.from(s.options).map((o) => o.value)")
    for name in ("demo", "wesnoth", "hedgewars"):  # the bundled style weights of notebook 09
        assert name in offered, f"the weights menu does not offer {name}: {offered}"

    # cheap sliders: strength and split (the cached stylised image is re-finished)
    seconds, before, after = _changes_picture(
        page, view, _press(page, studio.locator(".animegan-studio-strength"), "ArrowLeft")
    )
    assert before != after
    lat["strength slider"] = round(seconds, 3)
    seconds, before, after = _changes_picture(
        page, view, _press(page, studio.locator(".animegan-studio-split"), "ArrowRight")
    )
    assert before != after
    lat["before|after split"] = round(seconds, 3)

    # a gallery pick re-runs the generator
    button = studio.locator(".animegan-studio-gallery button", has_text="rocket")
    seconds, before, after = _changes_picture(page, view, lambda: button.click())
    assert before != after and "rocket" in _status(studio)
    lat["gallery pick (generator re-runs, 320 px)"] = round(seconds, 3)

    # glow on a picture with highlights: the whole view shows the stylised result (split at 0)
    _changes_picture(page, view, _press(page, studio.locator(".animegan-studio-split"), "Home"))
    glow = studio.locator(".animegan-studio-glow")
    _changes_picture(page, view, _set_readout(glow, "0"))
    seconds, off, on = _changes_picture(page, view, _set_readout(glow, "1.5"))
    lat["glow slider"] = round(seconds, 3)
    change = np.abs(_pixels(on) - _pixels(off)).max(axis=2).ravel()
    p99 = float(np.quantile(change, 0.99))
    assert p99 >= 0.1, f"glow 0 -> 1.5 moved the brightest-changed 1% of pixels by only {p99:.3f}"
    assert float(change.mean()) > 0.003, float(change.mean())
    _shot(studio, f"{nb}-glow")

    # the size slider re-runs the generator once released (debounced); the bar moves through the pass
    bar = studio.locator(".animegan-studio-progress .progress-bar")
    bar.evaluate("""(bar) => { window.__bar = [];
        new MutationObserver(() => window.__bar.push(parseFloat(bar.style.width)))
            .observe(bar, {attributes: true}); }""")
    label = studio.locator(".animegan-studio-progress .widget-label")
    label.evaluate("""(el) => { window.__label = [];
        new MutationObserver(() => window.__label.push(el.textContent))
            .observe(el, {childList: true, characterData: true, subtree: true}); }""")
    size = studio.locator(".animegan-studio-size")
    seconds, before, after = _changes_picture(page, view, _press(page, size, "ArrowRight"))
    assert max(_pixels(after).shape[:2]) == 384, _pixels(
        after
    ).shape  # the re-rendered picture, not an earlier one
    lat["size slider 320 -> 384 px (generator re-runs, after the 0.5 s debounce)"] = round(seconds, 3)
    widths = page.evaluate("window.__bar")
    partial = sorted({w for w in widths if 0 < w < 100})
    assert len(partial) >= 3, f"the progress bar did not move through the pass: widths {widths}"
    assert widths[-1] == 100
    labels = page.evaluate("window.__label")
    assert any(t.startswith("generating…") for t in labels), labels  # says what it is doing
    # two quick arrow presses (384 -> 448 -> 512) make one generator pass, at the last size
    page.evaluate("window.__bar = []")

    def two_presses():
        handle = size.locator(".noUi-handle").first
        handle.focus()
        handle.press("ArrowRight")
        handle.press("ArrowRight")

    _, _, after = _changes_picture(page, view, two_presses)
    page.wait_for_function("(bar) => bar.style.width === '100%'", arg=bar.element_handle(), timeout=60_000)
    page.wait_for_timeout(1500)  # a second pass, if any, would start within the 0.5 s debounce
    widths = page.evaluate("window.__bar")
    assert max(_pixels(after).shape[:2]) == 512 and widths.count(0) == 1, (
        f"passes: {widths.count(0)}, widths {widths}"
    )

    # upload through the file chooser: a real PNG, then a broken file
    photo = tmp_path / "my_photo.png"
    g = np.random.default_rng(0)
    Image.fromarray((g.random((30, 40, 3)) * 255).astype(np.uint8)).resize((200, 150)).save(photo)
    upload = studio.locator(".animegan-studio-upload")

    def choose(path: Path):
        def act():
            with page.expect_file_chooser() as chooser:
                upload.click()
            chooser.value.set_files(str(path))

        return act

    seconds, before, after = _changes_picture(page, view, choose(photo))
    assert "my_photo.png" in _status(studio) and _pixels(after).shape[:2] != _pixels(before).shape[:2]
    lat["upload (file chosen -> picture, 320 px)"] = round(seconds, 3)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"this is not a picture")
    choose(broken)()
    page.wait_for_function(
        "(el) => el.innerText.includes('broken.png')",
        arg=studio.locator(".animegan-studio-status").element_handle(),
        timeout=30_000,
    )
    message = _status(studio).strip()
    assert "broken.png: not a readable image" in message and len(message.splitlines()) == 1, message
    _shot(studio, f"{nb}-studio")

    # 1024 px: the long whole-image pass reports progress (the bar moves through it)
    _changes_picture(
        page, view, lambda: studio.locator(".animegan-studio-gallery button", has_text="chelsea").click()
    )
    page.wait_for_function("(bar) => bar.style.width === '100%'", arg=bar.element_handle(), timeout=60_000)
    page.evaluate("window.__bar = []")
    seconds, before, after = _changes_picture(
        page, view, _set_readout(studio.locator(".animegan-studio-size"), "1024"), timeout_s=300
    )
    assert max(_pixels(after).shape[:2]) == 1024, _pixels(after).shape
    lat["size slider to 1024 px (generator re-runs, after the 0.5 s debounce)"] = round(seconds, 3)
    widths = page.evaluate("window.__bar")
    partial = sorted({w for w in widths if 0 < w < 100})
    assert len(partial) >= 8 and widths[-1] == 100, (
        f"1024 px: the bar did not move through the pass: {widths}"
    )
    _check_styles(page, studio, view, tmp_path, lat)
    _check_clean_run(lab, browser, page, nb, log_start)
    _save_close_reopen(lab, browser, page, nb)


def _check_styles(page, studio, view, tmp_path: Path, lat: dict) -> None:
    """The style-conditioned weights: style menu, mixing slider and reference art (notebook 11)."""
    _changes_picture(page, view, _set_readout(studio.locator(".animegan-studio-size"), "320"))
    style = studio.locator(".animegan-studio-style select")
    assert style.is_disabled()  # only for the style-conditioned weights
    weights = studio.locator(".animegan-studio-weights select")
    labels = weights.evaluate("(s) => Array.from(s.options).map((o) => o.text.replace(/\\s/g, ' '))")
    styles = [i for i, t in enumerate(labels) if t.startswith("styles (one model:")]
    assert len(styles) == 1, labels
    seconds, before, after = _changes_picture(page, view, lambda: weights.select_option(index=styles[0]))
    assert before != after and "weights: styles" in _status(studio) and not style.is_disabled()
    lat["weights -> styles (generator re-runs, 320 px)"] = round(seconds, 3)
    names = style.evaluate("(s) => Array.from(s.options).map((o) => o.text.replace(/\\s/g, ' '))")
    assert len(names) >= 4 and names[-1].startswith("reference art"), names  # 3+ styles and reference art
    seconds, before, after = _changes_picture(page, view, lambda: style.select_option(index=1))
    assert before != after and f"weights: styles, {names[1]}" in _status(studio)
    lat["style menu (generator re-runs, 320 px)"] = round(seconds, 3)
    studio.locator(".animegan-studio-mix-with select").select_option(index=1)  # names[0] (after "none")
    page.wait_for_function(  # the same picture (mix 0): wait for its pass to end
        "(bar) => bar.style.width === '100%'",
        arg=studio.locator(".animegan-studio-progress .progress-bar").element_handle(), timeout=60_000,
    )  # fmt: skip
    mix = studio.locator(".animegan-studio-mix")
    seconds, before, after = _changes_picture(page, view, _set_readout(mix, "0.5"))
    assert before != after and f"{names[1]} with 50% {names[0]}" in _status(studio), _status(studio)
    lat["mix slider to 0.5 (generator re-runs, 320 px)"] = round(seconds, 3)
    art = tmp_path / "my_art.png"
    g = np.random.default_rng(1)
    Image.fromarray((g.random((8, 8, 3)) * 255).astype(np.uint8)).resize((160, 120), Image.NEAREST).save(art)
    upload = studio.locator(".animegan-studio-reference")
    assert upload.count() == 1

    def choose_art():
        with page.expect_file_chooser() as chooser:
            upload.click()
        chooser.value.set_files(str(art))

    seconds, before, after = _changes_picture(page, view, choose_art)
    assert "the style of 1 reference picture" in _status(studio), _status(studio)
    assert style.evaluate("(s) => s.selectedIndex") == len(names) - 1
    lat["reference art (file chosen -> picture, 320 px)"] = round(seconds, 3)
    _shot(studio, "08_studio-styles")
