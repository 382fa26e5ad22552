"""The ledger's evidence: for each claim, a function of the same name.

Each returns a dict of plain values (``ledger.labels`` gives each key the words
the page shows). Everything runs on CPU, in float32, with the seeds written
here, while the site is built.
"""

from __future__ import annotations

import ast
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from ledger.article import article_code
from ledger.harness import (
    PlainDictModel,
    adam_steps,
    article_input,
    count_calls,
    grads,
    graph_nodes,
    is_in,
    leaf_variables,
    run,
)

# --- What ModuleDict is and does -------------------------------------------


def module_container():
    md = nn.ModuleDict({"a": nn.Linear(2, 2)})
    try:
        md["t"] = torch.ones(1)
        accepts = True
    except TypeError:
        accepts = False
    return {
        "is_dict_instance": isinstance(md, dict),
        "accepts_a_tensor_as_value": accepts,
        "parameters_of_its_module": len(list(md["a"].parameters())),
    }


def inherits_module():
    return {"is_module_subclass": issubclass(nn.ModuleDict, nn.Module)}


def participates_in_graph():
    ns, plain = run(article_code(1)), PlainDictModel()
    leaves = leaf_variables(ns["loss"])
    plain_leaves = leaf_variables(plain(torch.randn(1, 10)).mean())
    hidden = [p for m in plain.layers.values() for p in m.parameters()]
    layers = ns["model"].layers
    nodes = graph_nodes(ns["loss"])
    return {
        "graph_nodes": len(nodes),
        "modules_among_graph_nodes": sum(
            isinstance(node, nn.Module)
            or isinstance(getattr(node, "variable", None), nn.Module)
            for node in nodes
        ),
        "moduledict_parameters": len(grads(ns["model"])),
        "moduledict_parameters_that_are_leaves":
            sum(is_in(p, leaves) for p in layers.parameters()),
        "plain_dict_parameters": len(hidden),
        "plain_dict_parameters_that_are_leaves":
            sum(is_in(p, plain_leaves) for p in hidden),
    }


def item_access_breaks_graph():
    gs = grads(run(article_code(1))["model"])
    return {
        "parameters": len(gs),
        "parameters_with_a_gradient": sum(g is not None for g in gs),
        "nonzero_gradients": sum(bool(g.abs().sum()) for g in gs),
    }


def underlying_dictionary():
    md = nn.ModuleDict({"key": nn.Linear(2, 2)})
    with count_calls(nn.ModuleDict, "__getitem__") as calls:
        found = md["key"]
    return {
        "is_dict_instance": isinstance(md, dict),
        "moduledict_getitem_calls": len(calls),
        "same_module_as_attribute_access":
            found is md.key is md._modules["key"],
    }


def attribute_mechanism_inherited():
    inherited = nn.ModuleDict.__getattr__ is nn.Module.__getattr__
    return {"moduledict_getattr_is_module_getattr": inherited}


def _structure(model):
    return (
        [n for n, _ in model.named_modules()],
        list(model.state_dict()),
        [id(p) for p in model.parameters()],
    )


def maintains_structure():
    kept = {}
    for style, lookup in (("attribute", getattr),
                          ("item", lambda md, k: md[k])):
        model = run(article_code(1))["model"]
        before = _structure(model)
        x = lookup(model.layers, "layer1")(torch.randn(3, 10))
        lookup(model.layers, "layer2")(x).sum().backward()
        kept[style] = _structure(model) == before
    return {
        "attribute_access_keeps_structure": kept["attribute"],
        "item_access_keeps_structure": kept["item"],
    }


def optimizer_efficiency():
    trained = [
        adam_steps(run(article_code(n))["MyModel"], steps=20) for n in (1, 3)
    ]
    return {
        "adam_steps": 20,
        "parameters": len(trained[0]),
        "parameters_bit_equal_after_training":
            sum(map(torch.equal, *trained)),
    }


def gradient_tracking():
    results = []
    for lookup in (lambda md, k: md[k], getattr):
        md = run(article_code(1))["model"].layers
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
    # The class is defined before Example 2 crashes.
    DynamicModel = run(article_code(2))["DynamicModel"]
    every, runs = True, 0
    for n in range(1, 7):
        model = DynamicModel(n)
        every &= len(list(model.layers.items())) == n
        try:
            model(torch.randn(1, 10))
            runs += 1
        except RuntimeError:
            pass  # counted: this depth's forward does not run
    return {
        "depths_tried": 6,
        "items_yields_every_layer": every,
        "depths_whose_forward_runs": runs,
    }


def iteration_branching():
    heads = nn.ModuleDict({"cat": nn.Linear(4, 2), "dog": nn.Linear(4, 3)})
    x = torch.ones(1, 4)

    def by_iteration(branch):  # run the head whose name matches
        for name, head in heads.items():
            if name == branch:
                return head(x)
        return x

    def by_checked_iteration(branch):  # the same loop, with a check of its own
        for name, head in heads.items():
            if name == branch:
                return head(x)
        raise KeyError(branch)

    def raises_key_error(run, branch) -> bool:
        try:
            run(branch)
        except KeyError:
            return True
        return False

    known = torch.equal(by_iteration("dog"), heads["dog"](x))
    return {
        "same_result_for_a_known_branch": known,
        "iteration_flags_unknown_branch": by_iteration("dgo") is not x,
        "checked_iteration_flags_unknown_branch":
            raises_key_error(by_checked_iteration, "dgo"),
        "item_access_raises_on_unknown_branch":
            raises_key_error(heads.__getitem__, "dgo"),
    }


