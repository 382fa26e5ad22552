"""The ledger without a site build: every claim judged, every rule able to flip.

Imports the ledger's package (``docs/_ext/ledger``) directly: the records
(``ledger.claims``), the evidence functions (``ledger.evidence``), the words each value
is shown with (``ledger.labels``) and the rules (``ledger.rules``).
"""

from __future__ import annotations

import ast
import inspect
import re

import pytest
from ledger import evidence, harness, rules
from ledger.claims import CLAIMS, NOT_TESTABLE
from ledger.judge import VerdictChanged, judge
from ledger.labels import LABELS

# For each rule: evidence values that, put in place of the real ones, must change the verdict.
OPPOSITE = {
    "module_container": {"accepts_a_tensor_as_value": True},
    "inherits_module": {"is_module_subclass": False},
    "participates_in_graph": {"modules_among_graph_nodes": 1},
    "item_access_breaks_graph": {"parameters_with_a_gradient": 2},
    "underlying_dictionary": {"same_module_as_attribute_access": False},
    "attribute_mechanism_inherited": {"moduledict_getattr_is_module_getattr": False},
    "maintains_structure": {"item_access_keeps_structure": False},
    "optimizer_efficiency": {"parameters_bit_equal_after_training": 3},
    "gradient_tracking": {"gradients_bit_equal": False},
    "attribute_cumbersome": {"keys_reachable_by_attribute_syntax": 4},
    "iteration_varying_numbers": {"depths_whose_forward_runs": 6},
    "iteration_branching": {"iteration_flags_unknown_branch": True},
    "backward_runtime_error": {"characters_printed_by_except_branch": 40},
    "unused_parameters_error": {"backward_raises_for_an_unused_parameter": True},
    "prevents_updates": {"parameters_changed_by_one_step": 2},
    "parameter_sharing": {"indexing_created_sharing": True},
    "silent_issues": {"indexing_styles_differ_in_a_tensor": True},
    "example1_attribute_access": {"getitem_calls_per_forward": 0, "getattr_calls_per_forward": 2},
    "example1_gradients_correct": {"gradcheck_float64": False},
    "items_flexible": {"items_in_insertion_order": False},
    "example2_gradients_correct": {"backward_reached": True},
    "layers_during_training": {"new_layer_in_optimizer": True},
    "example3_incorrect": {"tensors_bit_equal": 4},
    "executes_without_errors": {"ran_to_the_end": False},
    "backward_likely_fails": {"runs_whose_backward_raised": 10},
    "clear_indicator": {"example3_raised": True, "backward_errors_naming_indexing": 1},
    "whole_module_affected": {"tensors_bit_equal": 1},
}
RULES = {name: f for name, f in vars(rules).items() if inspect.isfunction(f)}
EVIDENCE = {c.key: getattr(evidence, c.key)() for c in CLAIMS}


def test_each_record_has_one_evidence_function_and_one_rule():
    keys = [c.key for c in CLAIMS]
    assert len(keys) == len(set(keys)) == 27
    assert set(keys) == set(RULES) == set(OPPOSITE)
    assert all(callable(getattr(evidence, k, None)) for k in keys)
    assert all(c.expected in ("true", "false", "misleading") for c in CLAIMS)


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.key)
def test_the_rule_gives_the_expected_verdict_and_flips_on_the_opposite_evidence(claim):
    rule, values = RULES[claim.key], EVIDENCE[claim.key]
    assert rule(values) == claim.expected, values
    assert set(OPPOSITE[claim.key]) <= set(values)
    assert rule({**values, **OPPOSITE[claim.key]}) != claim.expected


def test_evidence_keys_are_identifiers_with_a_label():
    keys = {k for values in EVIDENCE.values() for k in values}
    assert all(k.isidentifier() for k in keys)
    assert keys == set(LABELS)


def test_rules_are_short_said_in_words_with_no_nested_or_statement_conditionals():
    tree = ast.parse(inspect.getsource(rules))
    for node in ast.walk(tree):
        if isinstance(node, ast.IfExp):
            assert not any(isinstance(n, ast.IfExp) for n in ast.walk(node.body)), ast.unparse(node)
            assert not any(isinstance(n, ast.IfExp) for n in ast.walk(node.orelse)), ast.unparse(
                node
            )
        if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):
            assert not isinstance(node.value, ast.IfExp), ast.unparse(node)
    for name, rule in RULES.items():
        definition = ast.parse(inspect.getsource(rule)).body[0]
        words = ast.get_docstring(definition)  # the rule as the page says it
        assert words and len(words) <= 300 and words.endswith("."), name
        body = definition.body[1:]
        assert definition.body[0].end_lineno < body[0].lineno
        assert body[-1].end_lineno - body[0].lineno + 1 <= 7, name


def test_the_code_shown_on_the_ledger_page_fits_79_columns():
    """The page shows the evidence, the rules and the tools as code."""
    shown = {m.__name__: inspect.getsource(m) for m in (evidence, rules, harness)}
    long = [
        (name, n) for name, text in shown.items()
        for n, line in enumerate(text.splitlines(), 1) if len(line) > 79
    ]
    assert not long
    assert sum(len(t.splitlines()) for t in shown.values()) > 500  # all three were read


# --- The article's sentences, each judged or said untestable -------------------------


def plain(text: str) -> str:
    return re.sub(r"[`*]", "", " ".join(text.split()))


def sentences(article: str) -> list[str]:
    """The article's prose: a bold heading is one segment; a paragraph splits after . ! ?"""
    body = re.sub(r"```.*?```", "", article.split("---", 2)[2], flags=re.S)
    segments = []
    for paragraph in re.split(r"\n\s*\n", body):
        paragraph = " ".join(paragraph.split())
        if not paragraph:
            continue
        if re.fullmatch(r"\*\*.+\*\*", paragraph):
            segments.append(plain(paragraph))
        else:
            segments += [plain(s) for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", paragraph)]
    return segments


def test_every_claim_quotes_the_articles_words(article):
    words = plain(article)
    quotes = [q for claim in CLAIMS for q in (claim.quote, *claim.also)]
    assert len(quotes) == 35
    assert [q for q in quotes if q not in words] == []


def test_every_sentence_of_the_article_is_judged_or_said_untestable(article):
    segments = sentences(article)
    assert len(segments) >= 30, segments
    judged = [q for c in CLAIMS for q in (c.quote, *c.also)]
    for segment in segments:
        hits = [q for q in judged if q in segment] + [o for o in NOT_TESTABLE if o in segment]
        assert hits, f"neither judged nor listed as not testable: {segment!r}"
    for opening in NOT_TESTABLE:  # each one starts a sentence, and only one
        assert sum(s.startswith(opening) for s in segments) == 1, opening


def test_judge_stops_naming_the_claim_whose_verdict_is_not_the_expected_one():
    import dataclasses

    wrong = dataclasses.replace(CLAIMS[1], expected="false")
    expected = (
        r"claim 2 \('nn.ModuleDict inherits from nn.Module'\): the evidence now gives "
        r"'true', the site says 'false'; evidence: \{'is_module_subclass': True\}"
    )
    with pytest.raises(VerdictChanged, match=expected):
        judge([CLAIMS[0], wrong])
