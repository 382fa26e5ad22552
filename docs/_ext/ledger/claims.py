"""The article's claims, as records, and its sentences no code can test.

A claim's ``key`` names its evidence function (``ledger.evidence``); its
``rule`` is a Python expression over the values that function computes, with
``true``, ``false`` and ``misleading`` for the verdicts, and ``words`` says
the rule as the page shows it. ``quote`` and every ``also`` (other sentences
that make the same claim) are the article's words, markdown removed;
``proven_in`` is a Sphinx docname, or "" when the evidence is the whole proof.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EX1 = "auto_examples/article/plot_article_example1_item_access_works"
EX2 = "auto_examples/article/plot_article_example2_crashes_as_written"
EX2_FIXED = "auto_examples/article/plot_article_example2_fixed_layers_compose"
EX3 = "auto_examples/article/plot_article_example3_backward_succeeds"
WHY = "explanation/why-indexing-cannot-touch-autograd"
REGISTER = "howto/register-modules"


@dataclass(frozen=True)
class Claim:
    key: str
    quote: str
    expected: str
    rule: str
    words: str
    where: str = ""
    proven_in: str = ""
    also: tuple[str, ...] = ()

    @property
    def code(self) -> str:
        """The rule as the page shows it, and as it runs: ``verdict = (...)``."""
        body = re.sub(r" (else|and|or) ", r"\n    \1 ", self.rule)
        return f"verdict = (\n    {body}\n)\n"

    def judge(self, values: dict) -> str:
        """The verdict that ``rule`` gives on the evidence ``values``."""
        scope = {**{v: v for v in ("true", "false", "misleading")}, **values}
        exec(self.code, {"__builtins__": {}}, scope)
        return scope["verdict"]


C = Claim
CLAIMS = (
    C("module_container", "nn.ModuleDict is not merely a dictionary; it's a dictionary "
      "containing nn.Module instances", "true",
      rule="false if accepts_a_tensor_as_value else true",
      words="False if a ModuleDict accepts a tensor as a value, else true."),
    C("inherits_module", "nn.ModuleDict inherits from nn.Module", "true",
      rule="true if is_module_subclass else false",
      words="True if ModuleDict is a subclass of nn.Module."),
    C("participates_in_graph", "meaning it participates in the PyTorch computation graph",
      "misleading", proven_in=WHY,
      also=("ensuring it remains within the PyTorch computation graph",),
      rule="false if moduledict_parameters_that_are_leaves < moduledict_parameters "
      "else true if modules_among_graph_nodes else misleading",
      words="False if some of Example 1's parameters are not graph leaves; true if a "
      "module is itself a node of the autograd graph; misleading otherwise: the graph "
      "holds no module, and its parameters are leaves as a plain dict's are."),
    C("item_access_breaks_graph", "it might break the connection to the computational "
      "graph if not handled correctly", "false", where="about my_dict['key']", proven_in=EX1,
      also=("ensure the resulting object retains its connection to the overarching model",),
      rule="false if parameters_with_a_gradient == parameters else true",
      words="False if every parameter of Example 1 gets a gradient, else true."),
    C("underlying_dictionary", "Directly accessing the underlying dictionary using "
      "standard Python dictionary indexing (my_dict['key'])", "misleading", proven_in=WHY,
      also=("the consequences of directly accessing the internal dictionary",),
      rule="misleading if moduledict_getitem_calls == 1 "
      "and same_module_as_attribute_access else true",
      words="Misleading if md['key'] is one ModuleDict method call that finds what "
      "attribute access finds: the module is retrieved, but there is no separate route "
      "through an \"underlying dictionary\"; true otherwise."),
    C("attribute_mechanism_inherited", "the attribute access mechanism inherited from "
      "nn.Module", "true",
      rule="true if moduledict_getattr_is_module_getattr else false",
      words="True if ModuleDict's attribute lookup is nn.Module's, unchanged."),
    C("maintains_structure", "This maintains the internal structure", "misleading",
      where="about attribute access",
      rule="false if not attribute_access_keeps_structure "
      "else misleading if item_access_keeps_structure else true",
      words="False if attribute access changes the structure; misleading if item access "
      "keeps it as well (nothing particular to attribute access)."),
    C("optimizer_efficiency", "the choice of indexing method will influence how "
      "efficiently your code interacts with the PyTorch optimizer", "false", proven_in=EX3,
      rule="false if parameters_bit_equal_after_training == parameters else true",
      words="False if training Examples 1 and 3 ends with bit-equal parameters."),
    C("gradient_tracking", "recommended for its gradient-tracking properties", "false",
      where="about attribute access", proven_in=EX3,
      also=("ensures proper gradient tracking",),
      rule="false if same_module and gradients_bit_equal else true",
      words="False if both styles find the same module and bit-equal gradients."),
    C("attribute_cumbersome", "can become cumbersome for dynamically sized nn.ModuleDict "
      "instances", "true", where="about attribute access",
      rule="true if keys_reachable_by_attribute_syntax < keys else false",
      words="True if some keys cannot be reached with md.<key> written in code."),
    C("iteration_varying_numbers", "more robust and adaptable when dealing with varying "
      "numbers of sub-modules", "misleading", where="about iteration (Example 2)",
      proven_in=EX2,
      also=("This illustrates a robust approach for handling dynamically sized "
            "nn.ModuleDict",
            "Example 2: Iterative Access (Recommended for dynamic architectures)"),
      rule="false if not items_yields_every_layer "
      "else true if depths_whose_forward_runs == depths_tried else misleading",
      words="False if items() misses a layer; true if Example 2's model runs at every "
      "depth; misleading if it iterates fine but crashes at some depths."),
    C("iteration_branching", "or conditional branching within the model’s architecture",
      "false", where="iteration is more robust for it",
      rule="false if item_access_raises_on_unknown_branch "
      "and not iteration_flags_unknown_branch else true",
      words="False if item access raises KeyError on a misspelt branch by itself, while "
      "a loop over items() runs nothing, silently, unless it is given a check of its "
      "own: iteration is then not the more robust; true otherwise."),
    C("backward_runtime_error", "The most common is a RuntimeError during "
      "backpropagation", "false", where="Example 3 is the article's case of it",
      proven_in=EX3,
      rule="true if characters_printed_by_except_branch else false",
      words="True if Example 3's except branch printed anything."),
    C("unused_parameters_error", "indicating that certain parameters are not part of the "
      "computation graph", "misleading",
      where="what the RuntimeError would indicate; judged in one process, without DDP",
      rule="true if backward_raises_for_an_unused_parameter "
      "else misleading if autograd_grad_raises_when_asked_for_it else false",
      words="True if backward() raises for a ModuleDict layer that was not used; "
      "misleading if it does not, but torch.autograd.grad, asked for that layer's "
      "weight, raises that its tensor was not used in the graph (the error exists, and "
      "has nothing to do with indexing); false otherwise."),
    C("prevents_updates", "thus preventing gradient updates", "false", proven_in=EX3,
      rule="false if parameters_changed_by_one_step == parameters else true",
      words="False if one optimizer step changes every parameter of Example 3."),
    C("parameter_sharing", "subtly incorrect model behavior due to unintended parameter "
      "sharing or disconnections", "misleading", where="a result of incorrect indexing",
      rule="true if indexing_created_sharing "
      "else misleading if one_module_under_two_keys_warns == 0 else false",
      words="True if any way of looking modules up makes separate ones shared; otherwise "
      "misleading if sharing one module under two keys is silent (it is real, but "
      "indexing does not cause it), else false."),
    C("silent_issues", "These issues are difficult to debug because they don't always "
      "trigger immediate errors", "misleading", proven_in=REGISTER,
      rule="true if indexing_styles_differ_in_a_tensor "
      "else misleading if parameters_a_plain_dict_hides else false",
      words="True if Examples 1 and 3 differ in a tensor; otherwise misleading if a plain "
      "dict hides parameters (a silent failure, not from indexing)."),
    C("example1_attribute_access", "Example 1: Attribute Access (Recommended for simpler "
      "cases)", "false", where="heading of Example 1", proven_in=EX1,
      also=("This example showcases the preferred attribute access method",),
      rule="false if not getattr_calls_per_forward "
      "else misleading if getitem_calls_per_forward else true",
      words="False if Example 1's forward makes no attribute lookup on the ModuleDict; "
      "misleading if it uses item access as well; true otherwise."),
    C("example1_gradients_correct", "Gradient calculation works correctly.", "true",
      where="comment on Example 1's loss.backward()", proven_in=EX3,
      also=("Backpropagation works correctly due to this preserved connection",),
      rule="true if gradients_equal_to_reference == parameters "
      "and gradcheck_float64 else false",
      words="True if every gradient equals the reference and gradcheck passes."),
    C("items_flexible", "Iterating through self.layers.items() allows flexible access to "
      "each sub-module", "true", proven_in=EX2_FIXED,
      rule="true if items_yields_every_layer and items_in_insertion_order else false",
      words="True if items() yields every layer, in insertion order."),
    C("example2_gradients_correct", "Gradient calculation works correctly.", "false",
      where="comment on Example 2's loss.backward()", proven_in=EX2,
      rule="true if backward_reached else false",
      words="True if Example 2 gets as far as loss.backward()."),
    C("layers_during_training", "the number of layers might be determined at runtime or "
      "during training", "misleading", where="iteration handles it",
      rule="false if not forward_uses_new_layer "
      "else true if new_layer_in_optimizer else misleading",
      words="False if a layer added during training is not used; true if the optimizer "
      "updates it; misleading if it runs but is never trained."),
    C("example3_incorrect", "Example 3: Incorrect Indexing (Illustrative of pitfalls)",
      "false", where="heading of Example 3", proven_in=EX3,
      rule="false if getitem_calls_example1 == getitem_calls_example3 "
      "and tensors_bit_equal == tensors_compared else true",
      words="False if Examples 1 and 3 make as many item lookups and compute bit-equal "
      "outputs and gradients."),
    C("executes_without_errors", "the code executes without immediate errors", "true",
      where="Example 3", proven_in=EX3,
      rule="true if ran_to_the_end else false",
      words="True if Example 3 runs to its last line."),
    C("backward_likely_fails", "loss.backward() will likely fail due to the severed "
      "connection", "false", where="Example 3", proven_in=EX3,
      rule="true if 2 * runs_whose_backward_raised > runs else false",
      words="True if backward raised in more than half of the runs."),
    C("clear_indicator", "The resulting RuntimeError is a clear indicator of improper "
      "indexing", "false", where="Example 3",
      rule="true if example3_raised and backward_errors_naming_indexing else false",
      words="True if Example 3 raised and a real backward error names indexing."),
    C("whole_module_affected", "even if only one layer is accessed incorrectly, it can "
      "affect the whole module", "false", where="Example 3", proven_in=EX3,
      rule="false if tensors_bit_equal == tensors_compared else true",
      words="False if Examples 1 and 3 compute bit-equal outputs and gradients."),
)

# The article's other sentences (a heading counts as one), by their opening words.
NOT_TESTABLE = {
    "Indexing nn.ModuleDict instances effectively requires a nuanced understanding":
        "an introduction: a 'nuanced understanding' is no behaviour that code can observe",
    "My experience building large-scale, multi-modal neural networks":
        "the author's experience, which no code can check",
    "1. Clear Explanation:": "a section heading",
    "2. Code Examples with Commentary:": "a section heading",
    "3. Resource Recommendations:": "a section heading",
    "Incorrect indexing will manifest in various ways.":
        "a lead-in: each way it then names is judged in the ledger",
    "The official PyTorch documentation, particularly the sections":
        "reading advice, not a claim about behaviour",
    "Furthermore, a solid understanding of Python’s object-oriented programming principles":
        "reading advice, not a claim about behaviour",
    "Finally, debugging tools provided by PyTorch":
        "advice; the myths page walks the graph with grad_fn.next_functions",
    "Thorough familiarity with these resources is essential":
        "advice, not a claim about behaviour",
}
