"""Tests for tools/execute_notebooks.py: real kernels on tiny temporary notebooks."""
import importlib.util
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = REPO_ROOT / "tools" / "execute_notebooks.py"
_spec = importlib.util.spec_from_file_location("execute_notebooks", SCRIPT)
execute_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(execute_notebooks)


def write_notebook(path: Path, *sources: str) -> Path:
    notebook = new_notebook(cells=[new_code_cell(s) for s in sources])
    notebook.cells[0].metadata["execution"] = {"iopub.status.busy": "2024-01-01T00:00:00Z"}
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    notebook.metadata["kernelspec"] = {"name": "some-other-kernel", "display_name": "x", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    """The command line, in-process (a subprocess would pay Python's start-up again)."""
    code = execute_notebooks.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_executes_in_place_and_skips_checkpoints(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the kernel must still run in the notebook's own folder
    good = write_notebook(
        tmp_path / "nbs" / "01_tiny.ipynb",
        "import os, pathlib\nanswer = 6 * 7",
        "print(answer, os.environ.get('COURSE_QUIET'), pathlib.Path.cwd().name)\n"
        # find_spec locates `course` without importing it (importing would load torch: slow).
        "import importlib.util, sys\nprint(importlib.util.find_spec('course').origin)\nprint(sys.executable)",
    )
    # A checkpoint copy that would fail if it were run.
    write_notebook(tmp_path / "nbs" / ".ipynb_checkpoints" / "01_tiny-checkpoint.ipynb", "1/0")
    code, out, err = run(capsys, str(tmp_path / "nbs"), "--timeout", "60")
    assert code == 0, err
    assert "01_tiny.ipynb ... ok (" in out and "executed 1 notebook(s)" in out

    notebook = nbformat.read(good, as_version=4)
    outputs = notebook.cells[1].outputs
    # Output of the second cell: computed value, the kernel's env var, its working directory,
    # and `course` imported from this repository even though the kernel runs in nbs/.
    text = "".join(o.text for o in outputs if o.output_type == "stream")
    assert text == f"42 1 nbs\n{REPO_ROOT / 'course' / '__init__.py'}\n{sys.executable}\n"
    assert [c.execution_count for c in notebook.cells] == [1, 2]
    assert "execution" not in notebook.cells[0].metadata and "widgets" not in notebook.metadata
    assert notebook.metadata.kernelspec.name == "recsys-course"
    nbformat.validate(notebook)


def test_error_cell_exits_non_zero_and_stops(tmp_path, capsys):
    bad = write_notebook(tmp_path / "a_bad.ipynb", "x = 1", "y = x / 0", "print('never')")
    later = write_notebook(tmp_path / "b_later.ipynb", "print('should not run')")
    before = bad.read_text(), later.read_text()
    code, out, err = run(capsys, str(tmp_path))
    assert code == 1 and "a_bad.ipynb ... FAILED" in out
    assert "a_bad.ipynb, cell 2 of 3: ZeroDivisionError: division by zero" in err
    assert "first line: y = x / 0" in err
    assert "b_later" not in out  # stopped at the first error
    assert (bad.read_text(), later.read_text()) == before  # nothing written


def test_find_notebooks_sorts_filters_and_validates(tmp_path):
    for name in ("b/02_x.ipynb", "a/10_y.ipynb", "a/01_z.ipynb", "a/.ipynb_checkpoints/01_z-checkpoint.ipynb"):
        write_notebook(tmp_path / name, "1")
    (tmp_path / "notes.txt").write_text("not a notebook")
    found = [p.relative_to(tmp_path).as_posix() for p in execute_notebooks.find_notebooks(tmp_path)]
    assert found == ["a/01_z.ipynb", "a/10_y.ipynb", "b/02_x.ipynb"]
    only = execute_notebooks.find_notebooks(tmp_path, only="02_")
    assert [p.name for p in only] == ["02_x.ipynb"]
    assert execute_notebooks.find_notebooks(tmp_path / "a" / "01_z.ipynb") == [tmp_path / "a" / "01_z.ipynb"]
    with pytest.raises(ValueError, match="no such"):
        execute_notebooks.find_notebooks(tmp_path / "missing")
    with pytest.raises(ValueError, match="not a notebook"):
        execute_notebooks.find_notebooks(tmp_path / "notes.txt")


def test_bad_command_lines(tmp_path, capsys):
    write_notebook(tmp_path / "01_a.ipynb", "1")
    code, _, err = run(capsys, str(tmp_path), "--only", "zzz")  # no kernel is started
    assert code == 2 and "matching 'zzz'" in err
    with pytest.raises(SystemExit):
        run(capsys, str(tmp_path / "missing"))
    assert "no such notebook or folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(capsys, str(tmp_path), "--timeout", "0")


def test_kernel_environment_makes_pythonpath_absolute(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([".", str(REPO_ROOT)]))
    env = execute_notebooks.kernel_environment()
    entries = env["PYTHONPATH"].split(os.pathsep)
    assert env["COURSE_QUIET"] == "1"
    assert entries[0] == str(REPO_ROOT) and all(Path(e).is_absolute() for e in entries)
    assert len(entries) == len(set(entries))
