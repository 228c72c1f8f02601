"""The course's widgets in a real browser: JupyterLab + headless Chromium, driven by Playwright.

nbval checks the *text* a notebook prints; it cannot see whether a slider works. This test does
what a learner does: it starts JupyterLab on 127.0.0.1, opens a copy of a notebook in headless
Chromium, runs all cells from the "Run" menu, moves the first slider of the cell that calls
``interact``, and asserts that the text printed under the slider changed. Each case saves a
screenshot under ``tests/artifacts/`` (``browser_widgets.png`` for the chapter notebook).

Two cases:

* ``harness``: a tiny notebook written here (``interact(f, x=(0, 10))``), so a failure can be
  told apart: harness broken (JupyterLab, kernel, widgets, browser) or chapter broken.
* ``01b_ab_testing``: a copy of ``notebooks/01b_ab_testing.ipynb``, whose ``interact`` sliders (traffic
  share, test length) change the printed confidence-interval width and power.

The browser is Debian's ``chromium`` (``bash tools/install_browser.sh``), launched through
Playwright's ``executable_path``: Playwright's own browser download needs a CDN that CI cannot
reach. Without Chromium or the playwright package the test is *skipped* with the reason, except
when ``CI=true``: CI installs the browser, so there a missing browser is a failure.

Isolation: the notebook is copied to a temporary folder (the repository copy is never touched);
JupyterLab gets temporary config/data/runtime folders, so a learner's own settings, workspaces
and kernels cannot change what the test sees, and the kernel ``python3`` is written there to
start *this* interpreter with the repository on ``PYTHONPATH``.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
CHAPTER_NOTEBOOK = REPO_ROOT / "notebooks" / "01b_ab_testing.ipynb"

pytestmark = pytest.mark.slow  # a real browser: minutes; `make test-fast` skips it

# Every wait is bounded, so a hung server, kernel or page fails the test instead of stalling CI.
# A passing case takes 12-25 s on a busy 2-core machine (mostly page load and kernel start).
SERVER_START_TIMEOUT_S = 60
PAGE_LOAD_TIMEOUT_S = 60
KERNEL_START_TIMEOUT_S = 60
OUTPUT_CHANGE_TIMEOUT_S = 20
SERVER_STOP_TIMEOUT_S = 10

# As root Chromium refuses to start without --no-sandbox. The background-networking flags stop
# its own calls home (updates, sync, field trials), which this machine's closed network refuses
# and which would otherwise slow or stall start-up.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm; Chromium crashes on it
]


# --------------------------------------------------------------------------------------------
# Skip (on a learner's machine) or fail (in CI) when the browser is missing
# --------------------------------------------------------------------------------------------
def find_chromium() -> str | None:
    """Path of Debian's Chromium (or any ``chromium`` on PATH), or None."""
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def missing_browser_reason() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (it is pinned in requirements.txt)"
    if find_chromium() is None:
        return ("Chromium was not found (/usr/bin/chromium or `chromium` on PATH); on "
                "Debian/Ubuntu install it with `sudo bash tools/install_browser.sh` (CI runs that "
                "script before `make test`)")
    return None


@pytest.fixture(scope="module")
def chromium_path() -> str:
    reason = missing_browser_reason()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true, so the browser test must run, but {reason}")
        pytest.skip(f"browser test skipped: {reason}")
    return find_chromium()


# --------------------------------------------------------------------------------------------
# The notebooks under test
# --------------------------------------------------------------------------------------------
def write_harness_notebook(path: Path) -> None:
    """The smallest notebook with a working ``interact``: the printed text depends on x."""
    notebook = new_notebook(cells=[
        new_markdown_cell("# Browser-test harness\nA slider whose printed output depends on `x`."),
        new_code_cell("import importlib.util, sys\nfrom ipywidgets import interact\n"
                      "print('kernel python:', sys.executable)\n"
                      "print('course from:', importlib.util.find_spec('course').origin)"),
        new_code_cell("def f(x):\n    print(f'x = {x}, x squared = {x * x}')"),
        new_code_cell("interact(f, x=(0, 10));"),
    ])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, path)


