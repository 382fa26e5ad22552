"""The ledger without a site build (``docs/_ext/ledger``): every claim judged, every
rule able to come out another way, every sentence of the article judged or set aside."""

from __future__ import annotations

import dataclasses
import inspect
import re

import pytest
from claims_ledger import LedgerError, judged
from ledger import evidence, judge_all, tools
from ledger.claims import CLAIMS, NOT_TESTABLE

JUDGED = dict(zip((c.key for c in CLAIMS), judge_all(), strict=True))

# For each rule, values that in place of the real ones give another verdict (each
# other verdict of a rule with three): "claim: name=value, ... -> verdict".
FLIPS = """
module_container: accepts_a_tensor_as_value=True -> false
inherits_module: is_module_subclass=False -> false
participates_in_graph: modules_among_graph_nodes=1 -> true
participates_in_graph: moduledict_parameters_that_are_leaves=0 -> false
item_access_breaks_graph: parameters_with_a_gradient=2 -> true
underlying_dictionary: same_module_as_attribute_access=False -> true
attribute_mechanism_inherited: moduledict_getattr_is_module_getattr=0 -> false
maintains_structure: item_access_keeps_structure=False -> true
maintains_structure: attribute_access_keeps_structure=False -> false
optimizer_efficiency: moved_by_step=1 -> true
gradient_tracking: gradients_bit_equal=False -> true
attribute_cumbersome: keys_reachable_by_attribute_syntax=4 -> false
iteration_varying_numbers: depths_whose_forward_runs=6 -> true
iteration_varying_numbers: items_yields_every_layer=False -> false
iteration_branching: iteration_flags_unknown_branch=True -> true
iteration_branching: item_access_by_a_run_time_key_scripts=True -> false
backward_runtime_error: characters_printed_by_except_branch=40 -> true
unused_parameters_error: backward_raises_for_an_unused_parameter=True -> true
unused_parameters_error: autograd_grad_raises_when_asked_for_it=False -> false
prevents_updates: parameters_changed_by_one_step=2 -> true
parameter_sharing: indexing_created_sharing=True -> true
parameter_sharing: one_module_under_two_keys_warns=1 -> false
silent_issues: indexing_styles_differ_in_a_tensor=True -> true
silent_issues: parameters_a_plain_dict_hides=0 -> false
example1_attribute_access: getitem_calls_per_forward=0, getattr_calls_per_forward=2 -> true
example1_attribute_access: getattr_calls_per_forward=2 -> misleading
example1_gradients_correct: gradcheck_float64=False -> false
items_flexible: items_in_insertion_order=False -> false
example2_gradients_correct: backward_reached=True -> true
layers_during_training: new_layer_in_optimizer=True -> true
layers_during_training: forward_uses_new_layer=False -> false
example3_incorrect: tensors_bit_equal=4 -> true
executes_without_errors: ran_to_the_end=False -> false
backward_likely_fails: runs_whose_backward_raised=10 -> true
clear_indicator: example3_raised=True, backward_errors_naming_indexing=1 -> true
whole_module_affected: tensors_bit_equal=1 -> true
""".strip().splitlines()


def test_records_evidence_and_words_match():
    keys = [c.key for c in CLAIMS]
    assert len(keys) == len(set(keys)) == 27
    assert {f.split(":")[0] for f in FLIPS} == set(keys)
    assert all(inspect.isfunction(getattr(evidence, k, None)) for k in keys)
    values = {name for j in JUDGED.values() for name in j["evidence"]}
    assert all(k.isidentifier() for k in values) and set(evidence.LABELS) < values
    assert all("_" not in evidence.label(k) or k in evidence.LABELS for k in values)
    assert all(c.words.endswith(".") and len(c.words) <= 300 for c in CLAIMS)


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.key)
def test_each_claim_gets_its_expected_verdict(claim):
    assert JUDGED[claim.key]["verdict"] == claim.expected, JUDGED[claim.key]


@pytest.mark.parametrize("flip", FLIPS)
def test_each_rule_can_come_out_another_way(flip):
    key, values, verdict = re.fullmatch(r"(\w+): (.+) -> (\w+)", flip).groups()
    claim, real = next(c for c in CLAIMS if c.key == key), JUDGED[key]["evidence"]
    values = eval(f"dict({values})")  # the table above
    assert set(values) <= set(real) and verdict != claim.expected
    assert claim.judge({**real, **values}) == verdict


def test_a_changed_verdict_stops_the_build_naming_the_claim():
    wrong = dataclasses.replace(CLAIMS[1], expected="false")
    expected = (
        r"claim 2 \('nn.ModuleDict inherits from nn.Module'\): the evidence now gives "
        r"'true', the site says 'false'; evidence: \{'is_module_subclass': True\}"
    )
    with pytest.raises(LedgerError, match=expected):
        judged([CLAIMS[0], wrong])
    broken = dataclasses.replace(CLAIMS[0], rule="true if no_such_value else false")
    assert judge_all([broken])[0]["verdict"].startswith("no verdict (NameError: ")


def test_the_code_shown_on_the_ledger_page_fits_79_columns():
    shown = inspect.getsource(evidence).split("\nLABELS")[0] + inspect.getsource(tools)
    shown += "".join(c.code for c in CLAIMS)  # each ends with a line break
    assert [line for line in shown.splitlines() if len(line) > 79] == []


def plain(text: str) -> str:
    return re.sub(r"[`*]", "", " ".join(text.split()))


def test_every_sentence_of_the_article_is_judged_or_said_untestable(article):
    quotes = [q for claim in CLAIMS for q in (claim.quote, *claim.also)]
    assert len(quotes) == 35 and [q for q in quotes if q not in plain(article)] == []
    body = re.sub(r"```.*?```", "", article.split("---", 2)[2], flags=re.S)
    segments = []  # a bold heading is one segment; a paragraph splits after . ! ?
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", body))
    for paragraph in filter(None, paragraphs):
        split = [paragraph] if re.fullmatch(r"\*\*.+\*\*", paragraph) else None
        segments += map(plain, split or re.split(r"(?<=[.!?])\s+(?=[A-Z])", paragraph))
    assert len(segments) >= 30, segments
    for segment in segments:
        assert [q for q in quotes + list(NOT_TESTABLE) if q in segment], segment
    for opening in NOT_TESTABLE:  # each one starts a sentence, and only one
        assert sum(s.startswith(opening) for s in segments) == 1, opening
