"""The ledger's rules: one named predicate per claim, from plain evidence to a verdict.

A rule reads only the evidence keys (Python identifiers) that ``_evidence.py`` computes
for the claim of the same name. Verdicts: "true"; "false"; "misleading" when the part of
the claim that can be checked holds but the conclusion the article draws from it does not.
``tests/test_ledger_rules.py`` feeds every rule the opposite evidence and sees it change.
"""


def module_container(e):
    return "false" if e["accepts_a_tensor_as_value"] else "true"


def inherits_module(e):
    return "true" if e["is_module_subclass"] else "false"


def participates_in_graph(e):
    if e["moduledict_parameters_that_are_leaves"] < e["moduledict_parameters"]:
        return "false"
    # Its parameters are in the graph, but so are those of modules kept in a plain dict:
    # participating does not follow from inheriting nn.Module.
    if e["plain_dict_parameters_that_are_leaves"] == e["plain_dict_parameters"]:
        return "misleading"
    return "true"


def item_access_breaks_graph(e):
    return "false" if e["parameters_with_a_gradient"] == e["parameters"] else "true"


def underlying_dictionary(e):
    # md['key'] runs a ModuleDict method and finds what attribute access finds:
    # the module is retrieved, but there is no separate "underlying dictionary" route.
    if e["moduledict_getitem_calls"] == 1 and e["same_module_as_attribute_access"]:
        return "misleading"
    return "true"


def attribute_mechanism_inherited(e):
    return "true" if e["moduledict_getattr_is_module_getattr"] else "false"


def maintains_structure(e):
    if not e["attribute_access_keeps_structure"]:
        return "false"
    return "misleading" if e["item_access_keeps_structure"] else "true"


def optimizer_efficiency(e):
    return "false" if e["parameters_bit_equal_after_training"] == e["parameters"] else "true"


def gradient_tracking(e):
    return "false" if e["same_module"] and e["gradients_bit_equal"] else "true"


def attribute_cumbersome(e):
    return "true" if e["keys_reachable_by_attribute_syntax"] < e["keys"] else "false"


def iteration_varying_numbers(e):
    if not e["items_yields_every_layer"]:
        return "false"
    return "true" if e["depths_whose_forward_runs"] == e["depths_tried"] else "misleading"


def iteration_branching(e):
    if e["item_access_raises_on_unknown_branch"] and not e["iteration_flags_unknown_branch"]:
        return "false"  # a misspelt branch: item access raises KeyError, iteration runs nothing
    return "true"


def backward_runtime_error(e):
    return "true" if e["characters_printed_by_except_branch"] else "false"


def unused_parameters_error(e):
    return "true" if e["backward_raises_for_an_unused_parameter"] else "false"


def prevents_updates(e):
    return "false" if e["parameters_changed_by_one_step"] == e["parameters"] else "true"


def parameter_sharing(e):
    if e["indexing_created_sharing"]:
        return "true"
    # Sharing is real and silent, but indexing cannot cause it.
    return "misleading" if e["one_module_under_two_keys_warns"] == 0 else "false"


def silent_issues(e):
    if e["indexing_styles_differ_in_a_tensor"]:
        return "true"
    # Silent failures exist (a plain dict hides parameters), but not from indexing.
    return "misleading" if e["parameters_a_plain_dict_hides"] else "false"


def example1_attribute_access(e):
    if not e["getattr_calls_per_forward"]:
        return "false"
    return "misleading" if e["getitem_calls_per_forward"] else "true"


def example1_gradients_correct(e):
    correct = e["gradients_equal_to_reference"] == e["parameters"] and e["gradcheck_float64"]
    return "true" if correct else "false"


def items_flexible(e):
    return "true" if e["items_yields_every_layer"] and e["items_in_insertion_order"] else "false"


def example2_gradients_correct(e):
    return "true" if e["backward_reached"] else "false"


def layers_during_training(e):
    if not e["forward_uses_new_layer"]:
        return "false"
    return "true" if e["new_layer_in_optimizer"] else "misleading"


def example3_incorrect(e):
    same = e["getitem_calls_example1"] == e["getitem_calls_example3"]
    return "false" if same and e["tensors_bit_equal"] == e["tensors_compared"] else "true"


def executes_without_errors(e):
    return "true" if e["ran_to_the_end"] else "false"


def backward_likely_fails(e):
    return "true" if 2 * e["runs_whose_backward_raised"] > e["runs"] else "false"


def clear_indicator(e):
    indicates = e["example3_raised"] and e["backward_errors_naming_indexing"]
    return "true" if indicates else "false"


def whole_module_affected(e):
    return "false" if e["tensors_bit_equal"] == e["tensors_compared"] else "true"
