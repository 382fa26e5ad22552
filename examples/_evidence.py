"""The ledger's evidence: for each claim, a function of the same name that computes it.

Each returns a dict of plain values under Python identifiers (``_rules.py`` reads them);
``LABELS`` gives each key the words the ledger page shows. Everything runs on CPU, in the
build, with the seeds written here.
"""

from __future__ import annotations

import ast
import warnings

import torch
import torch.nn.functional as F
from _article import EXAMPLE_1, EXAMPLE_2, EXAMPLE_3
from _graph import leaf_variables
from _harness import adam_steps, article_input, count_calls, grads, run
from torch import nn

def _is_in(tensor, tensors) -> bool:
    return any(tensor is t for t in tensors)


class PlainDictModel(nn.Module):
    """Example 1's layers kept in a plain dict: the real silent pitfall."""

    def __init__(self):
        super().__init__()
        self.layers = {"layer1": nn.Linear(10, 5), "layer2": nn.Linear(5, 2)}

    def forward(self, x):
        return self.layers["layer2"](self.layers["layer1"](x))


def module_container():
    md = nn.ModuleDict({"a": nn.Linear(2, 2)})
    try:
        md["t"] = torch.ones(1)
        accepts = True
    except TypeError:
        accepts = False
    return {"is_dict_instance": isinstance(md, dict), "accepts_a_tensor_as_value": accepts,
            "parameters_of_its_module": len(list(md["a"].parameters()))}


def inherits_module():
    return {"is_module_subclass": issubclass(nn.ModuleDict, nn.Module)}


def participates_in_graph():
    ns, plain = run(EXAMPLE_1), PlainDictModel()
    leaves = leaf_variables(ns["loss"])
    plain_leaves = leaf_variables(plain(torch.randn(1, 10)).mean())
    hidden = [p for m in plain.layers.values() for p in m.parameters()]
    return {"moduledict_parameters": len(grads(ns["model"])),
            "moduledict_parameters_that_are_leaves":
                sum(_is_in(p, leaves) for p in ns["model"].layers.parameters()),
            "plain_dict_parameters": len(hidden),
            "plain_dict_parameters_that_are_leaves": sum(_is_in(p, plain_leaves) for p in hidden)}


def item_access_breaks_graph():
    gs = grads(run(EXAMPLE_1)["model"])
    return {"parameters": len(gs), "parameters_with_a_gradient": sum(g is not None for g in gs),
            "nonzero_gradients": sum(bool(g.abs().sum()) for g in gs)}


def underlying_dictionary():
    md = nn.ModuleDict({"key": nn.Linear(2, 2)})
    with count_calls(nn.ModuleDict, "__getitem__") as calls:
        found = md["key"]
    return {"is_dict_instance": isinstance(md, dict), "moduledict_getitem_calls": len(calls),
            "same_module_as_attribute_access": found is md.key is md._modules["key"]}


def attribute_mechanism_inherited():
    inherited = nn.ModuleDict.__getattr__ is nn.Module.__getattr__
    return {"moduledict_getattr_is_module_getattr": inherited}


def _structure(model):
    return ([n for n, _ in model.named_modules()], list(model.state_dict()),
            [id(p) for p in model.parameters()])


def maintains_structure():
    kept = {}
    for style, lookup in (("attribute", getattr), ("item", lambda md, k: md[k])):
        model = run(EXAMPLE_1)["model"]
        before = _structure(model)
        x = lookup(model.layers, "layer1")(torch.randn(3, 10))
        lookup(model.layers, "layer2")(x).sum().backward()
        kept[style] = _structure(model) == before
    return {"attribute_access_keeps_structure": kept["attribute"],
            "item_access_keeps_structure": kept["item"]}


def optimizer_efficiency():
    trained = [adam_steps(run(code)["MyModel"], steps=20) for code in (EXAMPLE_1, EXAMPLE_3)]
    return {"adam_steps": 20, "parameters": len(trained[0]),
            "parameters_bit_equal_after_training": sum(map(torch.equal, *trained))}


