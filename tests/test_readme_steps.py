"""README.md's "Adding an example" and "Adding a page", followed step by step.

The steps are read from README.md, not written here: each section's numbered steps,
and in them the inline code that names a file to create (``examples/<gallery>/...``,
``docs/<section>/...``) or a ``make`` command. The test fills in the placeholders
(``<gallery>``, ``<topic>``, ...), then does what each step says, in order, in a
temporary copy of the project kept small as in the ``mini_project`` fixture: the real
configuration, extensions and Makefile, one example in its sub-gallery, and the
versions record cut down to that example.

* ``make html ...`` and ``make html doctest ...`` are run as written (this test's
  Python). A build before the example is recorded must fail with the one error the
  README announces, naming the example and the README's recording command; any other
  build must pass with no warning.
* ``make matrix VERSIONS=<pinned>`` installs that torch from the network into a
  throwaway environment, which a test may not do. Its core is done instead: the same
  recorder (``.ci/matrix.py``, from the copy) runs the new example with this Python,
  whose torch is the pinned one, and merges the outcome into the copy's record.
  ``make matrix`` (every version, about 10 minutes, the network) is not run.
* ``make test`` is not run whole (9 minutes): its page checks that are cheap run on the
  new pages only, with the functions those tests use (tests/test_downloads.py,
  tests/test_readers.py, tests/test_prose.py, tests/test_claims.py).

The plan is checked before anything runs (:func:`example_plan`, :func:`page_plan`): a
README that loses a step, or names another recording command than the build asks for,
fails here; the controls below spoil the README's text to show it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import re
import shlex
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import test_claims as claims
import test_downloads as downloads
import test_prose as prose
import torch
import torch_matrix
from helpers import (
    ERROR_INDEX_JSON,
    MINIMAL_EXAMPLE,
    MINIMAL_INDEX,
    ROOT,
    SITE_ENV,
    example_path,
    examples_executed,
    make,
    output_of,
    soup,
)
from test_guide_helpers import raises_source
from test_readers import placeholder_thumbnail
from verdict_cards import draw_card

README = ROOT / "README.md"
EXAMPLE_SECTION = "Adding an example"
PAGE_SECTION = "Adding a page"
LAYOUT_SECTION = "Layout"

# What the test puts in the README's placeholders.
NEW_EXAMPLE = {"topic": "keys", "what_it_proves": "missing_key_raises_keyerror"}
NEW_PAGE = {"page": "counting-entries"}
EXAMPLE_TITLE = "A missing key raises KeyError, as in a dict"
SHOWN_ERROR = "KeyError: 'missing'"


class StepError(AssertionError):
    """The README's steps cannot be followed as written."""


# ---- Reading the README ------------------------------------------------------------


@dataclass
class Step:
    number: int
    text: str

    @property
    def code(self) -> list[str]:
        """The step's inline code, outside its fenced blocks."""
        text = re.sub(r"^\s*```.*?^\s*```", "", self.text, flags=re.M | re.S)
        return re.findall(r"`([^`\n]+)`", text)

    @property
    def commands(self) -> list[list[str]]:
        return [shlex.split(code) for code in self.code if code.startswith("make ")]


def section(text: str, heading: str) -> str:
    found = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if found is None:
        raise StepError(f"README.md has no section {heading!r}")
    return found.group(1)


def steps(text: str, heading: str) -> list[Step]:
    """The numbered steps of a section of the README, in order."""
    parts = re.split(r"^(\d+)\. ", section(text, heading), flags=re.M)
    found = [Step(int(number), body) for number, body in zip(parts[1::2], parts[2::2])]
    if [s.number for s in found] != list(range(1, len(found) + 1)) or not found:
        raise StepError(f"{heading!r}: steps numbered {[s.number for s in found]}")
    return found


def fill(template: str, values: dict[str, str]) -> str:
    """``template`` with its ``<name>`` placeholders replaced."""
    unknown = set(re.findall(r"<(\w+)>", template)) - set(values)
    if unknown:
        raise StepError(f"{template!r}: no value for {sorted(unknown)}")
    return re.sub(r"<(\w+)>", lambda m: values[m.group(1)], template)


@dataclass
class Action:
    step: int
    kind: str  # create, build, record, record-all, check
    args: tuple[str, ...]


