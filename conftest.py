"""Root pytest configuration, shared by unit tests, doctests and the nbval notebook run.

Two things go into the environment here, before any test module imports torch or numpy, so
that this process and every notebook kernel nbval starts (kernels inherit the environment)
compute the same numbers as the stored outputs:

* the numeric-kernel pins (torch's CPU capability, MKL and OpenBLAS kernels, one thread,
  hash seed): why each is needed is in ``course/reproducibility.py``, the one place they are
  defined; ``tools/execute_notebooks.py`` and the kernel ``make lab`` registers use the same;
* ``COURSE_QUIET=1``, which turns the course's progress bars off (their timings would differ on
  every run). tools/execute_notebooks.py sets it too.
"""
import importlib.util
import os
from pathlib import Path

# Loaded from its file, not as `course.reproducibility`: importing the package would import
# torch before the pins are in the environment (torch reads them once, at load time).
_spec = importlib.util.spec_from_file_location(
    "_course_reproducibility", Path(__file__).parent / "course" / "reproducibility.py")
_reproducibility = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_reproducibility)
_reproducibility.pin_environment(os.environ)
os.environ.setdefault("COURSE_QUIET", "1")

collect_ignore_glob = ["tests/artifacts/*", "notebooks/solutions/*", "benchmarks/*", "tools/*"]
