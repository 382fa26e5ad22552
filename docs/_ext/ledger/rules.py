"""The ledger's rules: one predicate per claim, from its evidence to a verdict.

A rule reads only the values that the evidence function of the same name
computes; its docstring says the rule in words, as the page shows it.
Verdicts: "true"; "false"; "misleading" when the part of the claim that can
be checked holds but the conclusion the article draws from it does not.
"""


def module_container(e):
    """False if a ModuleDict accepts a tensor as a value, else true."""
    return "false" if e["accepts_a_tensor_as_value"] else "true"


def inherits_module(e):
    """True if ModuleDict is a subclass of nn.Module."""
    return "true" if e["is_module_subclass"] else "false"


def participates_in_graph(e):
    """False if some of Example 1's parameters are not graph leaves; true if
    a module is itself a node of the autograd graph; misleading otherwise:
    the graph holds no module, and its parameters are leaves as a plain
    dict's are."""
    leaves = e["moduledict_parameters_that_are_leaves"]
    if leaves < e["moduledict_parameters"]:
        return "false"
    if e["modules_among_graph_nodes"]:
        return "true"
    return "misleading"


def item_access_breaks_graph(e):
    """False if every parameter of Example 1 gets a gradient, else true."""
    every = e["parameters_with_a_gradient"] == e["parameters"]
    return "false" if every else "true"


def underlying_dictionary(e):
    """Misleading if md['key'] is one ModuleDict method call that finds what
    attribute access finds: the module is retrieved, but there is no separate
    route through an "underlying dictionary"; true otherwise."""
    same = e["same_module_as_attribute_access"]
    if e["moduledict_getitem_calls"] == 1 and same:
        return "misleading"
    return "true"


def attribute_mechanism_inherited(e):
    """True if ModuleDict's attribute lookup is nn.Module's, unchanged."""
    return "true" if e["moduledict_getattr_is_module_getattr"] else "false"


def maintains_structure(e):
    """False if attribute access changes the structure; misleading if item
    access keeps it as well (nothing particular to attribute access)."""
    if not e["attribute_access_keeps_structure"]:
        return "false"
    return "misleading" if e["item_access_keeps_structure"] else "true"


def optimizer_efficiency(e):
    """False if training Examples 1 and 3 ends with bit-equal parameters."""
    equal = e["parameters_bit_equal_after_training"] == e["parameters"]
    return "false" if equal else "true"


def gradient_tracking(e):
    """False if both styles find the same module and bit-equal gradients."""
    return "false" if e["same_module"] and e["gradients_bit_equal"] else "true"


def attribute_cumbersome(e):
    """True if some keys cannot be reached with md.<key> written in code."""
    some = e["keys_reachable_by_attribute_syntax"] < e["keys"]
    return "true" if some else "false"


def iteration_varying_numbers(e):
    """False if items() misses a layer; true if Example 2's model runs at
    every depth; misleading if it iterates fine but crashes at some depths."""
    if not e["items_yields_every_layer"]:
        return "false"
    every = e["depths_whose_forward_runs"] == e["depths_tried"]
    return "true" if every else "misleading"


def iteration_branching(e):
    """False if item access raises KeyError on a misspelt branch by itself,
    while a loop over items() runs nothing, silently, unless it is given a
    check of its own: iteration is then not the more robust; true otherwise."""
    flagged = e["iteration_flags_unknown_branch"]
    if e["item_access_raises_on_unknown_branch"] and not flagged:
        return "false"
    return "true"


def backward_runtime_error(e):
    """True if Example 3's except branch printed anything."""
    return "true" if e["characters_printed_by_except_branch"] else "false"


def unused_parameters_error(e):
    """True if backward() raises for a ModuleDict layer that was not used;
    misleading if it does not, but torch.autograd.grad, asked for that
    layer's weight, raises that its tensor was not used in the graph (the
    error exists, and has nothing to do with indexing); false otherwise."""
    if e["backward_raises_for_an_unused_parameter"]:
        return "true"
    if e["autograd_grad_raises_when_asked_for_it"]:
        return "misleading"
    return "false"


def prevents_updates(e):
    """False if one optimizer step changes every parameter of Example 3."""
    every = e["parameters_changed_by_one_step"] == e["parameters"]
    return "false" if every else "true"


def parameter_sharing(e):
    """True if any way of looking modules up makes separate ones shared;
    otherwise misleading if sharing one module under two keys is silent (it
    is real, but indexing does not cause it), else false."""
    if e["indexing_created_sharing"]:
        return "true"
    silent = e["one_module_under_two_keys_warns"] == 0
    return "misleading" if silent else "false"


def silent_issues(e):
    """True if Examples 1 and 3 differ in a tensor; otherwise misleading if
    a plain dict hides parameters (a silent failure, not from indexing)."""
    if e["indexing_styles_differ_in_a_tensor"]:
        return "true"
    return "misleading" if e["parameters_a_plain_dict_hides"] else "false"


def example1_attribute_access(e):
    """False if Example 1's forward makes no attribute lookup on the
    ModuleDict; misleading if it uses item access as well; true otherwise."""
    if not e["getattr_calls_per_forward"]:
        return "false"
    return "misleading" if e["getitem_calls_per_forward"] else "true"


def example1_gradients_correct(e):
    """True if every gradient equals the reference and gradcheck passes."""
    equal = e["gradients_equal_to_reference"] == e["parameters"]
    correct = equal and e["gradcheck_float64"]
    return "true" if correct else "false"


def items_flexible(e):
    """True if items() yields every layer, in insertion order."""
    ordered = e["items_in_insertion_order"]
    return "true" if e["items_yields_every_layer"] and ordered else "false"


def example2_gradients_correct(e):
    """True if Example 2 gets as far as loss.backward()."""
    return "true" if e["backward_reached"] else "false"


def layers_during_training(e):
    """False if a layer added during training is not used; true if the
    optimizer updates it; misleading if it runs but is never trained."""
    if not e["forward_uses_new_layer"]:
        return "false"
    return "true" if e["new_layer_in_optimizer"] else "misleading"


def example3_incorrect(e):
    """False if Examples 1 and 3 make as many item lookups and compute
    bit-equal outputs and gradients."""
    same = e["getitem_calls_example1"] == e["getitem_calls_example3"]
    equal = e["tensors_bit_equal"] == e["tensors_compared"]
    return "false" if same and equal else "true"


def executes_without_errors(e):
    """True if Example 3 runs to its last line."""
    return "true" if e["ran_to_the_end"] else "false"


def backward_likely_fails(e):
    """True if backward raised in more than half of the runs."""
    most = 2 * e["runs_whose_backward_raised"] > e["runs"]
    return "true" if most else "false"


def clear_indicator(e):
    """True if Example 3 raised and a real backward error names indexing."""
    indicates = e["example3_raised"] and e["backward_errors_naming_indexing"]
    return "true" if indicates else "false"


def whole_module_affected(e):
    """False if Examples 1 and 3 compute bit-equal outputs and gradients."""
    equal = e["tensors_bit_equal"] == e["tensors_compared"]
    return "false" if equal else "true"
