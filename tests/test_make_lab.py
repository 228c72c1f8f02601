"""`make lab` serves JupyterLab: started, polled until the server answers, stopped.

Run as root (a container, a classroom image, CI) JupyterLab refuses to start without
``--allow-root``; the Makefile adds it for root only. When this test runs as root it also
starts the server as an unprivileged user (``nobody``), the way a learner's own account would.
The test drives the environment `make` built (``VENV`` = this interpreter's prefix), so it
never installs anything.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.prefix)
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_and_poll(prefix: list[str], env: dict, timeout: float = 90.0) -> dict:
    """Run `make lab` (after `prefix`, e.g. runuser), wait for /api/status, stop; return it."""
    port, token = free_port(), "course-test-token"
    flags = f"--no-browser --ip=127.0.0.1 --port={port} --ServerApp.port_retries=0 --IdentityProvider.token={token}"
    command = prefix + ["make", "--no-print-directory", "-C", str(REPO_ROOT), "lab",
                        f"VENV={VENV}", f"LAB_FLAGS={flags}"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True, text=True)
    url = f"http://127.0.0.1:{port}/api/status?token={token}"
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"`make lab` exited with {process.returncode}:\n{process.stdout.read()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    return json.loads(response.read())
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        pytest.fail(f"JupyterLab did not answer on port {port} within {timeout:.0f} s")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)   # make, jupyter and its children
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        assert process.poll() is not None


def require_make_built_environment():
    if not (VENV / ".installed").exists():
        if os.environ.get("CI"):
            pytest.fail(f"{VENV} was not built by `make env`")
        pytest.skip(f"{VENV} was not built by `make env` (conda or another environment)")
    if shutil.which("make") is None:
        pytest.skip("make is not installed")


def test_make_lab_serves_jupyterlab_as_the_current_user(tmp_path):
    require_make_built_environment()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    status = serve_and_poll([], env)
    assert "started" in status


def test_make_lab_serves_jupyterlab_as_an_unprivileged_user(tmp_path):
    require_make_built_environment()
    if not IS_ROOT:
        pytest.skip("already running as an unprivileged user (the test above covers it)")
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("runuser is not installed")
    if subprocess.run([runuser, "-u", "nobody", "--", "test", "-r", str(REPO_ROOT / "Makefile")]).returncode:
        pytest.skip(f"user nobody cannot read {REPO_ROOT} (a private folder): nothing to test")
    if subprocess.run([runuser, "-u", "nobody", "--", str(VENV / "bin" / "python"), "-c", "pass"],
                      stderr=subprocess.DEVNULL).returncode:
        pytest.skip(f"user nobody cannot run {VENV / 'bin' / 'python'} (its interpreter lies in a "
                    "private folder, e.g. root's pyenv); the dry-run test checks the flags")
    home = tmp_path / "home"
    home.mkdir()
    shutil.chown(home, "nobody")
    tmp_path.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "XDG_", "IPYTHON"))}
    env.update(HOME=str(home), USER="nobody", LOGNAME="nobody")
    status = serve_and_poll([runuser, "-u", "nobody", "--"], env)
    assert "started" in status


def test_make_lab_adds_allow_root_for_root_only():
    """The flag JupyterLab needs as root, and only as root (a dry run: nothing starts)."""
    require_make_built_environment()
    def dry_run(prefix):
        out = subprocess.run(prefix + ["make", "--no-print-directory", "-n", "-C", str(REPO_ROOT),
                                       "lab", f"VENV={VENV}"], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return out.stdout
    assert ("--allow-root" in dry_run([])) == IS_ROOT
    runuser = shutil.which("runuser")
    if IS_ROOT and runuser is not None:
        assert "--allow-root" not in dry_run([runuser, "-u", "nobody", "--"])
