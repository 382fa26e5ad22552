"""The article's claims, and its sentences no code can test. A claim's ``key`` names
its evidence function; ``rule`` is a Python expression over the values it returns;
``words`` says the rule. ``quote`` and ``also`` (the same claim, again) are the article's
words; ``proven_in`` is a docname ("exampleN_...": the article example's page) or ""."""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def _records(text: str):
    """Claims: a ``key (expected) proven_in`` line, ``field: value`` lines (indented: more)."""
    for record in re.split(r"\n(?=\w+ \()", text.strip()):
        head, *lines = re.sub(r"\n +", " ", record).splitlines()
        key, expected, *proven = re.sub("[()]", "", head).split()
        fields = dict(line.split(": ", 1) for line in lines if line[:6] != "also: ")
        fields["also"] = tuple(line[6:] for line in lines if line[:6] == "also: ")
        (page,) = proven or [""]
        page = re.sub("^example", "auto_examples/article/plot_article_example", page)
        yield Claim(key, expected=expected, proven_in=page, **fields)


CLAIMS = tuple(_records("""
module_container (true)
quote: nn.ModuleDict is not merely a dictionary; it's a dictionary containing nn.Module instances
rule: false if accepts_a_tensor_as_value else true
words: False if a ModuleDict accepts a tensor as a value, else true.
inherits_module (true)
quote: nn.ModuleDict inherits from nn.Module
rule: true if is_module_subclass else false
words: True if ModuleDict is a subclass of nn.Module.
participates_in_graph (misleading) explanation/why-indexing-cannot-touch-autograd
quote: meaning it participates in the PyTorch computation graph
also: ensuring it remains within the PyTorch computation graph
rule: false if moduledict_parameters_that_are_leaves < moduledict_parameters else true if
  modules_among_graph_nodes else misleading
words: False if some of Example 1's parameters are not graph leaves; true if a module is itself a
  node of the autograd graph; misleading otherwise: the graph holds no module, and its parameters
  are leaves as a plain dict's are.
item_access_breaks_graph (false) example1_item_access_works
quote: it might break the connection to the computational graph if not handled correctly
where: about my_dict['key']
also: ensure the resulting object retains its connection to the overarching model
rule: false if parameters_with_a_gradient == parameters else true
words: False if every parameter of Example 1 gets a gradient, else true.
underlying_dictionary (misleading) explanation/why-indexing-cannot-touch-autograd
quote: Directly accessing the underlying dictionary using standard Python dictionary indexing
  (my_dict['key'])
also: the consequences of directly accessing the internal dictionary
rule: misleading if moduledict_getitem_calls == 1 and same_module_as_attribute_access else true
words: Misleading if md['key'] is one ModuleDict method call that finds what attribute access
  finds: the module is retrieved, but there is no separate route through an "underlying
  dictionary"; true otherwise.
attribute_mechanism_inherited (true)
quote: the attribute access mechanism inherited from nn.Module
rule: true if moduledict_getattr_is_module_getattr else false
words: True if ModuleDict's attribute lookup is nn.Module's, unchanged.
maintains_structure (misleading)
quote: This maintains the internal structure
where: about attribute access
rule: false if not attribute_access_keeps_structure else misleading if item_access_keeps_structure
  else true
words: False if attribute access changes the structure; misleading if item access keeps it as well
  (nothing particular to attribute access).
optimizer_efficiency (false) example3_backward_succeeds
quote: the choice of indexing method will influence how efficiently your code interacts with the
  PyTorch optimizer
rule: false if used_by_item_access == found_by_attribute_access == parameters and not
  moved_by_step else true
words: False if the parameters that item access used and attribute access finds are the very
  objects the optimizer holds, and its step updates them in place: no lookup copies anything.
gradient_tracking (false) example3_backward_succeeds
quote: recommended for its gradient-tracking properties
where: about attribute access
also: ensures proper gradient tracking
rule: false if same_module and gradients_bit_equal else true
words: False if both styles find the same module and bit-equal gradients.
attribute_cumbersome (true)
quote: can become cumbersome for dynamically sized nn.ModuleDict instances
where: about attribute access
rule: true if keys_reachable_by_attribute_syntax < keys else false
words: True if some keys cannot be reached with md.<key> written in code.
iteration_varying_numbers (misleading) example2_crashes_as_written
quote: more robust and adaptable when dealing with varying numbers of sub-modules
where: about iteration (Example 2)
also: This illustrates a robust approach for handling dynamically sized nn.ModuleDict
also: Example 2: Iterative Access (Recommended for dynamic architectures)
rule: false if not items_yields_every_layer else true if depths_whose_forward_runs == depths_tried
  else misleading
words: False if items() misses a layer; true if Example 2's model runs at every depth; misleading
  if it iterates fine but crashes at some depths.
iteration_branching (misleading)
quote: or conditional branching within the model’s architecture
where: iteration is more robust for it
rule: true if iteration_flags_unknown_branch else misleading if scripted_loop_picks_at_run_time
  and not item_access_by_a_run_time_key_scripts else false
words: True if a loop over items() flags a misspelt branch itself; else misleading if under
  torch.jit.script the loop picks a branch at run time while item access by a run-time key does
  not script (there it is the way to branch, yet it runs nothing for a misspelt one); else false.
backward_runtime_error (false) example3_backward_succeeds
quote: The most common is a RuntimeError during backpropagation
where: Example 3 is the article's case of it
rule: true if characters_printed_by_except_branch else false
words: True if Example 3's except branch printed anything.
unused_parameters_error (misleading)
quote: indicating that certain parameters are not part of the computation graph
where: what the RuntimeError would indicate; judged in one process, without DDP
rule: true if backward_raises_for_an_unused_parameter else misleading if
  autograd_grad_raises_when_asked_for_it else false
words: True if backward() raises for a ModuleDict layer that was not used; misleading if it does
  not, but torch.autograd.grad, asked for that layer's weight, raises that its tensor was not used
  in the graph (the error exists, and has nothing to do with indexing); false otherwise.
prevents_updates (false) example3_backward_succeeds
quote: thus preventing gradient updates
rule: false if parameters_changed_by_one_step == parameters else true
words: False if one optimizer step changes every parameter of Example 3.
parameter_sharing (misleading)
quote: subtly incorrect model behavior due to unintended parameter sharing or disconnections
where: a result of incorrect indexing
rule: true if indexing_created_sharing else misleading if one_module_under_two_keys_warns == 0 else
  false
words: True if any way of looking modules up makes separate ones shared; otherwise misleading if
  sharing one module under two keys is silent (it is real, but indexing does not cause it), else
  false.
silent_issues (misleading) howto/register-modules
quote: These issues are difficult to debug because they don't always trigger immediate errors
rule: true if indexing_styles_differ_in_a_tensor else misleading if parameters_a_plain_dict_hides
  else false
words: True if Examples 1 and 3 differ in a tensor; otherwise misleading if a plain dict hides
  parameters (a silent failure, not from indexing).
example1_attribute_access (false) example1_item_access_works
quote: Example 1: Attribute Access (Recommended for simpler cases)
where: heading of Example 1
also: This example showcases the preferred attribute access method
rule: false if not getattr_calls_per_forward else misleading if getitem_calls_per_forward else true
words: False if Example 1's forward makes no attribute lookup on the ModuleDict; misleading if it
  uses item access as well; true otherwise.
example1_gradients_correct (true) example3_backward_succeeds
quote: Gradient calculation works correctly.
where: comment on Example 1's loss.backward()
also: Backpropagation works correctly due to this preserved connection
rule: true if gradients_equal_to_reference == parameters and gradcheck_float64 else false
words: True if every gradient equals the reference and gradcheck passes.
items_flexible (true) example2_fixed_layers_compose
quote: Iterating through self.layers.items() allows flexible access to each sub-module
rule: true if items_yields_every_layer and items_in_insertion_order else false
words: True if items() yields every layer, in insertion order.
example2_gradients_correct (false) example2_crashes_as_written
quote: Gradient calculation works correctly.
where: comment on Example 2's loss.backward()
rule: true if backward_reached else false
words: True if Example 2 gets as far as loss.backward().
layers_during_training (misleading)
quote: the number of layers might be determined at runtime or during training
where: iteration handles it
rule: false if not forward_uses_new_layer else true if new_layer_in_optimizer else misleading
words: False if a layer added during training is not used; true if the optimizer updates it;
  misleading if it runs but is never trained.
example3_incorrect (false) example3_backward_succeeds
quote: Example 3: Incorrect Indexing (Illustrative of pitfalls)
where: heading of Example 3
rule: false if getitem_calls_example1 == getitem_calls_example3 and tensors_bit_equal ==
  tensors_compared else true
words: False if Examples 1 and 3 make as many item lookups and compute bit-equal outputs and
  gradients.
executes_without_errors (true) example3_backward_succeeds
quote: the code executes without immediate errors
where: Example 3
rule: true if ran_to_the_end else false
words: True if Example 3 runs to its last line.
backward_likely_fails (false) example3_backward_succeeds
quote: loss.backward() will likely fail due to the severed connection
where: Example 3
rule: true if 2 * runs_whose_backward_raised > runs else false
words: True if backward raised in more than half of the runs.
clear_indicator (false)
quote: The resulting RuntimeError is a clear indicator of improper indexing
where: Example 3
rule: true if example3_raised and backward_errors_naming_indexing else false
words: True if Example 3 raised and a real backward error names indexing.
whole_module_affected (false) example3_backward_succeeds
quote: even if only one layer is accessed incorrectly, it can affect the whole module
where: Example 3
rule: false if tensors_bit_equal == tensors_compared else true
words: False if Examples 1 and 3 compute bit-equal outputs and gradients.
"""))

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
