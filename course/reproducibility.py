"""The numeric-kernel pins: the one place that says which CPU code paths every run uses.

Why this exists
---------------
The notebooks are committed with their outputs, and nbval checks that a fresh run prints
the same numbers. Seeds alone do not guarantee that. PyTorch, MKL and OpenBLAS each choose
their vectorised kernels by the CPU they find. On a CPU with AVX-512, torch's reductions,
softmax and elementwise ops take AVX-512 code whose floating-point rounding differs from the
AVX2 code that wrote the stored outputs. A few ULPs in the first training step become a
different model after an epoch (02b printed 0.2035 where the stored output says 0.1937).
MKL (torch's BLAS) and OpenBLAS (numpy's) also pick different kernels per CPU, and split sums
differently with the number of threads. So every process that computes a stored number runs
with the same pins:

==========================  =========  =====================================================
variable                    value      why
==========================  =========  =====================================================
``ATEN_CPU_CAPABILITY``     avx2       torch's own kernels: AVX2 code even on AVX-512 CPUs
``MKL_CBWR``                AVX2       MKL's conditional bitwise reproducibility mode
``OPENBLAS_CORETYPE``       Haswell    numpy's BLAS: the AVX2 kernels (kept if already set:
                                       some machines set it to avoid a buggy kernel)
``OMP_NUM_THREADS``         1          thread count changes how sums are split; and torch's
``MKL_NUM_THREADS``         1          spinning OpenMP workers slowed a cell twentyfold on a
``OPENBLAS_NUM_THREADS``    1          busy 2-core machine (the models here are small)
``PYTHONHASHSEED``          0          set/dict iteration order of strings in any subprocess
==========================  =========  =====================================================

The first three only mean something on x86-64, so they are set only there (on Apple
silicon torch would warn about an unknown capability). x86-64 CPUs with AVX2 or newer
(Intel since 2013, AMD since 2015) reproduce the stored outputs exactly; other CPUs give
the same conclusions with digits that may differ (``make test-portable``).

Where the pins are applied, each pointing back here:

* ``conftest.py`` (the repository root): the test process and the kernels nbval starts;
* ``tools/execute_notebooks.py``: the kernels that write the stored outputs;
* ``tools/register_kernel.py``: the ``env`` of the Jupyter kernel ``make lab`` registers, so
  a learner who runs a notebook in JupyterLab sees the stored numbers.

``tests/test_reproducibility.py`` starts kernels both ways and fails if a pin is missing.

The pins must be in the environment *before* torch, numpy or MKL are loaded: they read
them once. That is why they are environment variables set by the launcher, not calls made
by the library (which never changes global state).
"""
from __future__ import annotations

import platform
from collections.abc import Mapping, MutableMapping

__all__ = ["THREAD_PINS", "X86_PINS", "kernel_pins", "missing_pins", "pin_environment",
           "PINNED_TORCH_CAPABILITY"]

# Meaningful on every CPU.
THREAD_PINS: dict[str, str] = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
}
# Kernel choice on x86-64 only.
X86_PINS: dict[str, str] = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_CBWR": "AVX2",
    "OPENBLAS_CORETYPE": "Haswell",
}
# Pins a machine may already set for its own reasons, which are then respected.
_KEEP_IF_SET = frozenset({"OPENBLAS_CORETYPE"})
# What torch.backends.cpu.get_cpu_capability() reports under the pins on x86-64.
PINNED_TORCH_CAPABILITY = "AVX2"


def is_x86_64(machine: str | None = None) -> bool:
    """True for an x86-64 processor (``platform.machine()`` by default)."""
    machine = platform.machine() if machine is None else machine
    if not isinstance(machine, str):
        raise TypeError(f"machine must be a str, got {type(machine).__name__}")
    return machine.lower() in {"x86_64", "amd64"}


def kernel_pins(machine: str | None = None) -> dict[str, str]:
    """The environment variables to pin on this processor (or on ``machine``).

    Examples
    --------
    >>> kernel_pins("x86_64")["ATEN_CPU_CAPABILITY"]
    'avx2'
    >>> "ATEN_CPU_CAPABILITY" in kernel_pins("arm64")
    False
    """
    pins = dict(THREAD_PINS)
    if is_x86_64(machine):
        pins.update(X86_PINS)
    return pins


def pin_environment(environ: MutableMapping[str, str], machine: str | None = None) -> MutableMapping[str, str]:
    """Write the pins into ``environ`` (e.g. ``os.environ`` or a copy of it) and return it.

    Values already set are overwritten (a stray ``OMP_NUM_THREADS=8`` would change the stored
    numbers), except ``OPENBLAS_CORETYPE``, which some machines set to avoid a faulty kernel.
    """
    if not isinstance(environ, MutableMapping):
        raise TypeError(f"environ must be a mutable mapping, got {type(environ).__name__}")
    for name, value in kernel_pins(machine).items():
        if name in _KEEP_IF_SET and environ.get(name):
            continue
        environ[name] = value
    return environ


def missing_pins(environ: Mapping[str, str], machine: str | None = None) -> dict[str, tuple[str | None, str]]:
    """Pins that ``environ`` lacks or sets differently: ``{name: (found, expected)}``.

    Examples
    --------
    >>> missing_pins({}, "arm64")["OMP_NUM_THREADS"]
    (None, '1')
    >>> missing_pins(pin_environment({}, "x86_64"), "x86_64")
    {}
    """
    wrong = {}
    for name, value in kernel_pins(machine).items():
        found = environ.get(name)
        if name in _KEEP_IF_SET and found:
            continue
        if found != value:
            wrong[name] = (found, value)
    return wrong
