"""The article's claims, each with the verdict we expect, and its untestable sentences.

A claim's ``key`` names both its evidence function (``ledger.evidence``) and its rule
(``ledger.rules``). Sentences of the article that no code can test are in
``NOT_TESTABLE``, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

EX1 = "auto_examples/article/plot_article_example1_item_access_works"
EX2 = "auto_examples/article/plot_article_example2_crashes_as_written"
EX2_FIXED = "auto_examples/article/plot_article_example2_fixed_layers_compose"
EX3 = "auto_examples/article/plot_article_example3_backward_succeeds"
WHY = "explanation/why-indexing-cannot-touch-autograd"
REGISTER = "howto/register-modules"


@dataclass(frozen=True)
class Claim:
    """One claim of the article: its words, where it is made, what we expect.

    ``quote`` and every ``also`` are the article's words (markdown removed);
    ``also`` are other sentences that make the same claim. ``proven_in`` is a
    Sphinx docname, or "" when the ledger's own evidence is the whole proof.
    """

    key: str
    quote: str
    expected: str
    where: str = ""
    proven_in: str = ""
    also: tuple[str, ...] = ()


C = Claim
CLAIMS = (
    C("module_container", "nn.ModuleDict is not merely a dictionary; it's a dictionary containing "
      "nn.Module instances", "true"),
    C("inherits_module", "nn.ModuleDict inherits from nn.Module", "true"),
    C("participates_in_graph", "meaning it participates in the PyTorch computation graph",
      "misleading", proven_in=WHY,
      also=("ensuring it remains within the PyTorch computation graph",)),
    C("item_access_breaks_graph", "it might break the connection to the computational graph if "
      "not handled correctly", "false", "about my_dict['key']", EX1,
      also=("ensure the resulting object retains its connection to the overarching model",)),
    C("underlying_dictionary", "Directly accessing the underlying dictionary using standard "
      "Python dictionary indexing (my_dict['key'])", "misleading", proven_in=WHY,
      also=("the consequences of directly accessing the internal dictionary",)),
    C("attribute_mechanism_inherited", "the attribute access mechanism inherited from nn.Module",
      "true"),
    C("maintains_structure", "This maintains the internal structure", "misleading",
      "about attribute access"),
    C("optimizer_efficiency", "the choice of indexing method will influence how efficiently your "
      "code interacts with the PyTorch optimizer", "false", proven_in=EX3),
    C("gradient_tracking", "recommended for its gradient-tracking properties", "false",
      "about attribute access", EX3, also=("ensures proper gradient tracking",)),
    C("attribute_cumbersome", "can become cumbersome for dynamically sized nn.ModuleDict "
      "instances", "true", "about attribute access"),
    C("iteration_varying_numbers", "more robust and adaptable when dealing with varying numbers "
      "of sub-modules", "misleading", "about iteration (Example 2)", EX2,
      also=("This illustrates a robust approach for handling dynamically sized nn.ModuleDict",
            "Example 2: Iterative Access (Recommended for dynamic architectures)")),
    C("iteration_branching", "or conditional branching within the model’s architecture",
      "false", "iteration is more robust for it"),
    C("backward_runtime_error", "The most common is a RuntimeError during backpropagation",
      "false", "Example 3 is the article's case of it", EX3),
    C("unused_parameters_error", "indicating that certain parameters are not part of the "
      "computation graph", "misleading",
      "what the RuntimeError would indicate; judged in one process, without DDP"),
    C("prevents_updates", "thus preventing gradient updates", "false", proven_in=EX3),
    C("parameter_sharing", "subtly incorrect model behavior due to unintended parameter sharing "
      "or disconnections", "misleading", "a result of incorrect indexing"),
    C("silent_issues", "These issues are difficult to debug because they don't always trigger "
      "immediate errors", "misleading", proven_in=REGISTER),
    C("example1_attribute_access", "Example 1: Attribute Access (Recommended for simpler cases)",
      "false", "heading of Example 1", EX1,
      also=("This example showcases the preferred attribute access method",)),
    C("example1_gradients_correct", "Gradient calculation works correctly.", "true",
      "comment on Example 1's loss.backward()", EX3,
      also=("Backpropagation works correctly due to this preserved connection",)),
    C("items_flexible", "Iterating through self.layers.items() allows flexible access to each "
      "sub-module", "true", proven_in=EX2_FIXED),
    C("example2_gradients_correct", "Gradient calculation works correctly.", "false",
      "comment on Example 2's loss.backward()", EX2),
    C("layers_during_training", "the number of layers might be determined at runtime or during "
      "training", "misleading", "iteration handles it"),
    C("example3_incorrect", "Example 3: Incorrect Indexing (Illustrative of pitfalls)", "false",
      "heading of Example 3", EX3),
    C("executes_without_errors", "the code executes without immediate errors", "true",
      "Example 3", EX3),
    C("backward_likely_fails", "loss.backward() will likely fail due to the severed connection",
      "false", "Example 3", EX3),
    C("clear_indicator", "The resulting RuntimeError is a clear indicator of improper indexing",
      "false", "Example 3"),
    C("whole_module_affected", "even if only one layer is accessed incorrectly, it can affect "
      "the whole module", "false", "Example 3", EX3),
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