def backward_runtime_error():
    ns = run(article_code(3))
    error = type(ns["error"]).__name__ if ns["error"] else "none"
    return {
        "characters_printed_by_except_branch": len(ns["printed"]),
        "error_raised": error,
    }


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
        unused = "appears to not have been used in the graph"
        grad_raises = unused in str(error)
    return {
        "backward_raises_for_an_unused_parameter": raised,
        "unused_grad_stays_none": md["unused"].weight.grad is None,
        "autograd_grad_raises_when_asked_for_it": grad_raises,
    }


def prevents_updates():
    model = run(article_code(3))["model"]
    before = [p.detach().clone() for p in model.parameters()]
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    after = model.parameters()
    return {
        "parameters": len(before),
        "nonzero_gradients": sum(bool(g.abs().sum()) for g in grads(model)),
        "parameters_changed_by_one_step":
            sum(not torch.equal(b, p) for b, p in zip(before, after)),
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


# --- The article's three examples ------------------------------------------


def _examples_1_and_3():
    results = []
    for n in (1, 3):  # same seed: same weights, same torch.randn input
        ns = run(article_code(n))
        results.append([ns["output"], *grads(ns["model"])])
    return {
        "tensors_compared": 5,
        "tensors_bit_equal": sum(map(torch.equal, *results)),
    }


def silent_issues():
    same = _examples_1_and_3()
    model = PlainDictModel()
    model(torch.randn(1, 10)).mean().backward()  # runs without any error
    seen = sum(len(list(m.parameters())) for m in model.layers.values())
    differ = same["tensors_bit_equal"] < same["tensors_compared"]
    return {
        "indexing_styles_differ_in_a_tensor": differ,
        "parameters_a_plain_dict_hides": seen - len(list(model.parameters())),
    }


def _getitem_calls(n):
    model = run(article_code(n))["model"]
    with count_calls(nn.ModuleDict, "__getitem__") as calls:
        model(torch.randn(1, 10))
    return len(calls)


def example1_attribute_access():
    model = run(article_code(1))["model"]
    with count_calls(nn.ModuleDict, "__getattr__") as attrs:
        model(torch.randn(1, 10))
        in_forward = len(attrs)
        model.layers.layer1  # proof that the counter sees attribute access
        assert len(attrs) == in_forward + 1
    tree = ast.parse(article_code(1))
    forward = next(
        n for n in ast.walk(tree) if getattr(n, "name", "") == "forward"
    )
    subscripts = sum(isinstance(n, ast.Subscript) for n in ast.walk(forward))
    return {
        "subscripts_in_forward_source": subscripts,
        "getitem_calls_per_forward": _getitem_calls(1),
        "getattr_calls_per_forward": in_forward,
    }


def example1_gradients_correct():
    ns = run(article_code(1))
    x, model = article_input(ns), ns["model"]
    w1, b1, w2, b2 = (
        p.detach().clone().requires_grad_() for p in model.parameters()
    )
    out = F.linear(F.linear(x, w1, b1), w2, b2).mean()
    reference = torch.autograd.grad(out, (w1, b1, w2, b2))
    names = [n for n, _ in model.named_parameters()]
    model64 = model.double()
    params = tuple(
        p.detach().clone().requires_grad_() for p in model64.parameters()
    )

    def forward64(*ps):
        weights = dict(zip(names, ps))
        return torch.func.functional_call(model64, weights, (x.double(),))

    def mean64(*ps):
        return forward64(*ps).mean()

    passes = torch.autograd.gradcheck(mean64, params)
    equal = sum(map(torch.equal, grads(model), reference))
    return {
        "parameters": len(names),
        "gradcheck_float64": passes,
        "gradients_equal_to_reference": equal,
    }


def items_flexible():
    names = [f"layer{i + 1}" for i in range(12)]
    layers = nn.ModuleDict({name: nn.Identity() for name in names})
    keys = [k for k, _ in layers.items()]
    DynamicModel = run(article_code(2))["DynamicModel"]
    every = all(
        len(list(DynamicModel(n).layers.items())) == n for n in range(1, 7)
    )
    return {
        "items_yields_every_layer": every,
        "items_in_insertion_order": keys == names,
        "insertion_order_is_sorted_order": keys == sorted(keys),
    }


def example2_gradients_correct():
    ns = run(article_code(2))
    return {
        "error_raised": type(ns["error"]).__name__,
        "backward_reached": "loss" in ns,
    }


def layers_during_training():
    model = run(article_code(2))["DynamicModel"](1)
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
    in_optimizer = any(is_in(p, listed) for p in new.parameters())
    used = out.shape == (1, 5) and new.weight.grad is not None
    return {
        "forward_uses_new_layer": used,
        "new_layer_in_optimizer": in_optimizer,
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
    ns = run(article_code(3))
    return {
        "ran_to_the_end": ns["error"] is None,
        "output_shape": tuple(ns["output"].shape),
    }


def backward_likely_fails():
    runs = [run(article_code(3), seed) for seed in range(10)]
    return {
        "runs": len(runs),
        "runs_whose_backward_raised": sum(bool(r["printed"]) for r in runs),
    }


def backward_twice():
    """Backward through a graph the first backward freed."""
    loss = (nn.Linear(2, 1)(torch.ones(1, 2)) ** 2).sum()
    loss.backward()
    loss.backward()


def loss_without_grad():
    """Backward from a loss computed under torch.no_grad()."""
    with torch.no_grad():
        loss = nn.Linear(2, 1)(torch.ones(1, 2)).sum()
    loss.backward()


def inplace_after_save():
    """Backward after an in-place change to a tensor autograd saved."""
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
    ex3 = run(article_code(3))
    naming = sum(any(w in m for w in words) for m in messages)
    return {
        "example3_raised": ex3["error"] is not None or bool(ex3["printed"]),
        "real_backward_errors_raised": len(messages),
        "backward_errors_naming_indexing": naming,
    }


def whole_module_affected():
    return _examples_1_and_3()
