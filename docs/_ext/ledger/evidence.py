"""For each claim, a function of its name that returns plain values (in words:
``label``, below). All on CPU, in float32, with the seeds written here."""

from __future__ import annotations

import ast
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from ledger.tools import (
    PlainDictModel,
    article_code,
    article_input,
    count_calls,
    example,
    grads,
    graph_nodes,
    is_in,
    leaf_variables,
    raises,
)

def module_container():
    md = nn.ModuleDict({"a": nn.Linear(2, 2)})
    refused = raises(TypeError, md.__setitem__, "t", torch.ones(1))
    return {
        "is_dict_instance": isinstance(md, dict),
        "accepts_a_tensor_as_value": not refused,
        "parameters_of_its_module": len(list(md["a"].parameters())),
    }


def inherits_module():
    return {"is_module_subclass": issubclass(nn.ModuleDict, nn.Module)}


def participates_in_graph():
    ns, plain = example(1), PlainDictModel()
    leaves, nodes = leaf_variables(ns["loss"]), graph_nodes(ns["loss"])
    plain_leaves = leaf_variables(plain(torch.randn(1, 10)).mean())
    hidden = [p for m in plain.layers.values() for p in m.parameters()]
    held = [getattr(n, "variable", n) for n in nodes]  # a node, or its leaf
    layers = ns["model"].layers.parameters()
    plain_in_graph = sum(is_in(p, plain_leaves) for p in hidden)
    return {
        "graph_nodes": len(nodes),
        "modules_among_graph_nodes":
            sum(isinstance(h, nn.Module) for h in held),
        "moduledict_parameters": len(grads(ns["model"])),
        "moduledict_parameters_that_are_leaves":
            sum(is_in(p, leaves) for p in layers),
        "plain_dict_parameters": len(hidden),
        "plain_dict_parameters_that_are_leaves": plain_in_graph,
    }


def item_access_breaks_graph():
    gs = grads(example(1)["model"])
    return {
        "parameters": len(gs),
        "parameters_with_a_gradient": sum(g is not None for g in gs),
        "nonzero_gradients": sum(bool(g.abs().sum()) for g in gs),
    }


def underlying_dictionary():
    md = nn.ModuleDict({"key": nn.Linear(2, 2)})
    with count_calls(nn.ModuleDict, "__getitem__") as counted:
        found = md["key"]
    return {
        "is_dict_instance": isinstance(md, dict),
        "moduledict_getitem_calls": len(counted),
        "same_module_as_attribute_access":
            found is md.key is md._modules["key"],
    }


def attribute_mechanism_inherited():
    inherited = nn.ModuleDict.__getattr__ is nn.Module.__getattr__
    return {"moduledict_getattr_is_module_getattr": inherited}


def maintains_structure():
    def structure(model):
        names = [n for n, _ in model.named_modules()]
        return names, list(model.state_dict()), [*map(id, model.parameters())]

    kept = []
    for lookup in (getattr, lambda md, k: md[k]):  # attribute, then item
        model = example(1)["model"]
        before = structure(model)
        x = lookup(model.layers, "layer1")(torch.randn(3, 10))
        lookup(model.layers, "layer2")(x).sum().backward()
        kept.append(structure(model) == before)
    return {
        "attribute_access_keeps_structure": kept[0],
        "item_access_keeps_structure": kept[1],
    }


def optimizer_efficiency():
    ns = example(3)  # its forward uses item access; its backward has run
    layers, used = ns["model"].layers, leaf_variables(ns["loss"])
    optimizer = torch.optim.Adam(ns["model"].parameters())
    held = optimizer.param_groups[0]["params"]  # what the optimizer updates
    found = [p for k in layers for p in getattr(layers, k).parameters()]
    ptrs = [p.data_ptr() for p in held]
    optimizer.step()  # with the gradients of Example 3's backward
    return {
        "parameters": len(held),
        "used_by_item_access": sum(is_in(p, held) for p in used),
        "found_by_attribute_access": sum(is_in(p, held) for p in found),
        "moved_by_step": sum(p.data_ptr() != q for p, q in zip(held, ptrs)),
    }


