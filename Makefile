# ModuleDict, corrected: build and test the executable documentation site.
#
# By default every target runs inside .venv, made on first use from the pinned
# requirements (see README.md):
#   requirements.txt            the build (make html, make doctest, Read the Docs)
#   tests/requirements.txt      added by make lint, make test and make bench
# A change to requirements.txt makes .venv anew; a change to tests/requirements.txt
# installs it into the existing .venv. To use an existing Python environment instead:
#   make PYTHON=/path/to/python html

BUILDDIR    ?= build
SPHINXOPTS  ?=
# Warnings are errors, every problem is reported before stopping, broken references warn.
SPHINXFLAGS := -W --keep-going -n $(SPHINXOPTS)
# The inner loop (README.md, "Checking one change quickly"); the other examples keep the
# outputs of their last run:
#   make html EXAMPLE=plot_foo    runs only the examples whose path matches this regular
#                                 expression (sphinx-gallery's filename_pattern)
#   make html doctest PROSE=1     runs no example (plot_gallery=0): for a page of docs/
ifdef EXAMPLE
SPHINXFLAGS += -D 'sphinx_gallery_conf.filename_pattern=$(EXAMPLE)'
endif
ifeq ($(PROSE),1)
SPHINXFLAGS += -D plot_gallery=0
endif
VENV        := .venv
BOOTSTRAP   ?= python3
# Sphinx 9.0 and matplotlib 3.11 need Python 3.11 or newer.
MIN_PYTHON  := 3.11

# torch is installed first, alone, from TORCH_INDEX. On Linux x86_64 that is PyTorch's
# CPU index: from the default index, torch there is the CUDA build (several GB).
# Elsewhere (macOS, Windows) the default index has the CPU build. `make TORCH_INDEX=`
# uses the default index everywhere; `make TORCH_INDEX=<url>` another one.
ifeq ($(shell uname -s)-$(shell uname -m),Linux-x86_64)
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
else
TORCH_INDEX ?=
endif
TORCH_PIN   := $(shell grep -m1 '^torch==' requirements.txt)

ifdef PYTHON
PY      := $(PYTHON)
ENV     :=
DEV_ENV :=
else
PY      := $(VENV)/bin/python
ENV     := $(VENV)/.requirements.txt
DEV_ENV := $(VENV)/.dev-requirements.txt
endif

PIP    := $(VENV)/bin/python -m pip install --quiet --disable-pip-version-check
SPHINX := $(PY) -m sphinx -c . -d $(BUILDDIR)/doctrees $(SPHINXFLAGS)

.PHONY: help html doctest lint test bench lock dist serve clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

# Each copy of a requirements file inside .venv records what .venv was made from.
$(VENV)/.requirements.txt: requirements.txt
	@$(BOOTSTRAP) -c 'import sys; v = sys.version_info[:2]; sys.exit(v < tuple(map(int, "$(MIN_PYTHON)".split("."))) \
	  and "make: $(BOOTSTRAP) is Python %d.%d; this project needs Python $(MIN_PYTHON) or newer" % v \
	  + " (make BOOTSTRAP=python$(MIN_PYTHON) ... chooses another)")'
	rm -rf $(VENV)
	$(BOOTSTRAP) -m venv $(VENV)
	@if [ -z "$(TORCH_INDEX)" ]; then :; \
	elif $(VENV)/bin/python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' \
	     "$(TORCH_INDEX)/torch/" >/dev/null 2>&1; then \
	  echo "$(PIP) --no-deps --index-url $(TORCH_INDEX) $(TORCH_PIN)"; \
	  $(PIP) --no-deps --index-url $(TORCH_INDEX) $(TORCH_PIN); \
	else \
	  echo "make: $(TORCH_INDEX) cannot be reached; $(TORCH_PIN) comes from the default index" \
	       "(on Linux x86_64 that may be the CUDA build; see TORCH_INDEX in README.md)."; \
	fi
	$(PIP) -r requirements.txt
	cp requirements.txt $@

$(VENV)/.dev-requirements.txt: tests/requirements.txt $(VENV)/.requirements.txt
	$(PIP) -r requirements.txt -r tests/requirements.txt
	cp tests/requirements.txt $@

html: $(ENV)  ## Build the site into build/html (runs every example)
	$(SPHINX) -b html docs $(BUILDDIR)/html
	@echo "Open $(BUILDDIR)/html/index.html"

doctest: $(ENV)  ## Run the doctests of the docs/ pages
	$(SPHINX) -b doctest docs $(BUILDDIR)/doctest

# Rules and their reasons: .ci/ruff.toml.
RUFF := $(PY) -m ruff check --no-cache --config .ci/ruff.toml

# Nothing lints the Markdown pages beyond the build itself (MyST's warnings are errors):
# sphinx-lint reads reST and Python only, so it lints the examples' reST.
lint: $(DEV_ENV)  ## sphinx-lint on examples/, ruff, codespell, actionlint
	$(PY) -m sphinxlint examples
	$(RUFF) examples tests conf.py docs/_ext .ci
	@# "cant": how readers retype "can't" in an error message (the error search matches it);
	@# "pres": the <pre> blocks of a page (tests/test_readers.py).
	$(PY) -m codespell_lib -L cant,pres --skip './.git,./.venv,./.pytest_cache,./build,./docs/auto_examples,*.png,*.svg' .
	"$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/actionlint" -no-color .github/workflows/*.yml

# One pytest process per core (pytest-xdist; TEST_WORKERS=0 runs them all in one).
TEST_WORKERS ?= auto

test: lint  ## Lint, then run the test suite (builds the site in temporary folders)
	$(PY) -m pytest -c tests/pytest.ini -rs --durations=25 -n $(TEST_WORKERS) --dist worksteal \
	  --junitxml=$(BUILDDIR)/test-report.xml tests

bench: $(DEV_ENV)  ## Machinery lines; clean build against the floor; make test against the build
	$(PY) .ci/bench.py

# pip-compile keeps every pin already in the .txt; LOCKFLAGS=--upgrade-package=NAME moves one.
# It records the CPU wheel's local label (torch==X+cpu); the pin drops it, so that
# macOS and Windows, whose default index has no +cpu build, install the same pin.
LOCK := CUSTOM_COMPILE_COMMAND="make lock" $(PY) -m piptools compile --quiet --no-emit-index-url \
	--no-emit-find-links --strip-extras $(LOCKFLAGS)

lock: $(DEV_ENV)  ## Pin requirements*.in into requirements*.txt, each pin saying why (# via)
	$(LOCK) -o requirements.txt requirements.in
	sed -E -i.bak 's/^(torch==[^+ ]+)\+[A-Za-z0-9.]+/\1/' requirements.txt && rm requirements.txt.bak
	$(LOCK) -o tests/requirements.txt tests/requirements.in

dist: html  ## Offline formats in build/dist: a zip of the HTML site, an EPUB, a single page
	@# Written afresh: Sphinx does not see a change in an extension's code.
	rm -rf $(BUILDDIR)/epub $(BUILDDIR)/singlehtml
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

# make matrix: the examples on older torch versions, each in a throwaway environment
# (several GB of downloads; not part of make test). VERSIONS="2.5.1" records some.
VERSIONS ?=
.PHONY: matrix
matrix:  ## Run every example on the older torch versions of .ci/matrix.py (long)
	nice -n 10 python3 .ci/matrix.py $(VERSIONS)
