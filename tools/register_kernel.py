"""Register the course's Jupyter kernel, ``recsys-course``, with the numeric-kernel pins.

Usage (``make lab`` and ``make env`` run it; conda users run it once by hand)::

    python tools/register_kernel.py            # into this environment (sys.prefix)
    python tools/register_kernel.py --user     # into ~/.local/share/jupyter instead

The notebooks name this kernel in their metadata, so JupyterLab starts it when a learner
opens one. Its kernel spec carries the pins of ``course/reproducibility.py`` in its ``env``
(why they are needed is explained there): a learner who runs a notebook sees the stored
numbers, on an AVX-512 machine too. ``tests/test_reproducibility.py`` checks the installed
spec and a kernel started from it.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
KERNEL_NAME = "recsys-course"
DISPLAY_NAME = "Recsys course (.venv)"


def load_reproducibility():
    """course/reproducibility.py, loaded from its file (importing `course` would load torch)."""
    spec = importlib.util.spec_from_file_location("_course_reproducibility",
                                                  REPO_ROOT / "course" / "reproducibility.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def register(user: bool = False, prefix: str | None = None) -> Path:
    """Install the kernel spec and return its folder."""
    from ipykernel.kernelspec import install

    env = load_reproducibility().pin_environment({})
    if prefix is None and not user:
        prefix = sys.prefix
    return Path(install(user=user, prefix=prefix, kernel_name=KERNEL_NAME,
                        display_name=DISPLAY_NAME, env=env))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", action="store_true", help="install for this user, not into sys.prefix")
    args = parser.parse_args(argv)
    where = register(user=args.user)
    print(f"registered kernel {KERNEL_NAME!r} in {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
