# Two entry points, each sets up .venv on a fresh machine (Python 3.10+ and pip).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= quick
export SRLIB_DATA_DIR ?= $(if $(wildcard ../shared/datasets),$(abspath ../shared/datasets),$(abspath data))

.PHONY: reproduce test lint clean

$(BIN)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 >/dev/null
	touch $@

reproduce: $(BIN)/.installed  ## run every notebook (PROFILE=smoke|quick|full)
	$(BIN)/srlib reproduce --profile $(PROFILE)

test: $(BIN)/.installed  ## lint + the whole test suite
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) runs .pytest_cache