def named_folders(all_code: list[str], parent: str) -> list[str]:
    """The folders of ``parent`` that the steps name (``examples/article/``), as they exist."""
    names = []
    for code in all_code:
        found = re.fullmatch(rf"{parent}/(\w+)/", code)
        if found and found.group(1) not in names:
            if not (ROOT / parent / found.group(1)).is_dir():
                raise StepError(f"{code!r} does not exist")
            names.append(found.group(1))
    if not names:
        raise StepError(f"the steps name no folder of {parent}/")
    return names


def pinned_record_command() -> list[str]:
    """The command the build asks for when the pinned column lacks an example."""
    pinned = torch_matrix.load()["pinned"]
    (command,) = re.findall(r"`([^`]+)`", torch_matrix.RERUN.format(version=pinned))
    return shlex.split(command)


def actions(found: list[Step], values: dict[str, str], new_file: re.Pattern) -> list[Action]:
    """What each step asks for, in order; ``new_file`` recognises the file to create."""
    done = []
    for step in found:
        for code in step.code:
            if new_file.fullmatch(code):
                done.append(Action(step.number, "create", (fill(code, values),)))
        for command in step.commands:
            command = [fill(word, values) for word in command]
            targets = [w for w in command[1:] if "=" not in w]
            variables = [w for w in command[1:] if "=" in w]
            if targets and set(targets) <= {"html", "doctest"}:
                done.append(Action(step.number, "build", tuple(command[1:])))
            elif targets == ["matrix"] and not variables:
                done.append(Action(step.number, "record-all", ()))
            elif targets == ["matrix"]:
                done.append(Action(step.number, "record", tuple(command)))
            elif targets == ["test"] and not variables:
                done.append(Action(step.number, "check", ()))
            else:
                raise StepError(f"step {step.number}: {shlex.join(command)!r} is a command "
                                "this test does not know; teach it what it checks")
    return done


def created_first(text: str, section: str, top: str, folder: str, new: dict, what: str,
                  suffix: str) -> tuple[list[str], list[Action], Path]:
    """The folders under ``top`` that a section's steps name, what its steps say to do,
    and the file the first of them creates (it creates one, first)."""
    found = steps(text, section)
    folders = named_folders([c for s in found for c in s.code], top)
    values = {folder: folders[0], **new}
    pattern = re.compile(rf"{top}/[^`\s]*<\w+>[^`\s]*{re.escape(suffix)}")
    plan = actions(found, values, pattern)
    kinds = [a.kind for a in plan]
    if kinds.count("create") != 1 or kinds[0] != "create":
        raise StepError(f"the first thing to do is to create the {what}, once: {kinds}")
    return folders, plan, Path(plan[0].args[0])


def example_plan(text: str) -> tuple[str, list[Action]]:
    """The sub-gallery the new example goes in, and what "Adding an example" says to do."""
    galleries, plan, path = created_first(
        text, EXAMPLE_SECTION, "examples", "gallery", NEW_EXAMPLE, "example", ".py")
    kinds = [a.kind for a in plan]
    if path.parts[:1] != ("examples",) or len(path.parts) != 3 or path.parent.name not in galleries:
        raise StepError(f"{path} is not in a sub-gallery the steps name ({galleries})")
    if not re.fullmatch(r"plot_\w+\.py", path.name):
        raise StepError(f"{path.name}: sphinx-gallery runs plot_*.py only (conf.py)")
    records = [a for a in plan if a.kind == "record"]
    if not records:
        raise StepError("no step records the example for the pinned torch; "
                        f"the build fails until {shlex.join(pinned_record_command())!r} ran")
    for record in records:
        if list(record.args) != pinned_record_command():
            raise StepError(f"step {record.step} records with {shlex.join(record.args)!r}; "
                            f"the build asks for {shlex.join(pinned_record_command())!r}")
    first_record = kinds.index("record")
    inner = [a for a in plan[:first_record] if a.kind == "build" and example_pattern(a)]
    if not any(re.search(example_pattern(a), path.as_posix()) for a in inner):
        raise StepError("no step runs the new example alone (make html EXAMPLE=...) before "
                        "recording it")
    if not any(a.kind == "build" and not example_pattern(a) for a in plan[first_record:]):
        raise StepError("no step builds the whole site (make html) once the example is recorded")
    if "check" not in kinds[first_record:]:
        raise StepError("no step runs make test once the example is recorded")
    return galleries[0], plan


