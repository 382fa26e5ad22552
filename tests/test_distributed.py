"""The distributed pages state their world size, show the verdicts their 2 ranks computed,
and carry a launcher of their own that fails, and never hangs, when a rank does."""

import ast
import inspect
import os
import re
import sys
import time

import pytest
from helpers import example_path, soup

DDP = "auto_examples/pitfalls/plot_ddp_unused_entry_fails_next_step.html"
FSDP2 = "auto_examples/pitfalls/plot_fsdp2_ranks_must_run_same_units.html"
HOWTO = "howto/compilers-and-distributed.html"


def outputs(site, page: str) -> str:
    blocks = soup(site.html / page).select("div.sphx-glr-script-out")
    return "\n".join(o.get_text() for o in blocks)


@pytest.mark.parametrize("page", [DDP, FSDP2])
def test_each_page_imports_only_torch_and_the_stdlib(page):
    nodes = list(ast.walk(ast.parse(script(page).read_text())))
    imported = {a.name for n in nodes if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in nodes if isinstance(n, ast.ImportFrom)}
    assert {n.split(".")[0] for n in imported} - sys.stdlib_module_names == {"torch"}


def script(page: str):
    return example_path(page.rsplit("/", 1)[1].replace(".html", ".py"))


def hang(rank):
    time.sleep(1000 if rank else 0)


def crash(rank):  # rank 1 dies, rank 0 waits for it
    os._exit(3) if rank else time.sleep(1000)


@pytest.mark.parametrize("page", [DDP, FSDP2])
@pytest.mark.parametrize("fault, error", [(hang, TimeoutError), (crash, RuntimeError)])
def test_each_pages_launcher_fails_within_60_s_on_a_hung_or_crashed_rank(page, fault, error):
    """The launcher as the page defines it (its cell, without the call that follows)."""
    cells = script(page).read_text().split("\n# %%\n")
    (cell,) = [c for c in cells if "def run_on_ranks(" in c]
    tree = ast.parse("import torch\n" + cell)
    kept = (ast.Import, ast.ImportFrom, ast.FunctionDef)
    tree.body = [n for n in tree.body if isinstance(n, kept) or "getLogger" in ast.unparse(n)]
    namespace = {}
    exec(compile(tree, page, "exec"), namespace)
    run_on_ranks = namespace["run_on_ranks"]
    deadline = inspect.signature(run_on_ranks).parameters["deadline"].default
    assert deadline < 60
    start = time.monotonic()
    with pytest.raises(error):
        run_on_ranks(fault, deadline=5)  # the page's deadline, shortened for the test
    assert time.monotonic() - start < 5 + 10


@pytest.mark.parametrize("page", [DDP, FSDP2, HOWTO])
def test_every_distributed_page_states_its_world_size(site, page):
    assert re.search(r"\b2 ranks\b", soup(site.html / page).get_text())


@pytest.mark.parametrize("page", [DDP, FSDP2])
def test_no_output_shows_a_port_a_pid_or_a_temporary_path(site, page):
    out = outputs(site, page)
    assert len(out) > 1000
    assert not re.search(r"127\.0\.0\.1\]?:\d|\bpid\b|/tmp/", out, re.I)


def test_the_ddp_page_shows_step_1_training_wrong_then_each_rank_failing_then_fixes(
    site,
):
    out = outputs(site, DDP)
    # Step 1 runs but is not synchronised: the ranks differ, each trained on its own loss.
    for run in ("entries differ per rank", "same entry on both ranks"):
        assert (
            f"no option, {run}, after step 1:\n    the ranks' weights agree: False\n"
            "    rank 0's equal training without DDP: False\n"
            "    each rank's equal training on its own loss: [True, True]"
        ) in out
    for line in ("rank 0: 2 3", "rank 1: 0 1"):  # each names the entry it left unused
        assert f"Parameter indices which did not receive grad for {line}" in out
    verdicts = re.findall(r"^(.+), rank \d: after each step, .+: (.+)$", out, re.M)
    moved = {n for n, v in verdicts if "False" in v}  # 0 * p gives zeros, not None
    every = "every entry in the graph, "
    assert moved == {f"{every}SGD(momentum=0.9)", f"{every}AdamW(weight_decay=0.01)"}
    assert len(verdicts) == 16 and "[[], []]" in out  # the 0 * term leaves no None
    assert out.count("between the ranks: ['image.weight', 'image.bias']") == 2
    # Both ranks:
    assert out.count("Your training graph has changed in this iteration") == 2
    # The checkpoint section: the keys DDP saved, the plain model's refusal, then a clean load.
    assert "['module.image.weight', 'module.image.bias', 'module.text.weight'" in out
    assert 'Unexpected key(s) in state_dict: "module.image.weight"' in out
    assert "<All keys matched successfully>" in out


def test_the_fsdp2_page_shows_right_and_wrong_results_the_abort_and_the_hang(site):
    out = outputs(site, FSDP2)
    unsupported = "fully_shard does not support containers that do not implement forward"
    assert out.count(f"ValueError: {unsupported}") == 2  # alone, and inside a model
    verdicts = re.findall(
        r"^rank (\d) ran (\w+): output right: (\w+), gradients right: (\w+)$", out, re.M
    )
    right, wrong = ("True", "True"), ("False", "False")
    assert verdicts == [
        ("0", "image", *right), ("1", "image", *right),  # the same entry on both ranks
        ("0", "text", *right), ("1", "text", *right),
        ("0", "image", *wrong), ("1", "text", *wrong),  # different entries, same shapes
        ("0", "image", *right), ("1", "text", *right),  # every entry run, all in the loss
        ("0", "image", *right), ("1", "image", *right),  # ... both on image
        ("0", "image", "True", "False"), ("1", "text", "True", "False"),  # one unit
    ]  # fmt: skip
    assert out.count("no gradient: [], with a gradient of zeros: ['layers.text") == 2
    assert out.count("the subclass ran image: output right: True") == 2
    assert "RuntimeError: process 0 terminated with signal SIGABRT: " in out
    assert "Is there a distributed collective mismatch in your code?" in out
    # Every entry run, only one's own output in the loss: the ranks wait until a timeout.
    assert (
        "rank 0's step raised a RuntimeError: True\nrank 1's step raised a RuntimeError: "
        "True\na rank timed out waiting for the other: True"
    ) in out


def test_the_howto_links_both_distributed_examples(site):
    links = {a["href"].split("#")[0] for a in soup(site.html / HOWTO).select("a[href]")}
    assert {f"../{DDP}", f"../{FSDP2}"} <= links, links
