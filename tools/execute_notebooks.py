"""Re-execute every course notebook in place, so the committed outputs are the current ones.

Usage (from the repository root)::

    python tools/execute_notebooks.py notebooks                      # all, sorted by path
    python tools/execute_notebooks.py notebooks --only 02_recall     # names containing 02_recall
    python tools/execute_notebooks.py notebooks/01b_ab_testing.ipynb --timeout 1200

What it does, and why:

* Notebooks are found under the given folder (or taken as given), sorted by path, and
  ``.ipynb_checkpoints`` folders are skipped.
* Each runs top to bottom with nbclient on the **current Python** (kernel ``recsys-course``, started
  with ``sys.executable`` whatever kernelspecs the machine has; the notebooks name the
  course's kernel, ``recsys-course``, which ``make lab`` registers), with the notebook's folder as
  working directory, so relative paths behave as in JupyterLab.
* The kernel's environment is this process's plus the numeric-kernel pins of
  ``course/reproducibility.py`` (torch's CPU capability, MKL/OpenBLAS kernels, one thread:
  that module says why) and ``COURSE_QUIET=1``: the course's training loops turn their
  progress bars off, because a tqdm bar (its timings, its widget ids) would make the stored
  outputs differ on every run and nbval could never match them. The root ``conftest.py`` sets
  the same for nbval. ``PYTHONPATH`` entries are made absolute and the repository root is
  prepended, so ``import course`` works from the notebook's folder without an install.
* Before saving, volatile metadata is dropped: per-cell ``execution`` timings (and
  JupyterLab's ``ExecuteTime``) and the notebook-level ``widgets`` state, whose random model
  ids change on every run. The kernelspec is set to ``recsys-course``, so JupyterLab starts
  the course's kernel (with the pins) when a learner opens the notebook. Diffs then show only outputs
  that really changed.
* It stops at the first error, prints which notebook and cell failed, exits 1 and leaves that
  notebook's file untouched (a half-executed notebook is never written). Cells tagged
  ``raises-exception`` may raise, as in nbclient and nbval.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from traitlets import default

REPO_ROOT = Path(__file__).resolve().parent.parent
KERNELSPEC = {"name": "recsys-course", "display_name": "Recsys course (.venv)", "language": "python"}
VOLATILE_CELL_METADATA = ("execution", "ExecuteTime")
VOLATILE_NOTEBOOK_METADATA = ("widgets",)


def _load_reproducibility():
    """course/reproducibility.py from its file: importing `course` would load torch here."""
    spec = importlib.util.spec_from_file_location("_course_reproducibility",
                                                  REPO_ROOT / "course" / "reproducibility.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class CurrentPythonKernelSpecs(KernelSpecManager):
    """Resolve ``recsys-course`` to this interpreter, not to a kernel.json found on the machine."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name != KERNELSPEC["name"]:
            return super().get_kernel_spec(kernel_name)
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name=KERNELSPEC["display_name"], language="python", resource_dir="",
        )


class CurrentPythonKernelManager(AsyncKernelManager):
    """A kernel manager using :class:`CurrentPythonKernelSpecs`.

    Passed as nbclient's ``kernel_manager_class`` (not as a ready ``km``) so that nbclient owns
    it and shuts each kernel down after its notebook: otherwise every kernel, torch loaded,
    would live until the whole run ends.
    """

    @default("kernel_spec_manager")
    def _kernel_spec_manager_default(self) -> KernelSpecManager:
        return CurrentPythonKernelSpecs(data_dir=self.data_dir)


def find_notebooks(target: str | Path, only: str | None = None) -> list[Path]:
    """Notebooks under ``target`` (a folder or one ``.ipynb``), sorted, without checkpoints.

    ``only`` keeps the notebooks whose path relative to ``target`` contains it.
    """
    target = Path(target)
    if target.is_file():
        if target.suffix != ".ipynb":
            raise ValueError(f"not a notebook: {target}")
        found, base = [target], target.parent
    elif target.is_dir():
        found = [p for p in target.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts]
        base = target
    else:
        raise ValueError(f"no such notebook or folder: {target}")
    if only is not None:
        found = [p for p in found if only in str(p.relative_to(base))]
    return sorted(found, key=lambda p: str(p.relative_to(base)))


def strip_volatile_metadata(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop run-specific metadata in place and pin the kernelspec; return the notebook."""
    for key in VOLATILE_NOTEBOOK_METADATA:
        notebook.metadata.pop(key, None)
    notebook.metadata["kernelspec"] = nbformat.from_dict(KERNELSPEC)
    for cell in notebook.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
    return notebook


def kernel_environment() -> dict[str, str]:
    """This process's environment, plus the kernel pins, COURSE_QUIET=1 and an absolute PYTHONPATH."""
    env = _load_reproducibility().pin_environment(dict(os.environ))
    env["COURSE_QUIET"] = "1"
    # The kernel runs in the notebook's folder: a relative entry such as "." would point there.
    entries = [str(REPO_ROOT)] + [str(Path(p).resolve()) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(entries))
    return env


class NotebookFailed(RuntimeError):
    """A cell raised (or timed out); the message names the notebook and the cell."""


def execute_notebook(path: str | Path, timeout: int = 600) -> float:
    """Execute one notebook in place; return its wall time in seconds.

    Raises
    ------
    NotebookFailed
        When a cell raises or exceeds ``timeout`` seconds; the file is then left unchanged.
    """
    path = Path(path).resolve()
    notebook = nbformat.read(path, as_version=4)
    current = {"index": None}

    def remember(cell, cell_index, **_):
        current["index"] = cell_index

    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name=KERNELSPEC["name"],
        kernel_manager_class=CurrentPythonKernelManager,
        resources={"metadata": {"path": str(path.parent)}},  # working directory of the kernel
        record_timing=False,
        on_cell_start=remember,
    )
    start = time.perf_counter()
    try:
        client.execute(env=kernel_environment())
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        index = current["index"]
        source = notebook.cells[index].source.strip().splitlines() if index is not None else []
        if isinstance(error, CellExecutionError):
            what = f"{error.ename}: {error.evalue}"
        elif isinstance(error, CellTimeoutError):
            what = f"timed out after {timeout} s"
        else:
            what = f"the kernel died: {error}"
        where = "before the first cell" if index is None else f"cell {index + 1} of {len(notebook.cells)}"
        raise NotebookFailed(
            f"{path.name}, {where}: {what}\n    first line: {source[0] if source else ''}"
        ) from error
    seconds = time.perf_counter() - start
    nbformat.write(strip_volatile_metadata(notebook), path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="a folder of notebooks (searched recursively) or one .ipynb")
    parser.add_argument("--only", metavar="NAME_SUBSTRING", help="run only notebooks whose path contains this")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    args = parser.parse_args(argv)
    if args.timeout < 1:
        parser.error("--timeout must be >= 1")
    try:
        notebooks = find_notebooks(args.target, args.only)
    except ValueError as error:
        parser.error(str(error))
    if not notebooks:
        print(f"no notebooks found in {args.target}" + (f" matching {args.only!r}" if args.only else ""),
              file=sys.stderr)
        return 2
    total = 0.0
    for path in notebooks:
        print(f"{path} ...", end=" ", flush=True)
        try:
            seconds = execute_notebook(path, args.timeout)
        except NotebookFailed as failure:
            print("FAILED")
            print(f"error in {failure}", file=sys.stderr)
            return 1
        total += seconds
        print(f"ok ({seconds:.1f} s)", flush=True)
    print(f"executed {len(notebooks)} notebook(s) in {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
