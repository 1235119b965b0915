# Two commands for a newcomer: `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= out/demo

.PHONY: venv demo test bench docs clean

venv: $(STAMP)

$(STAMP): pyproject.toml setup.py constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test,torch,hardware,experiments,docs]'
	touch $(STAMP)

demo: venv
	$(BIN)/spikemem run ca3-cam --out $(OUT) --force
	@echo "report written to $(OUT)"

test: venv
	$(BIN)/python -m pytest -n 2 -q tests

bench: venv
	$(BIN)/python benchmarks/cuba.py --duration 5

# The documentation site, warnings as errors -> docs/_build/html/index.html
docs: venv
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) out