def copy_chapter_notebook(path: Path) -> None:
    """The chapter as a learner first opens it after "Clear All Outputs", on our kernel."""
    notebook = nbformat.read(CHAPTER_NOTEBOOK, as_version=4)
    # Stored outputs go: their execution counts would look like a finished run before the run,
    # and their stored widget views point at models that no longer exist.
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.metadata.pop("widgets", None)
    # The course kernel may be called "recsys-course" on a learner's machine; here the kernel is
    # the interpreter running the test, registered as python3 in the server's private JUPYTER_PATH.
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, path)


def interact_cell_index(path: Path) -> int:
    """Index (among all cells) of the first code cell whose code calls ``interact``."""
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        code_lines = [line.split("#", 1)[0] for line in cell.source.splitlines()]
        if any(re.search(r"\binteract\s*\(", line) for line in code_lines):
            return index
    raise AssertionError(f"{path.name}: no code cell calls interact(...)")


# Appended to every copy as its last cell: once its text is on the page, every cell before it
# has run (the kernel runs cells in order and drops the rest after an exception). Execution
# counts could not tell: cells whose source is hidden (the chapters' solutions) show none.
SENTINEL = "browser test: every cell ran"


def append_sentinel(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(new_code_cell(f"print({SENTINEL!r})"))
    nbformat.write(notebook, path)


CASES = {
    # case id: (how to write the notebook, screenshot name, seconds allowed for "Run All")
    "harness": (write_harness_notebook, "browser_widgets_harness.png", 60),
    "01b_ab_testing": (copy_chapter_notebook, "browser_widgets.png", 150),
}


# --------------------------------------------------------------------------------------------
# JupyterLab server (one per module, on a free loopback port, always stopped)
# --------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_private_jupyter_dirs(base: Path) -> dict[str, str]:
    """Temporary Jupyter dirs: a python3 kernel on *this* interpreter, quiet, predictable UI.

    JUPYTER_PATH is replaced, not extended: kernels or extensions from the caller's own
    JUPYTER_PATH must not change what the test sees."""
    config_dir, data_dir, runtime_dir = base / "config", base / "data", base / "runtime"
    # A python3 kernel with an absolute interpreter path. It goes in a folder named by
    # JUPYTER_PATH, which Jupyter searches before everything else; JUPYTER_DATA_DIR would not do:
    # inside a virtual environment jupyter_core prefers the environment's own python3 (argv: a
    # bare "python") to the user data dir.
    kernel_dir = base / "path" / "kernels" / "python3"
    kernel_dir.mkdir(parents=True)
    (kernel_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (browser test)",
        "language": "python",
    }))
    settings = config_dir / "lab" / "user-settings" / "@jupyterlab"
    user_settings = {
        # No news/update prompts: they would reach out to the internet and cover the page.
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False,
                                             "doNotDisturbMode": True},
    }
    for name, values in user_settings.items():
        target = settings / f"{name}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    # No "is the build up to date?" request from the page: the server would scan every
    # extension's package.json, tens of seconds on a busy 2-core machine, for nothing.
    (config_dir / "labconfig").mkdir(parents=True)
    (config_dir / "labconfig" / "page_config.json").write_text(
        json.dumps({"buildCheck": False, "buildAvailable": False}))
    runtime_dir.mkdir()
    return {"JUPYTER_CONFIG_DIR": str(config_dir), "JUPYTER_DATA_DIR": str(data_dir),
            "JUPYTER_RUNTIME_DIR": str(runtime_dir), "JUPYTER_PATH": str(base / "path")}


def api(base_url: str, token: str, path: str, method: str = "GET", timeout: float = 5):
    request = urllib.request.Request(f"{base_url}{path}", method=method,
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read()
    return json.loads(body) if body else None


def log_tail(log_path: Path, lines: int = 40) -> str:
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="module")
def jupyter_server(chromium_path, tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving a temporary root.

    Yields (base_url, token, root, log_path); the server (and its kernels) is stopped after the
    module's cases, whatever happened."""
    base = tmp_path_factory.mktemp("browser_widgets")
    root = base / "root"
    (root / "notebooks").mkdir(parents=True)
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, **write_private_jupyter_dirs(base / "jupyter")}
    # `import course` in the kernel without an install; COURSE_QUIET as for nbval (no tqdm bars).
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    env["COURSE_QUIET"] = "1"
    log_path = base / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False",
        f"--ServerApp.root_dir={root}", "--allow-root",
    ]
    base_url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, cwd=root, start_new_session=True)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {process.returncode} before it was "
                            f"ready. Its log ({log_path}):\n{log_tail(log_path)}")
            try:
                api(base_url, token, "/api/status", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer /api/status within "
                            f"{SERVER_START_TIMEOUT_S} s. Its log:\n{log_tail(log_path)}")
            time.sleep(0.25)
        # The kernel notebooks ask for must be this interpreter, or widgets/course may be missing.
        spec = api(base_url, token, "/api/kernelspecs")["kernelspecs"].get("python3")
        assert spec is not None and spec["spec"]["argv"][0] == sys.executable, (
            f"kernel python3 does not start {sys.executable}: {spec}")
        yield base_url, token, root, log_path
    finally:
        stop_server(process, base_url, token)