def example_pattern(action: Action) -> str | None:
    variables = dict(w.split("=", 1) for w in action.args if "=" in w)
    return variables.get("EXAMPLE")


def page_plan(text: str) -> tuple[str, list[Action]]:
    """The section the new page goes in, and what "Adding a page" says to do."""
    sections, plan, path = created_first(
        text, PAGE_SECTION, "docs", "section", NEW_PAGE, "page", ".md")
    kinds = [a.kind for a in plan]
    if path.parent != Path("docs", sections[0]) or not (ROOT / path.parent / "index.md").is_file():
        raise StepError(f"{path} is not in a section of docs/ with its index.md")
    builds = [set(a.args) for a in plan if a.kind == "build"]
    if not any({"html", "doctest"} <= targets for targets in builds):
        raise StepError("no step builds the page and runs its doctests (make html doctest)")
    if "record" in kinds or "record-all" in kinds:
        raise StepError("a page is not recorded in the versions record")
    if "check" not in kinds:
        raise StepError("no step runs make test")
    return sections[0], plan


# ---- The temporary project ---------------------------------------------------------


def small_project(mini: Path) -> Path:
    """The ``mini_project`` fixture's copy, its example moved into its sub-gallery (the
    versions record reads sub-galleries only), every sub-gallery's header, the versions
    record cut down to that example, and the recorder."""
    real = example_path(MINIMAL_EXAMPLE)
    examples = mini / "examples"
    for header in sorted(ROOT.glob("examples/*/GALLERY_HEADER.rst")):
        (examples / header.parent.name).mkdir()
        shutil.copy2(header, examples / header.parent.name / header.name)
    (examples / MINIMAL_EXAMPLE).rename(examples / real.parent.name / MINIMAL_EXAMPLE)
    record = json.loads((ROOT / "docs" / "_data" / "torch-matrix.json").read_text())
    for column in record["columns"].values():
        column["examples"] = {MINIMAL_EXAMPLE: column["examples"][MINIMAL_EXAMPLE]}
    (mini / "docs" / "_data" / "torch-matrix.json").write_text(json.dumps(record, indent=1))
    (mini / ".ci").mkdir()
    shutil.copy2(ROOT / ".ci" / "matrix.py", mini / ".ci" / "matrix.py")
    return mini


def example_source() -> str:
    """A new example as the README's first step describes it."""
    helper = next(filter(None, map(raises_source, sorted(ROOT.glob("examples/*/plot_*.py")))))
    source = f'''"""
{EXAMPLE_TITLE}
{"=" * len(EXAMPLE_TITLE)}

Item access with a key that a ``ModuleDict`` does not hold raises ``KeyError``.
"""

# %%
# ``raises`` checks that a block fails with the error we expect, and prints
# that error as Python does; if the block stops failing, the script stops.
import re
import traceback
from contextlib import contextmanager

{helper}


# %%
# A key that is not there
# -----------------------
from torch import nn

layers = nn.ModuleDict({{"present": nn.ReLU()}})
with raises(KeyError, r"'missing'"):
    layers["missing"]

# %%
# The keys it holds are unchanged.
held = list(layers)
assert held == ["present"], held
print("held:", held)
'''
    assert max(map(len, source.splitlines())) <= 79
    return source


PAGE_SOURCE = """# Counting the entries of a ModuleDict

`len` counts the modules that a `ModuleDict` holds, as it counts the keys of a dict.

```{doctest}
>>> from torch import nn
>>> layers = nn.ModuleDict({"a": nn.ReLU(), "b": nn.Tanh()})
>>> len(layers)
2
>>> layers["c"]
Traceback (most recent call last):
    ...
KeyError: 'c'
```
"""


def warnings_of(log: str) -> list[str]:
    return [line for line in log.splitlines() if "WARNING" in line]


def run_build(project: Path, action: Action, timings: list[str]):
    started = time.monotonic()
    result = make(project, action.args[0], *action.args[1:], env=SITE_ENV)
    timings.append(f"step {action.step}: make {' '.join(action.args)}: "
                   f"{time.monotonic() - started:.1f} s")
    return result