def gradient_tracking():
    results = []
    for lookup in (lambda md, k: md[k], getattr):
        md = example(1)["model"].layers
        md.zero_grad()
        x = lookup(md, "layer1")(torch.ones(1, 10))
        lookup(md, "layer2")(x).mean().backward()
        results.append(grads(md))
    return {
        "same_module": md["layer1"] is md.layer1,
        "gradients_bit_equal": all(map(torch.equal, *results)),
    }


def attribute_cumbersome():
    keys = ("layer1", "layer-2", "3", "layer 4")
    md = nn.ModuleDict({k: nn.Identity() for k in keys})
    reachable = 0
    for key in md:
        try:
            reachable += eval(f"md.{key}", {"md": md}) is md[key]
        except (SyntaxError, AttributeError, TypeError):
            pass  # md.<key> cannot be written, or finds something else
    return {"keys": len(md), "keys_reachable_by_attribute_syntax": reachable}


def iteration_varying_numbers():
    DynamicModel = example(2)["DynamicModel"]  # defined before it crashes
    models = [DynamicModel(n) for n in range(1, 7)]
    x = torch.randn(1, 10)
    every = all(len(m.layers.items()) == n for n, m in enumerate(models, 1))
    runs = sum(not raises(RuntimeError, m, x) for m in models)
    return {
        "depths_tried": 6,
        "items_yields_every_layer": every,
        "depths_whose_forward_runs": runs,
    }


def iteration_branching():
    class Heads(nn.Module):  # forward runs the head named branch, if any
        def __init__(self):
            super().__init__()
            self.heads = nn.ModuleDict(dict(cat=nn.ReLU(), dog=nn.Tanh()))

        def forward(self, x, branch: str):
            for name, head in self.heads.items():
                if name == branch:
                    return head(x)
            return x

    class ByItem(Heads):  # the same choice by item access
        def forward(self, x, branch: str):
            return self.heads[branch](x)

    x, model = torch.ones(1, 4), Heads()
    with warnings.catch_warnings():  # torch.jit.script warns: deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        loop = torch.jit.script(model)  # a loop over items() comparing keys
        item_scripts = not raises(RuntimeError, torch.jit.script, ByItem())
    picks = torch.equal(loop(x, "dog"), model.heads["dog"](x))
    raised = raises(KeyError, ByItem(), x, "dgo")
    return {
        "iteration_flags_unknown_branch": not torch.equal(loop(x, "dgo"), x),
        "item_access_raises_on_unknown_branch": raised,
        "scripted_loop_picks_at_run_time": picks,
        "item_access_by_a_run_time_key_scripts": item_scripts,
    }


def backward_runtime_error():
    ns = example(3)
    return {
        "characters_printed_by_except_branch": len(ns["printed"]),
        "error_raised": type(ns["error"]).__name__ if ns["error"] else "none",
    }


def unused_parameters_error():
    md = nn.ModuleDict({"used": nn.Linear(2, 1), "unused": nn.Linear(2, 1)})
    loss = md["used"](torch.ones(1, 2)).sum()
    raised = raises(RuntimeError, loss.backward, None, True)  # retain_graph
    try:
        torch.autograd.grad(loss, md["unused"].weight)
        grad_raises = False
    except RuntimeError as error:
        unused = "appears to not have been used in the graph"
        grad_raises = unused in str(error)
    return {
        "backward_raises_for_an_unused_parameter": raised,
        "unused_grad_stays_none": md["unused"].weight.grad is None,
        "autograd_grad_raises_when_asked_for_it": grad_raises,
    }


