"""The distributed pages state their world size and show the verdicts their 2 ranks computed."""

import re

from helpers import soup

DDP = "auto_examples/pitfalls/plot_ddp_unused_entry_fails_next_step.html"
FSDP2 = "auto_examples/pitfalls/plot_fsdp2_ranks_must_run_same_units.html"
HOWTO = "howto/compilers-and-distributed.html"


def outputs(site, page: str) -> str:
    doc = soup(site.html / page)
    return "\n".join(block.get_text() for block in doc.select("div.sphx-glr-script-out"))


def test_every_distributed_page_states_its_world_size(site):
    for page in (DDP, FSDP2, HOWTO):
        assert re.search(r"\b2 ranks\b", soup(site.html / page).get_text()), page


def test_the_ddp_page_shows_each_rank_failing_then_three_fixes_matching_one_process(site):
    out = outputs(site, DDP)
    for line in ("rank 0: 2 3", "rank 1: 0 1"):  # each rank names the entry it left unused
        assert f"Parameter indices which did not receive grad for {line}" in out
    verdicts = re.findall(r"^(.+), rank (\d): same parameters as without DDP: (\w+)$", out, re.M)
    fixes = ["find_unused_parameters=True", "every entry in the graph",
             "static_graph=True, fixed entry per rank"]
    assert verdicts == [(fix, rank, "True") for fix in fixes for rank in "01"]
    assert out.count("Your training graph has changed in this iteration") == 2  # both ranks
    # The checkpoint section: the keys DDP saved, the plain model's refusal, then a clean load.
    assert "['module.image.weight', 'module.image.bias', 'module.text.weight'" in out
    assert 'Unexpected key(s) in state_dict: "module.image.weight"' in out
    assert "<All keys matched successfully>" in out


def test_the_fsdp2_page_shows_right_and_wrong_results_per_rank_and_the_abort(site):
    out = outputs(site, FSDP2)
    verdict = r"^(.+): rank (\d) \((\w+)\) output right: (\w+), gradients right: (\w+)$"
    verdicts = re.findall(verdict, out, re.M)
    assert verdicts == [
        ("both ranks run image", "0", "image", "True", "True"),
        ("both ranks run image", "1", "image", "True", "True"),
        ("both ranks run text", "0", "text", "True", "True"),
        ("both ranks run text", "1", "text", "True", "True"),
        ("rank 0 runs image, rank 1 text", "0", "image", "False", "False"),
        ("rank 0 runs image, rank 1 text", "1", "text", "False", "False"),
        ("rank 0 uses image, rank 1 text, both run every entry", "0", "image", "True", "True"),
        ("rank 0 uses image, rank 1 text, both run every entry", "1", "text", "True", "True"),
    ]
    assert "rank 0 of 2 failed first (SIGABRT)" in out
    assert "Is there a distributed collective mismatch in your code?" in out


def test_the_howto_links_both_distributed_examples(site):
    links = {a["href"].split("#")[0] for a in soup(site.html / HOWTO).select("a[href]")}
    assert {f"../{DDP}", f"../{FSDP2}"} <= links, links