def record_offline(project: Path, action: Action, script: Path) -> None:
    """``make matrix VERSIONS=<pinned>`` without the network: the recorder of the copy
    runs the example with this Python (the pinned torch) and merges the outcome."""
    (version,) = [w.split("=", 1)[1] for w in action.args if w.startswith("VERSIONS=")]
    assert torch.__version__.split("+")[0] == version, "this Python does not have that torch"
    spec = importlib.util.spec_from_file_location("readme_matrix", project / ".ci" / "matrix.py")
    recorder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recorder)
    assert version == recorder.PINNED
    work = project / "build" / "matrix-tmp"
    work.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("GUIDE_ERROR_LOG", "PYTHONPATH")}
    env.update(TMPDIR=str(work), MPLBACKEND="Agg", PYTHONHASHSEED="0")
    outcome = recorder.run_example(Path(sys.executable), script, work, env)
    assert outcome["status"] == "passed", outcome
    assert outcome["errors_shown"] == [SHOWN_ERROR], outcome
    data = recorder.load(recorder.OUTPUT)
    data["columns"][version]["examples"][script.name] = outcome
    recorder.save(data, recorder.OUTPUT)


# ---- make test's page checks, on one page -------------------------------------------


def pasted_page_problems(page: Path, html: Path, workdir: Path, at_least: int) -> list[str]:
    """tests/test_downloads.py's paste check: the page's code, copied block by block,
    runs in a fresh Python and raises only what the page shows."""
    pieces = downloads.pasted_pieces(page, downloads.copy_button(html))
    assert len({p.where for p in pieces}) >= at_least, pieces
    returncode, output = downloads.paste_into_fresh_python(pieces, workdir)
    return [] if returncode == 0 else [f"pasted code: {output}"]


def prose_problems(page: Path) -> list[str]:
    """tests/test_prose.py and tests/test_claims.py, on one page."""
    found = []
    first = prose.first_paragraph(page)
    if first is None or prose.problems(first):
        found.append(f"first paragraph {first!r}: {first and prose.problems(first)}")
    if names := prose.build_names(prose.prose(page.read_text(encoding="utf-8"))):
        found.append(f"names the build's own files or commands: {names}")
    return found


def unexecuted_python(page: Path, example: bool) -> list[str]:
    """tests/test_claims.py: a Python block that neither make doctest nor sphinx-gallery ran."""
    found = []
    for block, language in claims.code_blocks(soup(page)):
        if "guide-executed" in block["class"] or (example and language == "Python"):
            continue
        if language.lower() in claims.PYTHON:
            found.append(block.get_text()[:80])
    return found