def gradient_tracking():
    results = []
    for lookup in (lambda md, k: md[k], getattr):
        md = run(EXAMPLE_1)["model"].layers
        md.zero_grad()
        lookup(md, "layer2")(lookup(md, "layer1")(torch.ones(1, 10))).mean().backward()
        results.append(grads(md))
    return {"same_module": md["layer1"] is md.layer1,
            "gradients_bit_equal": all(map(torch.equal, *results))}


def attribute_cumbersome():
    md = nn.ModuleDict({k: nn.Identity() for k in ("layer1", "layer-2", "3", "layer 4")})
    reachable = 0
    for key in md:
        try:
            reachable += eval(f"md.{key}", {"md": md}) is md[key]
        except (SyntaxError, AttributeError, TypeError):
            pass  # md.<key> cannot be written, or finds something else
    return {"keys": len(md), "keys_reachable_by_attribute_syntax": reachable}


def iteration_varying_numbers():
    DynamicModel = run(EXAMPLE_2)["DynamicModel"]  # the class is defined before the crash
    every, runs = True, 0
    for n in range(1, 7):
        model = DynamicModel(n)
        every &= len(list(model.layers.items())) == n
        try:
            model(torch.randn(1, 10))
            runs += 1
        except RuntimeError:
            pass  # counted: this depth's forward does not run
    return {"depths_tried": 6, "items_yields_every_layer": every, "depths_whose_forward_runs": runs}


def iteration_branching():
    heads = nn.ModuleDict({"cat": nn.Linear(4, 2), "dog": nn.Linear(4, 3)})
    x = torch.ones(1, 4)

    def by_iteration(branch):  # iterate, and run the head whose name matches
        for name, head in heads.items():
            if name == branch:
                return head(x)
        return x

    try:
        heads["dgo"]
        item_raises = False
    except KeyError:
        item_raises = True
    return {"same_result_for_a_known_branch": torch.equal(by_iteration("dog"), heads["dog"](x)),
            "iteration_flags_unknown_branch": by_iteration("dgo") is not x,
            "item_access_raises_on_unknown_branch": item_raises}


def backward_runtime_error():
    ns = run(EXAMPLE_3)
    return {"characters_printed_by_except_branch": len(ns["printed"]),
            "error_raised": type(ns["error"]).__name__ if ns["error"] else "none"}


def unused_parameters_error():
    md = nn.ModuleDict({"used": nn.Linear(2, 1), "unused": nn.Linear(2, 1)})
    loss = md["used"](torch.ones(1, 2)).sum()
    try:
        loss.backward(retain_graph=True)
        raised = False
    except RuntimeError:
        raised = True
    try:
        torch.autograd.grad(loss, md["unused"].weight)
        grad_raises = False
    except RuntimeError as error:
        grad_raises = "appears to not have been used in the graph" in str(error)
    return {"backward_raises_for_an_unused_parameter": raised,
            "unused_grad_stays_none": md["unused"].weight.grad is None,
            "autograd_grad_raises_when_asked_for_it": grad_raises}


def prevents_updates():
    model = run(EXAMPLE_3)["model"]
    before = [p.detach().clone() for p in model.parameters()]
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    return {"parameters": len(before),
            "nonzero_gradients": sum(bool(g.abs().sum()) for g in grads(model)),
            "parameters_changed_by_one_step":
                sum(not torch.equal(b, p) for b, p in zip(before, model.parameters()))}


