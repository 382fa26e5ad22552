"""The ledger without a site build: the article quoted once, every rule able to flip.

Imports the helper modules of examples/ directly: the records (``_article.CLAIMS``), the
evidence functions (``_evidence``) and the rules (``_rules``).
"""

from __future__ import annotations

import ast
import inspect
import re
import sys

import pytest
from helpers import ROOT

sys.path.insert(0, str(ROOT / "examples"))
import _article  # noqa: E402
import _evidence  # noqa: E402
import _rules  # noqa: E402

# For each rule: evidence values that, put in place of the real ones, must change the verdict.
OPPOSITE = {
    "module_container": {"accepts_a_tensor_as_value": True},
    "inherits_module": {"is_module_subclass": False},
    "participates_in_graph": {"plain_dict_parameters_that_are_leaves": 0},
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
RULES = {name: f for name, f in vars(_rules).items() if inspect.isfunction(f)}
EVIDENCE = {c.key: getattr(_evidence, c.key)() for c in _article.CLAIMS}


def test_each_record_has_one_evidence_function_and_one_rule():
    keys = [c.key for c in _article.CLAIMS]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(RULES) == set(OPPOSITE)
    assert all(callable(getattr(_evidence, k, None)) for k in keys)
    assert all(c.expected in ("true", "false", "misleading") for c in _article.CLAIMS)


@pytest.mark.parametrize("claim", _article.CLAIMS, ids=lambda c: c.key)
def test_the_rule_gives_the_expected_verdict_and_flips_on_the_opposite_evidence(claim):
    rule, evidence = RULES[claim.key], EVIDENCE[claim.key]
    assert rule(evidence) == claim.expected, evidence
    assert set(OPPOSITE[claim.key]) <= set(evidence)
    assert rule({**evidence, **OPPOSITE[claim.key]}) != claim.expected


def test_evidence_keys_are_identifiers_with_a_label():
    keys = {k for evidence in EVIDENCE.values() for k in evidence}
    assert all(k.isidentifier() for k in keys)
    assert keys == set(_evidence.LABELS)


def test_rules_are_short_with_no_nested_or_statement_conditionals():
    tree = ast.parse(inspect.getsource(_rules))
    for node in ast.walk(tree):
        if isinstance(node, ast.IfExp):
            assert not any(isinstance(n, ast.IfExp) for n in ast.walk(node.body)), ast.unparse(node)
            assert not any(isinstance(n, ast.IfExp) for n in ast.walk(node.orelse)), ast.unparse(
                node
            )
        if isinstance(node, ast.Expr):
            assert not isinstance(node.value, ast.IfExp), ast.unparse(node)
    assert all(len(inspect.getsource(f).splitlines()) <= 9 for f in RULES.values())


# --- The article, quoted once -----------------------------------------------------------


def front_matter(article: str) -> dict[str, str]:
    head = article.split("---")[1]
    return dict(re.findall(r'^(\w+): "(.*)"$', head, re.M))


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


QUOTE = ROOT / "examples" / "_article.md"
# A front matter, and an example's bold heading line with its fenced Python block.
HEAD = re.compile(r"\A---\n.*?\n---\n", re.S)
EXAMPLE = re.compile(r"^\*\*Example \d: [^\n]*\*\*\n\n```python\n.*?^```\n", re.M | re.S)
NOTE = re.compile(r"<!--\n.*?\n-->\n", re.S)


def test_the_quote_is_the_articles_front_matter_and_code_blocks_verbatim(article):
    """_article.md: the article's front matter, our note, then its three examples as it has them."""
    quote = QUOTE.read_text(encoding="utf-8")
    examples = EXAMPLE.findall(article)
    assert len(examples) == 3 == article.count("```python")
    assert quote == HEAD.match(article).group() + NOTE.search(quote).group() + "\n" + "\n".join(
        examples
    )
    assert quote.count("```") == 6 and "_article.py" in NOTE.search(quote).group()


def test_the_article_module_matches_the_article(article):
    blocks = re.findall(r"```python\n(.*?)```", article, re.S)
    assert [_article.EXAMPLE_1, _article.EXAMPLE_2, _article.EXAMPLE_3] == blocks
    meta = front_matter(article)
    assert (meta["title"], meta["date"], meta["id"]) == (_article.TITLE, _article.DATE, _article.ID)
    assert _article.DATA_FILES == (QUOTE.name,)
    words = plain(article)
    for claim in _article.CLAIMS:
        for quote in (claim.quote, *claim.also):
            assert quote in words, quote


def test_every_sentence_of_the_article_is_judged_or_said_untestable(article):
    segments = sentences(article)
    assert len(segments) >= 30, segments
    judged = [q for c in _article.CLAIMS for q in (c.quote, *c.also)]
    for segment in segments:
        hits = [q for q in judged if q in segment] + [
            o for o in _article.NOT_TESTABLE if o in segment
        ]
        assert hits, f"neither judged nor listed as not testable: {segment!r}"
    for opening in _article.NOT_TESTABLE:  # each one starts a sentence, and only one
        assert sum(s.startswith(opening) for s in segments) == 1, opening


def test_the_article_code_is_in_no_other_file():
    """No five lines in a row of the article's code outside _article.md, in any source."""
    sources = ("*.*", *(f"{d}/**/*.*" for d in ("examples", "docs", "tests", ".ci", ".github")))
    generated = {"auto_examples", "__pycache__", "_build", "build"}
    others = [
        p
        for pattern in sources
        for p in ROOT.glob(pattern)
        if p.is_file() and p != QUOTE and p.suffix not in (".png", ".svg", ".ico", ".pyc")
        and not generated & set(p.relative_to(ROOT).parts)
    ]
    assert len(others) > 50 and ROOT / "examples" / "_article.py" in others
    for code in (_article.EXAMPLE_1, _article.EXAMPLE_2, _article.EXAMPLE_3):
        lines = code.splitlines()
        runs = ["\n".join(lines[i : i + 5]) for i in range(len(lines) - 4)]
        for path in others:
            text = path.read_text(encoding="utf-8")
            assert not [r for r in runs if r.strip() and r in text], path.name


def test_example_files_stay_short():
    long = {
        p.name: n
        for p in ROOT.glob("examples/plot_*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 200
    }
    assert not long


def test_judge_stops_naming_the_claim_whose_verdict_is_not_the_expected_one():
    import dataclasses

    import _ledger

    wrong = dataclasses.replace(_article.CLAIMS[1], expected="false")
    expected = (
        r"claim 2 \('nn.ModuleDict inherits from nn.Module'\): the evidence now gives "
        r"'true', the site says 'false'"
    )
    with pytest.raises(AssertionError, match=expected):
        _ledger.judge([_article.CLAIMS[0], wrong])