def example_page_problems(project: Path, gallery: str, script: Path, tmp: Path) -> list[str]:
    html = project / "build" / "html"
    page = html / "auto_examples" / gallery / script.with_suffix(".html").name
    assert page.is_file(), page
    found = []
    # In the gallery, under its sub-gallery's heading, with a thumbnail of its own.
    header = (ROOT / "examples" / gallery / "GALLERY_HEADER.rst").read_text(encoding="utf-8")
    heading = re.search(r"^(.+)\n-+$", header, re.M).group(1)
    index = soup(html / "auto_examples" / "index.html")
    cards = [c for c in index.select("div.sphx-glr-thumbcontainer")
             if c.a and c.a["href"] == f"{gallery}/{page.name}"]
    assert len(index.select("div.sphx-glr-thumbcontainer")) == 2
    if len(cards) != 1:
        return [f"the gallery index links it {len(cards)} times"]
    (card,) = cards
    section = card.find_parent("section").find(["h2", "h3"]).get_text().rstrip("¶")
    if section != heading:
        found.append(f"the gallery lists it under {section!r}, not {heading!r}")
    thumb = (html / "auto_examples" / card.img["src"]).resolve().read_bytes()
    if thumb != draw_card(EXAMPLE_TITLE) or thumb == placeholder_thumbnail(tmp):
        found.append("its thumbnail is not its verdict card")
    if card.img["alt"] != EXAMPLE_TITLE:
        found.append(f"its thumbnail's alt text is {card.img['alt']!r}")
    # tests/test_build.py: the stamp names the versions that ran it.
    stamp = soup(page).select_one("p.guide-stamp")
    versions = [code.get_text() for code in stamp.select("code")] if stamp else []
    if versions != [torch.__version__, platform.python_version()]:
        found.append(f"stamp: {versions}")
    # tests/test_error_index.py: the error it shows is recorded for the error index.
    shown = json.loads((html / ERROR_INDEX_JSON).read_text(encoding="utf-8"))
    if [SHOWN_ERROR] not in [v for k, v in shown.items() if script.name in k]:
        found.append(f"the error index has {shown}")
    # tests/test_downloads.py: the downloads are the page, and the script runs alone.
    offered = {}
    for link in soup(page).select("div.sphx-glr-download a.download"):
        path = (page.parent / unquote(urlparse(link["href"]).path)).resolve()
        offered[path.suffix] = path
    if not {".ipynb", ".py"} <= set(offered) <= {".ipynb", ".py", ".zip"}:
        return [*found, f"downloads: {sorted(offered)}"]
    from sphinx_gallery.py_source_parser import split_code_and_text_blocks

    button = downloads.copy_button(html)
    shown_code = downloads.code_lines(
        b.text for b in downloads.page_blocks(page, button) if b.python)
    _, blocks = split_code_and_text_blocks(str(offered[".py"]))
    notebook = json.loads(offered[".ipynb"].read_text(encoding="utf-8"))["cells"]
    for name, code in (
        (".py", [b.content for b in blocks if b.type == "code"]),
        (".ipynb", ["".join(c["source"]) for c in notebook if c["cell_type"] == "code"]),
    ):
        lines = downloads.code_lines(code)
        assert len(lines) >= 15, lines
        if missing := downloads.not_shown(lines, shown_code):
            found.append(f"{name}: code lines not on its page: {missing}")
    for cell in notebook:
        text = "".join(cell["source"])
        if downloads.RAW_DIRECTIVE.search(text) or downloads.SPHINX_LABEL in text:
            found.append(f"raw markup in the notebook: {text[:80]!r}")
    returncode, output, _ = downloads.run_script_alone(offered[".py"], tmp / "alone")
    if verdict := downloads.script_verdict(script.name, returncode, output, None):
        found.append(verdict)
    found += pasted_page_problems(page, html, tmp / "pasted", at_least=2)
    found += [f"unexecuted: {b!r}" for b in unexecuted_python(page, example=True)]
    found += prose_problems(page)
    return found


def new_page_problems(project: Path, path: Path, tmp: Path) -> list[str]:
    html = project / "build" / "html"
    docname = path.relative_to("docs").with_suffix("").as_posix()
    page = html / f"{docname}.html"
    assert page.is_file(), page
    found = []
    # In the navigation: its section's toctree and the sidebar of the home page.
    section_index = soup(html / path.parent.relative_to("docs") / "index.html")
    if page.name not in [a["href"] for a in section_index.select("div.toctree-wrapper a")]:
        found.append("its section's index does not list it")
    sidebar = [a["href"] for a in soup(html / "index.html").select(".sidebar-tree a")]
    if f"{docname}.html" not in sidebar:
        found.append(f"the navigation does not list it: {sidebar}")
    # make doctest ran its blocks.
    report = (project / "build" / "doctest" / "output.txt").read_text(encoding="utf-8")
    ran = re.search(rf"^Document: {re.escape(docname)}\n-+\n(.*?)\n\n", report, re.M | re.S)
    if not ran or "4 passed and 0 failed" not in ran.group(1):
        found.append(f"make doctest: {ran and ran.group(1)!r}")
    found += pasted_page_problems(page, html, tmp / "pasted", at_least=1)
    found += [f"unexecuted: {b!r}" for b in unexecuted_python(page, example=False)]
    found += prose_problems(page)
    return found


# ---- Following the README ------------------------------------------------------------


def test_a_new_example_in_a_sub_gallery_follows_the_readme_to_the_gallery(mini_project, tmp_path):
    gallery, plan = example_plan(README.read_text(encoding="utf-8"))
    project = small_project(mini_project)
    script, recorded, checked, timings = None, False, False, []
    started = time.monotonic()
    for action in plan:
        if action.kind == "create":
            script = (project / action.args[0]).resolve()
            script.write_text(example_source(), encoding="utf-8")
        elif action.kind == "build":
            result = run_build(project, action, timings)
            log = output_of(result)
            if not recorded:  # the README: one error, naming the example and the command
                assert result.returncode != 0 and len(warnings_of(log)) == 1, log[-5000:]
                (warning,) = warnings_of(log)
                assert script.name in warning, warning
                assert f"`{shlex.join(pinned_record_command())}`" in warning, warning
            else:
                assert result.returncode == 0 and not warnings_of(log), log[-5000:]
            if pattern := example_pattern(action):  # only the matching examples ran
                ran = examples_executed(log)
                assert ran == 1 and re.search(pattern, script.name), f"{ran} examples ran"
                minimal = project / "docs" / "auto_examples" / example_path(
                    MINIMAL_EXAMPLE).parent.name / MINIMAL_EXAMPLE
                assert not minimal.with_suffix(".py.md5").exists()
            assert (project / "build" / "html" / "auto_examples" / gallery
                    / script.with_suffix(".html").name).is_file()
        elif action.kind == "record":
            record_offline(project, action, script)
            recorded = True
        elif action.kind == "check":
            problems = example_page_problems(project, gallery, script, tmp_path)
            assert not problems, "\n".join(problems)
            checked = True
    assert recorded and checked
    print(f"\n{len(plan)} actions in {time.monotonic() - started:.0f} s; " + "; ".join(timings))