def stop_server(process: subprocess.Popen, base_url: str, token: str) -> None:
    """Shut kernels and server down through the API (kernels run in their own sessions, so
    signalling the server alone could orphan them), then make sure the process is gone."""
    if process.poll() is None:
        try:
            api(base_url, token, "/api/shutdown", method="POST", timeout=5)
            process.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - whatever went wrong, fall through to the signals
            pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass


# --------------------------------------------------------------------------------------------
# The browser side
# --------------------------------------------------------------------------------------------
# One JavaScript probe, polled: the run state of every code cell, and any modal dialog (a
# kernel that fails to start shows "Error Starting Kernel"; an unknown kernel "Select Kernel").
RUN_STATE_JS = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const cells = panel ? [...panel.querySelectorAll('.jp-Cell')] : [];
  const prompts = cells.map(c => c.classList.contains('jp-CodeCell')
      ? (c.querySelector('.jp-InputPrompt')?.textContent || '').trim() : null);
  const last = cells.length ? cells[cells.length - 1].querySelector('.jp-OutputArea') : null;
  const lastOutput = last ? last.textContent : '';
  // Tracebacks render as stderr outputs.
  const stderr = panel ? [...panel.querySelectorAll(
      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')] : [];
  const errors = stderr.map(e => e.textContent).filter(t => /Error|Traceback/.test(t));
  const dialog = document.querySelector('.jp-Dialog');
  // The status bar's kernel item reads "<kernel name> | <status>" (Initializing, Idle, Busy...).
  const status = document.querySelector('.jp-StatusBar-Widget [title^="Change kernel for"]');
  const kernel = status ? (status.textContent.split(' | ')[1] || '').trim() : null;
  return {prompts, lastOutput, errors, dialog: dialog ? dialog.innerText : null, kernel};
}"""


@dataclass
class Evidence:
    """Where a failing case points the reader: its screenshot and the server log (the part of
    the log written since the case started: the server is shared by the cases)."""

    screenshot: Path
    log_path: Path
    log_start: int = 0

    def log(self, lines: int = 25) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(self.log_start)
            text = log.read().decode(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def kernel_crash(self) -> str | None:
        """The log's account of a kernel that died during this case, or None.

        A kernel that cannot start (wrong interpreter, ipykernel missing, a broken import) dies
        in a second and jupyter_client's restarter logs "restarting kernel", while the page only
        shows "Unknown". The log also holds the kernel's own stderr ("No module named ...")."""
        text = self.log(lines=10_000)
        if "KernelRestarter: restart" in text or "died, removing from map" in text:
            return self.log()
        return None


def poll_page(page, done, timeout_s: float, what: str, evidence: Evidence) -> dict:
    """Poll RUN_STATE_JS until ``done(state)``; fail at once on a dialog or a dead kernel."""
    screenshot = evidence.screenshot
    deadline = time.monotonic() + timeout_s
    state = {}
    while time.monotonic() < deadline:
        state = page.evaluate(RUN_STATE_JS)
        crash = evidence.kernel_crash()
        if crash is not None:
            page.screenshot(path=str(screenshot))
            pytest.fail(f"while waiting for {what}, the python3 kernel died (it must start "
                        f"{sys.executable} with ipykernel). Server log:\n{crash}\n"
                        f"Screenshot: {screenshot}")
        # ("Unknown" is only a passing state while the page connects to a starting kernel.)
        if state["dialog"] or state["kernel"] == "Dead":
            page.screenshot(path=str(screenshot))
            pytest.fail(f"while waiting for {what}: kernel status {state['kernel']!r}, dialog "
                        f"{state['dialog']!r}. Screenshot: {screenshot}. "
                        f"Server log:\n{evidence.log()}")
        if done(state):
            return state
        time.sleep(0.25)
    page.screenshot(path=str(screenshot))
    pytest.fail(f"{what} did not happen within {timeout_s} s; last state {state}. "
                f"Screenshot: {screenshot}. Server log:\n{evidence.log()}")


def wait_for_run_all(page, timeout_s: float, evidence: Evidence) -> None:
    """Until the sentinel cell has printed; fail fast if a cell raised."""
    def finished(state: dict) -> bool:
        if SENTINEL in state["lastOutput"]:
            return True
        code_prompts = [p for p in state["prompts"] if p is not None]
        # After an exception the kernel drops the queued cells: nothing runs, nothing waits.
        if state["errors"] and "[*]:" not in code_prompts and state["kernel"] == "Idle":
            page.screenshot(path=str(evidence.screenshot))
            pytest.fail("a cell raised while running all cells:\n" + "\n".join(state["errors"])
                        + f"\nScreenshot: {evidence.screenshot}")
        return False

    poll_page(page, finished, timeout_s, "Run All Cells to finish", evidence)


def open_menu_item(page, menu: str, item: str) -> None:
    """Click a main-menu entry by its visible text, as a learner would."""
    page.locator("#jp-MainMenu").get_by_role("menuitem", name=menu, exact=True).click()
    page.locator(".lm-Menu:not(.lm-MenuBar) .lm-Menu-itemLabel").filter(
        has_text=re.compile(rf"^{re.escape(item)}$")).click()


def wait_for_text(locator, changed, timeout_s: float) -> str:
    """Poll ``locator``'s text until ``changed(text)`` or the timeout; return the last text."""
    deadline = time.monotonic() + timeout_s
    text = locator.inner_text()
    while not changed(text) and time.monotonic() < deadline:
        time.sleep(0.1)
        text = locator.inner_text()
    return text


@pytest.fixture(scope="module")
def browser(chromium_path):
    """Headless Debian Chromium, launched once for all cases."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, headless=True,
                                              args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def start_session(base_url: str, token: str, path: str) -> None:
    """Start the notebook's kernel through the REST API, as JupyterLab would on opening it.

    Done before the page loads, so the kernel (seconds of imports on a busy machine) starts
    while the page does; JupyterLab then attaches to this session instead of making one."""
    body = json.dumps({"path": path, "type": "notebook", "name": Path(path).name,
                       "kernel": {"name": "python3"}}).encode()
    request = urllib.request.Request(
        f"{base_url}/api/sessions", data=body, method="POST",
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=KERNEL_START_TIMEOUT_S):
            pass
    except urllib.error.HTTPError as error:
        pytest.fail(f"the python3 kernel could not be started for {path}: HTTP {error.code} "
                    f"{error.read().decode(errors='replace')[:2000]}")


def shut_down_sessions(base_url: str, token: str) -> None:
    """End the case's kernel, so the next case does not share the two cores with it."""
    try:
        for session in api(base_url, token, "/api/sessions"):
            api(base_url, token, f"/api/sessions/{session['id']}", method="DELETE", timeout=10)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        pass  # the server is gone or hung: its fixture's teardown ends it and its kernels


@pytest.mark.parametrize("case", list(CASES))
def test_slider_changes_printed_output(case, browser, jupyter_server):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    write_notebook, screenshot_name, run_all_timeout_s = CASES[case]
    if case == "01b_ab_testing" and not CHAPTER_NOTEBOOK.exists():
        pytest.skip(f"{CHAPTER_NOTEBOOK.relative_to(REPO_ROOT)} does not exist yet")
    base_url, token, root, log_path = jupyter_server
    notebook_path = root / "notebooks" / f"{case}.ipynb"
    write_notebook(notebook_path)
    append_sentinel(notebook_path)
    cell_index = interact_cell_index(notebook_path)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / screenshot_name
    screenshot.unlink(missing_ok=True)  # never leave a stale picture from an earlier run
    evidence = Evidence(screenshot, log_path, log_path.stat().st_size)
    started, phases = time.monotonic(), {}

    def phase(name: str) -> None:
        phases[name] = round(time.monotonic() - started, 1)

    start_session(base_url, token, f"notebooks/{notebook_path.name}")
    phase("kernel launched")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(PAGE_LOAD_TIMEOUT_S * 1000)
        # &reset: a fresh workspace, without the previous case's notebook tab.
        page.goto(f"{base_url}/lab/tree/notebooks/{notebook_path.name}?token={token}&reset")
        phase("page loaded")
        # The notebook is open and its kernel has started (status bar: "... | Idle").
        poll_page(page, lambda state: state["kernel"] == "Idle", KERNEL_START_TIMEOUT_S,
                  "the kernel to start", evidence)
        phase("kernel idle")
        open_menu_item(page, "Run", "Run All Cells")
        wait_for_run_all(page, run_all_timeout_s, evidence)
        phase("all cells run")

        notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
        cell = notebook.locator(".jp-Cell").nth(cell_index)
        slider = cell.locator(".jp-OutputArea .widget-slider").first
        output = cell.locator(".jp-OutputArea .widget-output").first
        try:
            slider.wait_for(state="visible", timeout=OUTPUT_CHANGE_TIMEOUT_S * 1000)
            output.wait_for(state="attached", timeout=OUTPUT_CHANGE_TIMEOUT_S * 1000)
        except PlaywrightTimeout:
            page.screenshot(path=str(screenshot))
            pytest.fail(f"cell {cell_index} calls interact but shows no slider/output "
                        f"(widget extension not loaded?). Screenshot: {screenshot}")
        slider.scroll_into_view_if_needed()
        readout = slider.locator(".widget-readout")
        handle = slider.locator(".noUi-handle").first
        before_value = wait_for_text(readout, lambda text: bool(text.strip()),
                                     OUTPUT_CHANGE_TIMEOUT_S)
        before_text = wait_for_text(output, lambda text: bool(text.strip()),
                                    OUTPUT_CHANGE_TIMEOUT_S)
        assert before_value.strip() and before_text.strip(), (
            f"the slider shows no value ({before_value!r}) or interact printed nothing under it "
            f"({before_text!r}). Screenshot: {screenshot}")
        phase("widget rendered")

        # Move it as a learner with a keyboard would: focus the handle, press an arrow;
        # right, unless the handle is already at its maximum.
        before_position = float(handle.get_attribute("aria-valuenow"))
        at_max = before_position >= float(handle.get_attribute("aria-valuemax"))
        handle.focus()
        handle.press("ArrowLeft" if at_max else "ArrowRight")
        # The readout shows the widget model's value: it changes once the move has reached it.
        after_value = wait_for_text(readout, lambda text: text != before_value, 5)
        assert after_value != before_value, (
            f"the slider did not move (readout {before_value!r}). Screenshot: {screenshot}")
        after_text = wait_for_text(output, lambda text: text != before_text and text.strip(),
                                   OUTPUT_CHANGE_TIMEOUT_S)
        phase("output changed")
        # For the picture: the callback's figure (if any) arrives after its text, so wait for the
        # kernel to finish, then show the cell from its code to the end of its output.
        poll_page(page, lambda state: state["kernel"] == "Idle", OUTPUT_CHANGE_TIMEOUT_S,
                  "the slider's callback to finish", evidence)
        cell.evaluate("element => element.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(screenshot))
        print(f"{case}: seconds since start {phases}; slider {before_value} -> {after_value};"
              f" output {before_text!r} -> {after_text!r}; screenshot {screenshot}")
        assert after_text != before_text and after_text.strip(), (
            f"moving the slider {before_value} -> {after_value} did not change the output "
            f"{before_text!r} within {OUTPUT_CHANGE_TIMEOUT_S} s. Screenshot: {screenshot}; "
            f"server log: {log_path}")
        if case == "harness":
            # The harness also checks its own wiring: right kernel, right package, right text.
            first_output = notebook.locator(".jp-Cell").nth(1).locator(
                ".jp-OutputArea").inner_text()
            assert f"kernel python: {sys.executable}" in first_output, first_output
            assert str(REPO_ROOT / "course") in first_output, first_output
            x = int(after_value)
            assert after_text.strip() == f"x = {x}, x squared = {x * x}", after_text
    except BaseException:
        if not screenshot.exists() and "page" in locals():
            try:
                page.screenshot(path=str(screenshot))
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
        raise
    finally:
        context.close()
        shut_down_sessions(base_url, token)
