"""The numeric-kernel pins reach every process that computes a stored number.

Each test fails on any machine when a pin is missing: the environments are compared with
``course.reproducibility.kernel_pins()``. Where the processor is x86-64, torch must also
report the pinned capability (AVX2), which is the pin that matters on an AVX-512 CPU.
"""
import importlib.util
import json
import os
import platform
import sys
from pathlib import Path

import nbformat
import pytest
import torch
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, start_new_kernel

from course import reproducibility as R

REPO_ROOT = Path(__file__).resolve().parent.parent
ON_X86 = R.is_x86_64()
PROBE = ("import json, os, torch\n"
         "print(json.dumps({'env': dict(os.environ), "
         "'capability': torch.backends.cpu.get_cpu_capability()}))")


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def probe_kernel(kernel_name, env=None):
    """Start a kernel with nbval's own starter, run PROBE, return its environment and torch
    capability. `env=None` inherits this process's environment, as nbval's kernels do."""
    extra = {} if env is None else {"env": env}
    km, kc = start_new_kernel(kernel_name=kernel_name, startup_timeout=60,
                              stderr=open(os.devnull, "w"), **extra)
    try:
        lines = []

        def keep(msg):
            if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
                lines.append(msg["content"]["text"])

        reply = kc.execute_interactive(PROBE, output_hook=keep, timeout=120)
        assert reply["content"]["status"] == "ok", reply["content"]
        return json.loads("".join(lines))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def assert_pinned(result):
    assert R.missing_pins(result["env"]) == {}
    if ON_X86:
        assert result["capability"] == R.PINNED_TORCH_CAPABILITY


# --- the pins themselves -------------------------------------------------------------------

def test_pins_per_processor():
    x86, arm = R.kernel_pins("x86_64"), R.kernel_pins("arm64")
    assert x86 == {**R.THREAD_PINS, **R.X86_PINS}
    assert arm == R.THREAD_PINS                       # no x86 capability names on ARM
    assert R.kernel_pins("AMD64") == x86              # Windows spells it this way
    assert x86["ATEN_CPU_CAPABILITY"] == "avx2" and x86["MKL_CBWR"] == "AVX2"
    assert x86["OMP_NUM_THREADS"] == "1"


def test_pin_environment_overrides_threads_but_keeps_a_machines_openblas_coretype():
    env = R.pin_environment({"OMP_NUM_THREADS": "8", "OPENBLAS_CORETYPE": "Zen", "HOME": "/h"}, "x86_64")
    assert env["OMP_NUM_THREADS"] == "1" and env["OPENBLAS_CORETYPE"] == "Zen" and env["HOME"] == "/h"
    assert R.missing_pins(env, "x86_64") == {}
    assert R.pin_environment({}, "x86_64")["OPENBLAS_CORETYPE"] == "Haswell"


def test_missing_pins_names_each_missing_or_wrong_pin():
    for name in R.kernel_pins("x86_64"):
        env = R.pin_environment({}, "x86_64")
        del env[name]
        assert list(R.missing_pins(env, "x86_64")) == [name]
    env = R.pin_environment({}, "x86_64")
    env["ATEN_CPU_CAPABILITY"] = "avx512"
    assert R.missing_pins(env, "x86_64") == {"ATEN_CPU_CAPABILITY": ("avx512", "avx2")}


def test_bad_input():
    with pytest.raises(TypeError, match="mutable mapping"):
        R.pin_environment(("a", "b"))
    with pytest.raises(TypeError, match="machine must be a str"):
        R.kernel_pins(64)


# --- the places that apply them ------------------------------------------------------------

def test_this_test_process_is_pinned():
    """The root conftest.py pinned the environment before torch was imported."""
    assert R.missing_pins(os.environ) == {}
    if ON_X86:
        assert torch.backends.cpu.get_cpu_capability() == R.PINNED_TORCH_CAPABILITY


def test_a_kernel_started_as_nbval_does_is_pinned():
    """nbval --nbval-current-env starts kernels with this interpreter and this environment."""
    result = probe_kernel(CURRENT_ENV_KERNEL_NAME)
    assert_pinned(result)
    assert result["env"].get("COURSE_QUIET") == "1"


def test_execute_notebooks_gives_its_kernels_the_pins(monkeypatch):
    tool = load_tool("execute_notebooks")
    for name in R.kernel_pins():
        monkeypatch.delenv(name, raising=False)  # it must add them, not inherit them
    env = tool.kernel_environment()
    assert R.missing_pins(env) == {} and env["COURSE_QUIET"] == "1"
    assert tool.KERNELSPEC["name"] == load_tool("register_kernel").KERNEL_NAME


def test_every_notebook_asks_for_the_pinned_kernel():
    """JupyterLab starts the kernel a notebook names: it must be the one with the pins."""
    name = load_tool("register_kernel").KERNEL_NAME
    notebooks = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        assert nbformat.read(path, as_version=4).metadata.kernelspec.name == name, path.name


def test_register_kernel_writes_the_pins_into_the_spec(tmp_path):
    tool = load_tool("register_kernel")
    folder = tool.register(prefix=str(tmp_path))
    spec = json.loads((folder / "kernel.json").read_text())
    assert R.missing_pins(spec["env"]) == {}
    assert spec["argv"][0] == sys.executable


def test_the_registered_kernel_is_pinned_without_help_from_the_environment():
    """The kernel `make lab` registered (in this environment's prefix) carries the pins in its
    spec: started from an environment stripped of them, it is still pinned."""
    name = load_tool("register_kernel").KERNEL_NAME
    manager = KernelSpecManager()
    try:
        spec = manager.get_kernel_spec(name)
    except NoSuchKernel:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"kernel {name!r} not registered here: run `python tools/register_kernel.py` (make does)")
    assert R.missing_pins(spec.env) == {}, spec.resource_dir
    stripped = {k: v for k, v in os.environ.items() if k not in R.kernel_pins()}
    assert_pinned(probe_kernel(name, env=stripped))


@pytest.mark.skipif(not ON_X86, reason="the capability pin exists on x86-64 only")
def test_without_the_pin_this_machine_may_differ():
    """Documents what the pin changes here: torch's default is the best the CPU has."""
    result = probe_kernel(CURRENT_ENV_KERNEL_NAME,
                          env={k: v for k, v in os.environ.items() if k != "ATEN_CPU_CAPABILITY"})
    assert result["capability"] in {"AVX2", "AVX512", "DEFAULT"}
    assert "ATEN_CPU_CAPABILITY" not in result["env"]
    print(f"{platform.processor() or platform.machine()}: unpinned torch capability {result['capability']}")
