"""The ledger's evidence: for each claim, a function of the same name that computes it.

Each returns a dict of plain values under Python identifiers (``_rules.py`` reads them);
``LABELS`` (``_labels.py``) gives each key the words the ledger page shows. The claims
about what ModuleDict is and does are judged here, the claims about the article's three
examples in ``_evidence_examples.py``, whose functions this module re-exports so that
``_evidence.<key>`` names every claim's evidence. Everything runs on CPU, in the build,
with the seeds written here.
"""

from __future__ import annotations

import warnings

import torch
from _article import EXAMPLE_1, EXAMPLE_2, EXAMPLE_3
from _graph import leaf_variables
from _harness import PlainDictModel, adam_steps, count_calls, grads, is_in, run
from torch import nn

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
                sum(is_in(p, leaves) for p in ns["model"].layers.parameters()),
            "plain_dict_parameters": len(hidden),
            "plain_dict_parameters_that_are_leaves": sum(is_in(p, plain_leaves) for p in hidden)}


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


# The claims about the article's three examples live in _evidence_examples.py; the
# ledger finds every claim's evidence as _evidence.<key>.
import _evidence_examples  # noqa: E402
from _labels import LABELS  # noqa: E402, F401 - re-exported

def __getattr__(name: str):
    return getattr(_evidence_examples, name)