def prevents_updates():
    model = example(3)["model"]
    before = [p.detach().clone() for p in model.parameters()]
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    after = model.parameters()
    changed = sum(not torch.equal(b, p) for b, p in zip(before, after))
    return {
        "parameters": len(before),
        "nonzero_gradients": sum(bool(g.abs().sum()) for g in grads(model)),
        "parameters_changed_by_one_step": changed,
    }


def parameter_sharing():
    shared = nn.Linear(4, 4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        md = nn.ModuleDict({"a": shared, "b": shared})
    separate = nn.ModuleDict({"a": nn.Linear(4, 4), "b": nn.Linear(4, 4)})
    found = [separate["a"], separate.b, getattr(separate, "a")]
    found += [*separate.values(), *(m for _, m in separate.items())]
    return {
        "one_module_under_two_keys_warns": len(caught),
        "parameters_listed_for_two_keys": len(list(md.parameters())),
        "indexing_created_sharing": len({id(m) for m in found}) != 2,
    }


def _examples_1_and_3():
    results = []
    for n in (1, 3):  # same seed: same weights, same torch.randn input
        ns = example(n)
        results.append([ns["output"], *grads(ns["model"])])
    equal = sum(map(torch.equal, *results))
    return {"tensors_compared": 5, "tensors_bit_equal": equal}


def silent_issues():
    same = _examples_1_and_3()
    model = PlainDictModel()
    model(torch.randn(1, 10)).mean().backward()  # runs without any error
    seen = sum(len(list(m.parameters())) for m in model.layers.values())
    return {
        "indexing_styles_differ_in_a_tensor": same["tensors_bit_equal"] < 5,
        "parameters_a_plain_dict_hides": seen - len(list(model.parameters())),
    }


def _getitem_calls(n):
    model = example(n)["model"]
    with count_calls(nn.ModuleDict, "__getitem__") as calls:
        model(torch.randn(1, 10))
    return len(calls)


def example1_attribute_access():
    model = example(1)["model"]
    with count_calls(nn.ModuleDict, "__getattr__") as attrs:
        model(torch.randn(1, 10))
        in_forward = len(attrs)
        model.layers.layer1  # proof that the counter sees attribute access
        assert len(attrs) == in_forward + 1
    tree = ast.parse(article_code(1))
    defs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    forward = next(d for d in defs if d.name == "forward")
    subscripts = sum(isinstance(n, ast.Subscript) for n in ast.walk(forward))
    return {
        "subscripts_in_forward_source": subscripts,
        "getitem_calls_per_forward": _getitem_calls(1),
        "getattr_calls_per_forward": in_forward,
    }


def example1_gradients_correct():
    ns = example(1)
    x, model = article_input(ns), ns["model"]
    copies = [p.detach().clone().requires_grad_() for p in model.parameters()]
    w1, b1, w2, b2 = copies
    out = F.linear(F.linear(x, w1, b1), w2, b2).mean()
    reference = torch.autograd.grad(out, copies)
    names = [n for n, _ in model.named_parameters()]
    model.double()  # in place, gradients included
    params = [p.detach().clone().requires_grad_() for p in model.parameters()]

    def mean64(*ps):
        weights = dict(zip(names, ps))
        return torch.func.functional_call(model, weights, x.double()).mean()

    return {
        "parameters": len(names),
        "gradcheck_float64": torch.autograd.gradcheck(mean64, tuple(params)),
        "gradients_equal_to_reference":
            sum(map(torch.equal, grads(model), reference)),
    }


def items_flexible():
    names = [f"layer{i + 1}" for i in range(12)]
    md = nn.ModuleDict({name: nn.Identity() for name in names})
    keys = [k for k, _ in md.items()]
    every = iteration_varying_numbers()["items_yields_every_layer"]
    return {
        "items_yields_every_layer": every,
        "items_in_insertion_order": keys == names,
        "insertion_order_is_sorted_order": keys == sorted(keys),
    }


def example2_gradients_correct():
    ns = example(2)
    error = type(ns["error"]).__name__
    return {"error_raised": error, "backward_reached": "loss" in ns}


def layers_during_training():
    model = example(2)["DynamicModel"](1)
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
    return {
        "forward_uses_new_layer":
            out.shape == (1, 5) and new.weight.grad is not None,
        "new_layer_in_optimizer":
            any(is_in(p, listed) for p in new.parameters()),
        "new_layer_changed_by_step": not torch.equal(before, new.weight),
        "new_layer_dtype_before_a_second_to": str(dtype),
    }


def example3_incorrect():
    return {
        "getitem_calls_example1": _getitem_calls(1),
        "getitem_calls_example3": _getitem_calls(3),
        **_examples_1_and_3(),
    }


def executes_without_errors():
    ns = example(3)
    shape = tuple(ns["output"].shape)
    return {"ran_to_the_end": ns["error"] is None, "output_shape": shape}


def backward_likely_fails():
    raised = sum(bool(example(3, seed)["printed"]) for seed in range(10))
    return {"runs": 10, "runs_whose_backward_raised": raised}


def backward_twice():  # through a graph the first backward freed
    loss = (nn.Linear(2, 1)(torch.ones(1, 2)) ** 2).sum()
    loss.backward()
    loss.backward()


def loss_without_grad():  # from a loss computed under torch.no_grad()
    with torch.no_grad():
        loss = nn.Linear(2, 1)(torch.ones(1, 2)).sum()
    loss.backward()


def inplace_after_save():  # after an in-place change to a saved tensor
    y = torch.sigmoid(nn.Linear(2, 2)(torch.ones(1, 2)))  # sigmoid saves y
    y.add_(1)
    y.sum().backward()


def clear_indicator():
    messages = []
    for trigger in (backward_twice, loss_without_grad, inplace_after_save):
        try:
            trigger()
        except RuntimeError as error:
            messages.append(str(error))
    words = ("index", "ModuleDict", "getitem")
    naming = sum(any(w in m for w in words) for m in messages)
    ex3 = example(3)
    return {
        "example3_raised": ex3["error"] is not None or bool(ex3["printed"]),
        "real_backward_errors_raised": len(messages),
        "backward_errors_naming_indexing": naming,
    }


def whole_module_affected():
    return _examples_1_and_3()


LABELS = {  # for the values whose names do not say enough; the others read as names
    "same_module_as_attribute_access": "md['key'] is md.key is md._modules['key']",
    "moduledict_getattr_is_module_getattr": "nn.ModuleDict.__getattr__ is nn.Module.__getattr__",
    "used_by_item_access": "the optimizer's own parameters that Example 3's forward used",
    "found_by_attribute_access": "the optimizer's own parameters that getattr(layers, k) finds",
    "moved_by_step": "parameters whose data_ptr() one Adam step changed",
    "keys": "keys: layer1, layer-2, 3, 'layer 4' (all accepted)",
    "depths_tried": "Example 2's DynamicModel built with 1 to 6 layers",
    "backward_raises_for_an_unused_parameter":
        "backward() raises for an unused ModuleDict layer (one process, no DDP)",
    "autograd_grad_raises_when_asked_for_it":
        "torch.autograd.grad(loss, unused.weight) raises RuntimeError",
    "parameters_listed_for_two_keys": "parameters listed then (4 if they were separate)",
    "indexing_created_sharing":
        "md['a'], md.b, getattr, values(), items() make separate modules shared",
    "gradients_equal_to_reference":
        "gradients bit-equal to F.linear + torch.autograd.grad, same weights",
    "new_layer_dtype_before_a_second_to":
        "its dtype after an earlier model.to(float64) (a later layer's default)",
    "tensors_compared": "tensors compared: output and 4 gradients, same seed",
    "runs": "runs of Example 3, seeds 0 to 9",
    "backward_errors_naming_indexing": "of which mention index, ModuleDict or getitem",
}


def label(key: str) -> str:
    """The words for the value ``key``."""
    return LABELS.get(key) or key.replace("_", " ").replace("moduledict", "ModuleDict")
