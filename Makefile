# ModuleDict, corrected: build and test the executable documentation site.
#
# By default every target runs inside .venv, created from requirements.txt on first
# use and recreated whenever requirements.txt changes. To use an existing Python
# environment instead:   make PYTHON=/path/to/python html

BUILDDIR    ?= build
SPHINXOPTS  ?=
# Warnings are errors, every problem is reported before stopping, broken references warn.
SPHINXFLAGS := -W --keep-going -n $(SPHINXOPTS)
VENV        := .venv
BOOTSTRAP   ?= python3

ifdef PYTHON
PY    := $(PYTHON)
ENV   :=
else
PY    := $(VENV)/bin/python
ENV   := $(VENV)/.requirements.txt
endif

SPHINX := $(PY) -m sphinx -c . -d $(BUILDDIR)/doctrees $(SPHINXFLAGS)

.PHONY: help html doctest lint test bench dist serve clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

# The copy of requirements.txt inside .venv records what the environment was made from.
$(VENV)/.requirements.txt: requirements.txt
	rm -rf $(VENV)
	$(BOOTSTRAP) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	cp requirements.txt $@

html: $(ENV)  ## Build the site into build/html (runs every example)
	$(SPHINX) -b html docs $(BUILDDIR)/html
	@echo "Open $(BUILDDIR)/html/index.html"

doctest: $(ENV)  ## Run the doctests of the docs/ pages
	$(SPHINX) -b doctest docs $(BUILDDIR)/doctest

# examples/ may import in any cell (E402); one blank line after imports keeps the
# article's code, quoted verbatim, as the article wrote it.
RUFF := $(PY) -m ruff check --no-cache --select E4,E7,E9,F,I \
	--per-file-ignores 'examples/*:E402' --config lint.isort.lines-after-imports=1

lint: $(ENV)  ## sphinx-lint on docs/, ruff on the Python, codespell on the tree
	$(PY) -m sphinxlint --ignore docs/auto_examples docs examples/README.rst
	$(RUFF) examples tests conf.py docs/_ext
	$(PY) -m codespell_lib --skip './.git,./.venv,./.pytest_cache,./build,./docs/auto_examples,*.png,*.svg' .

test: lint  ## Lint, then run the test suite (builds the site in a temporary folder)
	$(PY) -m pytest -rs tests

bench: $(ENV)  ## Time clean/no-op/incremental builds, doctest and test against the floor and myst-nb
	$(PY) tests/bench.py $(BENCHOPTS)

dist: html  ## Offline formats in build/dist: a zip of the HTML site, an EPUB, a single page
	$(SPHINX) -b epub docs $(BUILDDIR)/epub
	$(SPHINX) -b singlehtml docs $(BUILDDIR)/singlehtml
	rm -rf $(BUILDDIR)/dist && mkdir -p $(BUILDDIR)/dist
	$(PY) -c "import shutil; shutil.make_archive('$(BUILDDIR)/dist/moduledict-corrected-html', 'zip', '$(BUILDDIR)', 'html')"
	cp $(BUILDDIR)/epub/*.epub $(BUILDDIR)/dist/
	cp -r $(BUILDDIR)/singlehtml $(BUILDDIR)/dist/moduledict-corrected-single-page

serve: $(ENV)  ## Preview build/html on http://127.0.0.1:8000
	$(PY) -m http.server --bind 127.0.0.1 --directory $(BUILDDIR)/html 8000

clean:  ## Remove build outputs and generated gallery pages (keeps .venv)
	rm -rf $(BUILDDIR) docs/auto_examples docs/sg_execution_times.rst

# --- make matrix: the examples on other torch versions (not part of make test) ---
# Makes one throwaway environment per version under /tmp (removed before the next;
# old torch versions download several GB) and merges into docs/_data/torch-matrix.json.
#   make matrix                     every version listed in .ci/matrix.py
#   make matrix VERSIONS="2.13.0"   re-record only these columns
VERSIONS ?=
.PHONY: matrix
matrix:  ## Run every example on each torch version of .ci/matrix.py (long; VERSIONS= for some)
	nice -n 10 python3.11 .ci/matrix.py $(VERSIONS)
