"""The ledger's evidence for the claims about the article's three examples.

Re-exported by ``_evidence.py``; each function returns a dict of plain values under
Python identifiers, which ``_rules.py`` reads. Everything runs on CPU, in the build.
"""

from __future__ import annotations

import ast

import torch
import torch.nn.functional as F
from _article import EXAMPLE_1, EXAMPLE_2, EXAMPLE_3
from _harness import PlainDictModel, article_input, count_calls, grads, is_in, run
from torch import nn

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
    in_optimizer = any(is_in(p, listed) for p in new.parameters())
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