def test_a_new_page_follows_the_readme_into_the_navigation(mini_project, tmp_path):
    section_name, plan = page_plan(README.read_text(encoding="utf-8"))
    project = small_project(mini_project)
    (project / "docs" / section_name).mkdir()
    shutil.copy2(ROOT / "docs" / section_name / "index.md", project / "docs" / section_name)
    index = project / "docs" / "index.md"
    index.write_text(MINIMAL_INDEX.replace("\nauto_examples/index", f"\n{section_name}/index"
                                           "\nauto_examples/index"))
    path, checked, timings = None, False, []
    started = time.monotonic()
    for action in plan:
        if action.kind == "create":
            path = Path(action.args[0])
            (project / path).write_text(PAGE_SOURCE, encoding="utf-8")
        elif action.kind == "build":
            result = run_build(project, action, timings)
            assert result.returncode == 0 and not warnings_of(output_of(result)), (
                output_of(result)[-5000:])
            if "PROSE=1" in action.args:
                assert 'gallery_conf["plot_gallery"] was False' in output_of(result)
        elif action.kind == "check":
            problems = new_page_problems(project, path, tmp_path)
            assert not problems, "\n".join(problems)
            checked = True
    assert checked
    print(f"\n{len(plan)} actions in {time.monotonic() - started:.0f} s; " + "; ".join(timings))


# ---- Controls: a README that cannot be followed fails the plan ---------------------


def spoil(text: str, old: str, new: str, count: int = 1) -> str:
    assert text.count(old) >= 1, f"the control needs {old!r} in README.md"
    return text.replace(old, new, count)


def without_step(text: str, heading: str, number: int) -> str:
    """The README with one step of a section removed and the others renumbered."""
    body = section(text, heading)
    parts = re.split(r"^(\d+)\. ", body, flags=re.M)
    kept = [b for n, b in zip(parts[1::2], parts[2::2]) if int(n) != number]
    new_body = parts[0] + "".join(f"{i}. {b}" for i, b in enumerate(kept, 1))
    return text.replace(body, new_body)


def pinned_words() -> str:
    return shlex.join(pinned_record_command())


SPOILED_EXAMPLE = {
    "the recording step removed": (lambda t: without_step(t, EXAMPLE_SECTION, 3), "records"),
    "another version recorded": (
        lambda t: spoil(t, f"`{pinned_words()}`", "`make matrix VERSIONS=2.12.0`"), "asks for"),
    "the example outside a sub-gallery": (
        lambda t: spoil(t, "`examples/<gallery>/plot_", "`examples/plot_"), "sub-gallery"),
    "a file sphinx-gallery does not run": (
        lambda t: spoil(t, "/plot_<topic>_<what_it_proves>.py`", "/<topic>.py`"), "plot_"),
    "a sub-gallery that does not exist": (
        lambda t: spoil(t, "`examples/article/`", "`examples/articles/`"), "does not exist"),
    "the inner loop runs another example": (
        lambda t: spoil(t, "EXAMPLE=plot_<topic>_<what_it_proves>`", "EXAMPLE=plot_ddp`"),
        "alone"),
    "make test dropped": (lambda t: spoil(t, "then `make test`", "then push"), "make test"),
    "a step number skipped": (
        lambda t: spoil(section(t, EXAMPLE_SECTION), "\n3. ", "\n4. ").join(
            t.split(section(t, EXAMPLE_SECTION))), "numbered"),
    "an unknown command": (lambda t: spoil(t, "`make html EXAMPLE=", "`make htm EXAMPLE="),
                           "does not know"),
}
SPOILED_PAGE = {
    "the build step removed": (lambda t: without_step(t, PAGE_SECTION, 3), "make html doctest"),
    "a section that does not exist": (
        lambda t: spoil(t, "`docs/tutorial/`", "`docs/tutorials/`"), "does not exist"),
    "the page outside a section": (
        lambda t: spoil(t, "`docs/<section>/<page>.md`", "`docs/<page>.md`"), "section"),
}


