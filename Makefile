# neurolab: two commands matter.
#   make book   build the Jupyter Book into _build/html (notebooks executed, results cached)
#   make test   lint (ruff) and run the whole test suite (unit tests, every chapter end to end, the book build)
# Both create or refresh the virtual environment in .venv/ and seed the data cache first.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
VENV := $(ROOT)/.venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.neurolab-installed
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
# Class assignments shipped beside the repository (a checkout of the course's shared folder).
SHARED_DATA ?= $(ROOT)/../shared/data
PYTEST_ARGS ?=

# The course is sized for two cores; more threads than cores only adds contention.
export OMP_NUM_THREADS ?= 2
export MKL_NUM_THREADS ?= 2
export OPENBLAS_NUM_THREADS ?= 2
export PATH := $(BIN):$(PATH)
# Silences the kernel's "frozen modules" debugger warning printed at every notebook start.
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help venv data book test bench sweep clean notebooks

help:
	@echo "make book    build the book into _build/html"
	@echo "make notebooks  write the student and instructor notebooks into notebooks/ (commit them)"
	@echo "make test    run the test suite"
	@echo "make bench   run benchmarks/run.py"
	@echo "make sweep CONFIG=sweep.yaml OUT=results/ [DASK=1] [SCHEDULER=tcp://host:8786]"
	@echo "make assignments  write and release the graded (nbgrader) edition of every chapter"
	@echo "make grade SUBMISSIONS=dir/  grade dir/<student>/<chapter>.ipynb into _build/grading/grades"
	@echo "make clean   remove build outputs (keeps .venv)"

venv: $(STAMP)

# (Re)install when any of the three files that define the environment is newer than the stamp.
# The venv itself is recreated only when missing or when its interpreter no longer runs.
$(STAMP): $(ROOT)/requirements.txt $(ROOT)/requirements-nodeps.txt $(ROOT)/pyproject.toml
	@if ! "$(BIN)/python" -c "" 2>/dev/null; then \
	  test -n "$(PYTHON)" || { echo "error: neither python3.11 nor python3 is on PATH" >&2; exit 1; }; \
	  echo "creating $(VENV) with $(PYTHON)"; \
	  rm -rf "$(VENV)"; \
	  "$(PYTHON)" -m venv "$(VENV)"; \
	fi
	"$(BIN)/python" -m pip install -r "$(ROOT)/requirements.txt"
	"$(BIN)/python" -m pip install --no-deps -r "$(ROOT)/requirements-nodeps.txt"
	"$(BIN)/python" -m pip install --no-deps -e "$(ROOT)"
	touch "$@"

# Copy the class-assignment files into the package's cache, where neurolab checks their sha256
# (without them it downloads the same files). Nothing to do when the shared folder is absent.
data: venv
	@if [ -d "$(SHARED_DATA)" ]; then \
	  dest=$$("$(BIN)/python" -c 'from neurolab.io import cache_dir; print(cache_dir())'); \
	  mkdir -p "$$dest"; \
	  for f in "$(SHARED_DATA)"/stimuli_class_assignment*.mat; do \
	    [ -e "$$f" ] || continue; \
	    cmp -s "$$f" "$$dest/$$(basename "$$f")" || install -m 644 "$$f" "$$dest/"; \
	  done; \
	  echo "data cache: $$dest"; \
	fi

book: venv data
	cd "$(ROOT)" && "$(BIN)/jupyter-book" build .
	@echo "open $(ROOT)/_build/html/index.html"

# The chapters as notebooks, without executing them: a student edition (solutions replaced by
# stubs) and an instructor edition of each, from book/_ext/editions.py, written into notebooks/.
# They are committed: Colab and Binder open them from the repository (the chapter pages' launch
# buttons and each notebook's badges), and tests/test_student.py fails when they no longer match
# the chapters. Run this after editing a chapter. `make book` also copies them into the site.
.PHONY: notebooks student
notebooks: venv
	cd "$(ROOT)" && "$(BIN)/python" book/_ext/editions.py --out "$(ROOT)/notebooks"
student: notebooks

# axe-core, the accessibility checker the browser test runs on every page of the built book
# (tests/test_browser.py reads it from here, or from $NEUROLAB_AXE_JS). Needs npm; without it the
# accessibility test skips outside CI and fails in CI.
AXE_VERSION := 4.14.1
AXE_JS := $(VENV)/axe/node_modules/axe-core/axe.min.js
.PHONY: axe
axe: $(AXE_JS)
$(AXE_JS):
	@if command -v npm >/dev/null 2>&1; then \
	  npm install --silent --no-audit --no-fund --prefix "$(VENV)/axe" axe-core@$(AXE_VERSION); \
	else \
	  echo "note: npm not found, so axe-core is not installed; the accessibility test will skip" >&2; \
	fi

test: venv data axe
	cd "$(ROOT)" && "$(BIN)/ruff" check .
	cd "$(ROOT)" && "$(BIN)/python" -m pytest $(PYTEST_ARGS)

bench: venv data
	@if [ -f "$(ROOT)/benchmarks/run.py" ]; then \
	  cd "$(ROOT)" && "$(BIN)/python" benchmarks/run.py; \
	else \
	  echo "benchmarks/run.py does not exist: nothing to run"; \
	fi

# A graded course with nbgrader (book/_ext/grading.py; see book/instructors.md, "Running a graded
# course"). `make assignments` writes the graded edition of every chapter into an nbgrader course
# folder and releases it (COURSE/release/<chapter>/<chapter>.ipynb is what students get);
# `make grade SUBMISSIONS=dir/` grades dir/<student>/<chapter>.ipynb into GRADES/grades.csv and
# GRADES/feedback/<student>/<chapter>.html. GRADE_SIZE: the SIZE the notebooks are graded at.
COURSE ?= $(ROOT)/_build/grading/course
GRADES ?= $(ROOT)/_build/grading/grades
GRADE_SIZE ?= course
CELL_TIMEOUT ?= 600
NOTEBOOK_TIMEOUT ?= 1800
GRADE_JOBS ?= 1
.PHONY: assignments grade
assignments: venv data
	cd "$(ROOT)" && "$(BIN)/python" book/_ext/grading.py assign --course "$(COURSE)" --size "$(GRADE_SIZE)"

grade: venv data
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=dir/ (dir/<student>/<chapter>.ipynb)" >&2; exit 2; }
	@test -f "$(COURSE)/gradebook.db" || $(MAKE) --no-print-directory assignments
	cd "$(ROOT)" && "$(BIN)/python" book/_ext/grading.py grade "$(SUBMISSIONS)" --course "$(COURSE)" \
	  --out "$(GRADES)" --cell-timeout "$(CELL_TIMEOUT)" --timeout "$(NOTEBOOK_TIMEOUT)" --jobs "$(GRADE_JOBS)"

# Every recording x setting of a sweep's YAML file (neurolab.sweep); a re-run skips what is done.
CONFIG ?= benchmarks/sweep.yaml
OUT ?= $(ROOT)/_build/sweep
sweep: venv data
	cd "$(ROOT)" && "$(BIN)/python" -m neurolab.sweep "$(CONFIG)" --out "$(OUT)" \
	  $(if $(SCHEDULER),--scheduler "$(SCHEDULER)",$(if $(DASK),--dask,))

clean:
	rm -rf "$(ROOT)/_build" "$(ROOT)/.pytest_cache" "$(ROOT)/.jupyter_cache"
	rm -f "$(ROOT)"/chapters/*.ipynb
	find "$(ROOT)" -path "$(VENV)" -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
