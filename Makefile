# Two commands do everything on a fresh clone (Python 3.11 + make):
#   make lab    create the environment if missing, register the kernel, open JupyterLab
#   make test   create the environment if missing, run every test (unit, doctests, notebooks)
# Other targets: make execute (re-run every notebook in place), make bench (benchmarks).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: env lab test test-fast execute bench clean-env

env: $(STAMP)

# torch first, alone and pinned: an unpinned torch (or a package asking for one) would pull a
# multi-GB CUDA build. recbole and obp are installed without dependencies: we only read the
# data files they ship (MovieLens-100K, the Open Bandit Dataset sample).
$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/pip install --quiet --no-deps recbole==1.2.1 obp==0.4.1
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name recsys-course --display-name "Recsys course (.venv)" > /dev/null
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

test: $(STAMP)
	$(BIN)/python -m pytest

# Unit tests only (no notebooks): a quick loop while editing the package.
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests course -m "not slow"

execute: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py notebooks

bench: $(STAMP)
	$(BIN)/pip install --quiet -r requirements-bench.txt -c constraints.txt
	OMP_NUM_THREADS=1 $(BIN)/python -m benchmarks.run  # one thread for us and the peers: like for like

clean-env:
	rm -rf $(VENV)