def test_the_readme_as_it_is_can_be_followed():
    text = README.read_text(encoding="utf-8")
    gallery, plan = example_plan(text)
    assert [a.kind for a in plan] == ["create", "build", "record", "build", "record-all",
                                      "check"], plan
    assert gallery == "article"
    section_name, plan = page_plan(text)
    assert [a.kind for a in plan] == ["create", "build", "check"], plan


SPOILED = [(example_plan, name, spoil) for name, spoil in SPOILED_EXAMPLE.items()]
SPOILED += [(page_plan, name, spoil) for name, spoil in SPOILED_PAGE.items()]


@pytest.mark.parametrize(("plan", "spoiled", "spoil"), SPOILED,
                         ids=[f"{plan.__name__}-{name}" for plan, name, _ in SPOILED])
def test_a_readme_step_removed_or_wrong_fails_the_plan(plan, spoiled, spoil):
    text = README.read_text(encoding="utf-8")
    change, message = spoil
    bad = change(text)
    assert bad != text, spoiled
    with pytest.raises(StepError, match=message):
        plan(bad)


# ---- The layout section -------------------------------------------------------------

# Made by the build, the Makefile or a tool; the layout names the first three.
GENERATED = {".git", ".venv", "build", "auto_examples", "__pycache__", ".pytest_cache",
             ".ruff_cache"}


def project_folders() -> list[Path]:
    found = []
    for folder, subfolders, _ in os.walk(ROOT):
        subfolders[:] = sorted(s for s in subfolders if s not in GENERATED)
        if Path(folder) != ROOT:
            found.append(Path(folder).relative_to(ROOT))
    return found


def project_files() -> set[str]:
    """Every file's path relative to the root, and its name alone."""
    found = set()
    for folder in [Path(), *project_folders()]:
        for path in (ROOT / folder).iterdir():
            if path.is_file():
                found |= {(folder / path.name).as_posix(), path.name}
    return found


def layout_problems(text: str) -> tuple[list[str], int]:
    """What the layout section misses or names wrongly, and how many names it checked."""
    code = re.findall(r"`([^`\n]+)`", section(text, LAYOUT_SECTION))
    wanted = [p.name for p in sorted((ROOT / "docs" / "_ext").glob("*.py"))]
    wanted += [f"{p.name}/" for p in sorted((ROOT / "docs" / "_ext").iterdir())
               if p.is_dir() and p.name not in GENERATED]
    wanted += [p.name for p in sorted((ROOT / "tests").glob("*.py"))
               if not p.name.startswith("test_")]
    problems = [f"not named: {name}" for name in wanted if name not in code]
    folders = project_folders()
    problems += [f"folder not named: {folder}/" for folder in folders
                 if not any(f"{folder.name}/" in c for c in code)]
    files = project_files()
    named_files = [c for c in code if re.fullmatch(r"[\w./-]*\w\.\w+", c)]
    problems += [f"no such file: {c}" for c in named_files if c not in files]
    return problems, len(wanted) + len(folders) + len(named_files)


def test_the_layout_names_every_folder_extension_and_test_helper_as_they_are():
    problems, checked = layout_problems(README.read_text(encoding="utf-8"))
    assert not problems, problems
    assert checked >= 50, checked


def test_the_layout_check_finds_a_missing_and_a_stale_name():
    text = README.read_text(encoding="utf-8")
    problems, _ = layout_problems(spoil(text, "`typecheck.py`", "the type checker"))
    assert problems == ["not named: typecheck.py"]
    problems, _ = layout_problems(spoil(text, "`browser.py`", "`browsers.py`"))
    assert problems == ["not named: browser.py", "no such file: browsers.py"]
    problems, _ = layout_problems(spoil(text, "`network_target_samples/`", "its samples"))
    assert problems == ["folder not named: .ci/network_target_samples/"]
