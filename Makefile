# Two commands do everything on a fresh clone (Python 3.11, 3.12 or 3.13, plus make):
#   make lab    create the environment if missing, register the kernel, open JupyterLab
#   make test   create the environment if missing, run every test (unit, doctests, notebooks)
# Other targets: make test-fast (unit tests, no slow ones), make test-portable (notebooks run,
# outputs not compared: for CPUs other than x86-64), make execute (re-run every notebook in
# place), make bench (benchmarks), make which-python.

# The newest supported interpreter that actually runs (a pyenv shim for an inactive version
# exists but fails, so each candidate is asked for its version). Override: make PYTHON=...
SUPPORTED := 3.13 3.12 3.11
PYTHON ?= $(shell for v in $(SUPPORTED); do \
	  python$$v -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 13)))' \
	  > /dev/null 2>&1 && { command -v python$$v; break; }; done)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
KERNEL := $(VENV)/share/jupyter/kernels/recsys-course/kernel.json
# torch's own index, if you want it (e.g. its CPU-only build on Linux, where PyPI's torch is
# the multi-GB CUDA build): make lab TORCH_INDEX=<index url>
TORCH_INDEX ?=
TORCH_FLAGS := $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX),)
# Extra flags for JupyterLab (the lab test passes --no-browser and a port). Root (a container,
# a classroom image, a cloud VM) needs --allow-root, or JupyterLab refuses to start.
LAB_FLAGS ?=
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
# Test files run in parallel, one per core (at most 4: each worker holds torch and a kernel in
# memory). Every kernel computes on one thread (the pins), so two workers on two cores take
# about half the time. A notebook's cells stay together on one worker (--dist loadfile).
# make test JOBS=0 runs everything in this one process.
JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)
PARALLEL := $(if $(filter 0,$(JOBS)),,-n $(JOBS) --dist loadfile)

.PHONY: env lab test test-fast test-notebooks test-portable execute bench clean-env which-python check-python

env: $(STAMP) $(KERNEL)

which-python: check-python
	@echo "$(PYTHON) ($$($(PYTHON) --version 2>&1))"

check-python:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "No supported Python found: this course needs Python 3.11, 3.12 or 3.13." >&2; \
	  echo "Install one (python.org, your package manager, pyenv or conda), or point make at it:" >&2; \
	  echo "  make lab PYTHON=/path/to/python3.12" >&2; exit 1; fi
	@$(PYTHON) -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 13)))' > /dev/null 2>&1 || { \
	  echo "PYTHON=$(PYTHON) does not run, or is not Python 3.11, 3.12 or 3.13 ($$($(PYTHON) --version 2>&1 | head -1))." >&2; \
	  echo "Install a supported Python or point make at one: make lab PYTHON=/path/to/python3.12" >&2; exit 1; }

# torch first, alone and pinned: an unpinned torch (or a package asking for one) would pull a
# multi-GB CUDA build. recbole and obp are installed without dependencies: we only read the
# data files they ship (MovieLens-100K, the Open Bandit Dataset sample). The kernel is
# registered with the numeric-kernel pins (course/reproducibility.py says why).
$(STAMP): requirements.txt constraints.txt pyproject.toml
	@$(MAKE) --no-print-directory check-python PYTHON="$(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(TORCH_FLAGS) torch==2.13.0
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/pip install --quiet --no-deps recbole==1.2.1 obp==0.4.1
	$(BIN)/pip install --quiet setuptools -c constraints.txt   # venvs on 3.12+ come without it
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

$(KERNEL): $(STAMP) tools/register_kernel.py course/reproducibility.py
	$(BIN)/python tools/register_kernel.py

lab: $(STAMP) $(KERNEL)
	$(BIN)/jupyter lab $(ROOT_FLAG) $(LAB_FLAGS) notebooks/

test: $(STAMP) $(KERNEL)
	$(BIN)/python -m pytest $(PARALLEL)

# Unit tests only, without the slow ones (browser, world regeneration, MovieLens training).
test-fast: $(STAMP) $(KERNEL)
	$(BIN)/python -m pytest tests course -m "not slow" $(PARALLEL)

# The notebooks under nbval, outputs compared (x86-64 with AVX2 or newer).
test-notebooks: $(STAMP) $(KERNEL)
	$(BIN)/python -m pytest notebooks $(PARALLEL)

# Every notebook runs and its own assertions hold, but stored outputs are not compared: for
# CPUs whose last digits differ from the stored ones (Apple silicon, other ARM machines).
test-portable: $(STAMP) $(KERNEL)
	$(BIN)/python -m pytest tests course notebooks -m "not slow" --nbval-lax $(PARALLEL)

execute: $(STAMP) $(KERNEL)
	$(BIN)/python tools/execute_notebooks.py notebooks

bench: $(STAMP) $(KERNEL)
	$(BIN)/pip install --quiet -r requirements-bench.txt -c constraints.txt
	OMP_NUM_THREADS=1 $(BIN)/python -m benchmarks.run  # one thread for us and the peers: like for like

clean-env:
	rm -rf $(VENV)
