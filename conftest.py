"""Root pytest configuration, shared by unit tests, doctests and the nbval notebook run.

COURSE_QUIET=1 turns progress bars off, in this process and in the notebook kernels nbval
starts (they inherit the environment), so stored notebook outputs are reproduced exactly.
tools/execute_notebooks.py sets the same variable when it writes those outputs.
"""
import os

os.environ.setdefault("COURSE_QUIET", "1")
# One OpenMP thread for torch in tests and notebook kernels: the models are small, and on a
# busy 2-core machine torch's spinning OpenMP workers were seen to slow a cell twentyfold.
# tools/execute_notebooks.py sets the same, so stored outputs and re-runs agree.
os.environ.setdefault("OMP_NUM_THREADS", "1")

collect_ignore_glob = ["tests/artifacts/*", "notebooks/solutions/*", "benchmarks/*", "tools/*"]
