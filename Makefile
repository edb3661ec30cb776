# The book's commands. `make book` and `make test` set everything up themselves.
PYTHON ?= python3
# One BLAS thread for the chapters' kernels: their matrices are small, and on a busy
# two-core machine OpenBLAS's spinning worker threads make them many times slower.
export OPENBLAS_NUM_THREADS ?= 1
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test lab clean assignments bench crosscheck

# Create .venv, or update it when the requirements change.
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

## book: build the website into _build/html, executing every notebook; warnings are errors
book: $(STAMP)
	$(BIN)/jupyter-book build . --builder html -W -n --keep-going
	@echo "Open $(CURDIR)/_build/html/index.html"

## test: unit tests, every notebook under nbval, the clean-notebook check, the strict build,
## coursework, the website and JupyterLab in a browser
test: $(STAMP)
	$(BIN)/python -m pytest tests chapters --nbval-lax --nbval-current-env

## assignments: student and instructor copies of every chapter, made by nbgrader, in _build/assignments
assignments: $(STAMP)
	$(BIN)/python coursework/make_assignments.py

## bench: time the library's RNN against PyTorch's CPU torch.nn.RNN, in its own .venv-bench
BENCH := .venv-bench
$(BENCH)/.installed: benchmarks/requirements.txt pyproject.toml
	test -x $(BENCH)/bin/python || $(PYTHON) -m venv $(BENCH)
	$(BENCH)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH)/bin/python -m pip install --quiet -r benchmarks/requirements.txt
	touch $(BENCH)/.installed

bench: $(BENCH)/.installed
	$(BENCH)/bin/python benchmarks/bench_rnn.py
	$(BENCH)/bin/python benchmarks/bench_gated.py

## crosscheck: the library against PyTorch (outputs, every gradient, clipping, optimisers)
crosscheck: $(BENCH)/.installed
	$(BENCH)/bin/python -m pytest crosscheck -q -p no:cacheprovider

## lab: JupyterLab on the book, opening its front page (intro.md, rendered as MyST)
# The book's JupyterLab settings (markdown opens rendered, no news pop-up) go into the
# environment's own settings overrides, so a reader's personal settings are untouched.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
$(LAB_SETTINGS): jupyterlab/overrides.json $(STAMP)
	mkdir -p $(dir $@)
	cp jupyterlab/overrides.json $@

lab: $(STAMP) $(LAB_SETTINGS)
	$(BIN)/jupyter lab intro.md $(if $(filter 0,$(shell id -u)),--allow-root,)

## clean: remove the build and the virtual environment
clean:
	rm -rf _build $(VENV) $(BENCH) .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