def parameter_sharing():
    shared = nn.Linear(4, 4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        md = nn.ModuleDict({"a": shared, "b": shared})
    separate = nn.ModuleDict({"a": nn.Linear(4, 4), "b": nn.Linear(4, 4)})
    found = [separate["a"], separate.b, getattr(separate, "a"), *separate.values()]
    found += [m for _, m in separate.items()]
    return {"one_module_under_two_keys_warns": len(caught),
            "parameters_listed_for_two_keys": len(list(md.parameters())),
            "indexing_created_sharing": len({id(m) for m in found}) != 2}


def _examples_1_and_3():
    results = []
    for code in (EXAMPLE_1, EXAMPLE_3):  # same seed: same weights, same torch.randn input
        ns = run(code)
        results.append([ns["output"], *grads(ns["model"])])
    return {"tensors_compared": 5, "tensors_bit_equal": sum(map(torch.equal, *results))}


def silent_issues():
    same = _examples_1_and_3()
    model = PlainDictModel()
    model(torch.randn(1, 10)).mean().backward()  # runs without any error
    seen = sum(len(list(layer.parameters())) for layer in model.layers.values())
    differ = same["tensors_bit_equal"] < same["tensors_compared"]
    return {"indexing_styles_differ_in_a_tensor": differ,
            "parameters_a_plain_dict_hides": seen - len(list(model.parameters()))}


def _getitem_calls(code):
    model = run(code)["model"]
    with count_calls(nn.ModuleDict, "__getitem__") as calls:
        model(torch.randn(1, 10))
    return len(calls)


def example1_attribute_access():
    model = run(EXAMPLE_1)["model"]
    with count_calls(nn.ModuleDict, "__getattr__") as attrs:
        model(torch.randn(1, 10))
        in_forward = len(attrs)
        model.layers.layer1  # proof that the counter sees attribute access
        assert len(attrs) == in_forward + 1
    forward = next(n for n in ast.walk(ast.parse(EXAMPLE_1)) if getattr(n, "name", "") == "forward")
    subscripts = sum(isinstance(n, ast.Subscript) for n in ast.walk(forward))
    return {"subscripts_in_forward_source": subscripts,
            "getitem_calls_per_forward": _getitem_calls(EXAMPLE_1),
            "getattr_calls_per_forward": in_forward}


def example1_gradients_correct():
    ns = run(EXAMPLE_1)
    x, model = article_input(ns), ns["model"]
    w1, b1, w2, b2 = (p.detach().clone().requires_grad_() for p in model.parameters())
    reference = torch.autograd.grad(F.linear(F.linear(x, w1, b1), w2, b2).mean(), (w1, b1, w2, b2))
    names, model64 = [n for n, _ in model.named_parameters()], model.double()
    params = tuple(p.detach().clone().requires_grad_() for p in model64.parameters())
    passes = torch.autograd.gradcheck(lambda *ps: torch.func.functional_call(
        model64, dict(zip(names, ps)), (x.double(),)).mean(), params)
    return {"parameters": len(names), "gradcheck_float64": passes,
            "gradients_equal_to_reference": sum(map(torch.equal, grads(model), reference))}


def items_flexible():
    layers = nn.ModuleDict({f"layer{i + 1}": nn.Identity() for i in range(12)})
    keys = [k for k, _ in layers.items()]
    DynamicModel = run(EXAMPLE_2)["DynamicModel"]
    every = all(len(list(DynamicModel(n).layers.items())) == n for n in range(1, 7))
    return {"items_yields_every_layer": every,
            "items_in_insertion_order": keys == [f"layer{i + 1}" for i in range(12)],
            "insertion_order_is_sorted_order": keys == sorted(keys)}


def example2_gradients_correct():
    ns = run(EXAMPLE_2)
    return {"error_raised": type(ns["error"]).__name__, "backward_reached": "loss" in ns}


def layers_during_training():
    model = run(EXAMPLE_2)["DynamicModel"](1)
    optimizer = torch.optim.Adam(model.parameters())
    model.to(torch.float64)
    model.layers["layer2"] = new = nn.Linear(5, 5)  # added during training
    dtype = new.weight.dtype
    model.to(torch.float64)
    before = new.weight.detach().clone()
    out = model(torch.randn(1, 10, dtype=torch.float64))
    out.mean().backward()
    optimizer.step()
    listed = [p for group in optimizer.param_groups for p in group["params"]]
    in_optimizer = any(_is_in(p, listed) for p in new.parameters())
    return {"forward_uses_new_layer": out.shape == (1, 5) and new.weight.grad is not None,
            "new_layer_in_optimizer": in_optimizer,
            "new_layer_changed_by_step": not torch.equal(before, new.weight),
            "new_layer_dtype_before_a_second_to": str(dtype)}


def example3_incorrect():
    return {"getitem_calls_example1": _getitem_calls(EXAMPLE_1),
            "getitem_calls_example3": _getitem_calls(EXAMPLE_3), **_examples_1_and_3()}


def executes_without_errors():
    ns = run(EXAMPLE_3)
    return {"ran_to_the_end": ns["error"] is None, "output_shape": tuple(ns["output"].shape)}


def backward_likely_fails():
    runs = [run(EXAMPLE_3, seed) for seed in range(10)]
    return {"runs": len(runs), "runs_whose_backward_raised": sum(bool(r["printed"]) for r in runs)}


def backward_twice():
    """Backward through a graph whose saved tensors were freed by the first backward."""
    loss = (nn.Linear(2, 1)(torch.ones(1, 2)) ** 2).sum()
    loss.backward()
    loss.backward()


def loss_without_grad():
    """Backward from a loss computed under torch.no_grad(): nothing requires grad."""
    with torch.no_grad():
        loss = nn.Linear(2, 1)(torch.ones(1, 2)).sum()
    loss.backward()


def inplace_after_save():
    """Backward after an in-place change to a tensor that autograd saved."""
    y = torch.sigmoid(nn.Linear(2, 2)(torch.ones(1, 2)))  # sigmoid saves its output
    y.add_(1)
    y.sum().backward()


BACKWARD_ERRORS = {backward_twice: "backward through the graph a second time",
                   loss_without_grad: "does not require grad and does not have a grad_fn",
                   inplace_after_save: "modified by an inplace operation"}


def clear_indicator():
    messages = []
    for trigger in BACKWARD_ERRORS:
        try:
            trigger()
        except RuntimeError as error:
            messages.append(str(error))
    words = ("index", "ModuleDict", "getitem")
    ex3 = run(EXAMPLE_3)
    return {"example3_raised": ex3["error"] is not None or bool(ex3["printed"]),
            "real_backward_errors_raised": len(messages),
            "backward_errors_naming_indexing": sum(any(w in m for w in words) for m in messages)}


def whole_module_affected():
    return _examples_1_and_3()


LABELS = {
    "is_dict_instance": "isinstance(md, dict)",
    "accepts_a_tensor_as_value": "md['t'] = torch.ones(1) succeeds",
    "parameters_of_its_module": "parameters of the nn.Linear(2, 2) it holds",
    "is_module_subclass": "issubclass(nn.ModuleDict, nn.Module)",
    "moduledict_parameters": "Example 1: parameters",
    "moduledict_parameters_that_are_leaves":
        "of which the .variable of an AccumulateGrad node reached from the loss",
    "plain_dict_parameters": "the same layers in a plain dict: parameters",
    "plain_dict_parameters_that_are_leaves": "of which graph leaves, without any ModuleDict",
    "parameters": "parameters",
    "parameters_with_a_gradient": "parameters with a gradient after Example 1's backward",
    "nonzero_gradients": "gradients that are not all zero",
    "moduledict_getitem_calls": "calls to ModuleDict.__getitem__ made by md['key']",
    "same_module_as_attribute_access": "md['key'] is md.key is md._modules['key']",
    "moduledict_getattr_is_module_getattr": "nn.ModuleDict.__getattr__ is nn.Module.__getattr__",
    "attribute_access_keeps_structure":
        "md.layer1 / md.layer2 plus backward: module names, state_dict keys, parameters unchanged",
    "item_access_keeps_structure": "the same with md['layer1'] / md['layer2']",
    "adam_steps": "Adam steps, Example 1 and Example 3, same seed and data",
    "parameters_bit_equal_after_training": "parameters bit-for-bit equal after training",
    "same_module": "md['layer1'] is md.layer1",
    "gradients_bit_equal": "gradients through item and attribute access bit-for-bit equal",
    "keys": "keys: layer1, layer-2, 3, 'layer 4' (all accepted)",
    "keys_reachable_by_attribute_syntax": "keys that md.<key> written in code reaches",
    "depths_tried": "Example 2's DynamicModel built with 1 to 6 layers",
    "items_yields_every_layer": "items() yields every layer, at each of 1 to 6 layers",
    "depths_whose_forward_runs": "depths whose forward runs (the others raise RuntimeError)",
    "same_result_for_a_known_branch": "branch 'dog' by iteration equals heads['dog'](x)",
    "iteration_flags_unknown_branch":
        "iterating for the misspelt branch 'dgo' returns something other than the input",
    "item_access_raises_on_unknown_branch": "heads['dgo'] raises KeyError",
    "characters_printed_by_except_branch": "characters printed by Example 3's except branch",
    "error_raised": "exception that stopped the article's code",
    "backward_raises_for_an_unused_parameter":
        "loss.backward() raises when a ModuleDict layer is unused (one process, no DDP)",
    "unused_grad_stays_none": "the unused layer's weight.grad stays None",
    "autograd_grad_raises_when_asked_for_it":
        "torch.autograd.grad(loss, unused.weight) raises RuntimeError",
    "parameters_changed_by_one_step": "parameters changed by one SGD step after Example 3",
    "one_module_under_two_keys_warns": "warnings when one module is stored under two keys",
    "parameters_listed_for_two_keys": "parameters listed then (4 if they were separate)",
    "indexing_created_sharing":
        "md['a'], md.b, getattr, values(), items() on separate modules return shared ones",
    "indexing_styles_differ_in_a_tensor": "Example 1 and 3 differ in output or a gradient",
    "parameters_a_plain_dict_hides": "parameters a plain dict hides from model.parameters()",
    "subscripts_in_forward_source": "self.layers[...] subscripts in Example 1's forward",
    "getitem_calls_per_forward": "ModuleDict.__getitem__ calls per forward of Example 1",
    "getattr_calls_per_forward": "ModuleDict.__getattr__ calls per forward of Example 1",
    "gradcheck_float64": "torch.autograd.gradcheck of Example 1's forward, float64",
    "gradients_equal_to_reference":
        "gradients bit-for-bit equal to F.linear + torch.autograd.grad on the same weights",
    "items_in_insertion_order": "items() follows insertion order (12 layers)",
    "insertion_order_is_sorted_order": "that order is sorted order",
    "backward_reached": "Example 2 reaches loss.backward()",
    "forward_uses_new_layer": "a layer added after the optimizer runs in forward, gets a grad",
    "new_layer_in_optimizer": "its parameters are in the optimizer",
    "new_layer_changed_by_step": "optimizer.step() changes it",
    "new_layer_dtype_before_a_second_to":
        "its dtype after an earlier model.to(float64): a later layer gets the default",
    "getitem_calls_example1": "ModuleDict.__getitem__ calls per forward, Example 1",
    "getitem_calls_example3": "the same, Example 3",
    "tensors_compared": "tensors compared: output and 4 gradients, same seed",
    "tensors_bit_equal": "of which bit-for-bit equal",
    "ran_to_the_end": "Example 3 runs to its last line",
    "output_shape": "output shape",
    "runs": "runs of Example 3, seeds 0 to 9",
    "runs_whose_backward_raised": "runs whose backward raised",
    "example3_raised": "Example 3 raised a RuntimeError",
    "real_backward_errors_raised": "real RuntimeErrors in backward, raised below",
    "backward_errors_naming_indexing": "of which mention index, ModuleDict or getitem",
}
