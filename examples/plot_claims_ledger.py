"""
The claims ledger: each of the article's claims, tested
=======================================================

Every row of the ledger below quotes one claim of the article, runs code that tests
it, and derives the verdict from what that code found, by a rule written next to the
claim. "misleading" means: the part of the claim that can be checked holds, but the
conclusion the article draws from it does not.
"""

# %%
# The article's code, quoted exactly
# ----------------------------------
# The article's three examples, character for character, as strings. The evidence
# below runs them with ``exec`` (Example 2 only up to the crash that the page on
# Example 2 shows).
import ast
import html
import io
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from typing import Callable

import torch
from _guide import expect_error
from torch import nn

EXAMPLE_1 = """import torch
import torch.nn as nn

class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict({
            'layer1': nn.Linear(10, 5),
            'layer2': nn.Linear(5, 2)
        })

    def forward(self, x):
        x = self.layers['layer1'](x)
        x = self.layers['layer2'](x)
        return x

model = MyModel()
# Correctly access and use a layer: the connection to the graph is maintained.
output = model(torch.randn(1,10))
loss = output.mean()
loss.backward() # Gradient calculation works correctly.
"""

EXAMPLE_2 = """import torch
import torch.nn as nn

class DynamicModel(nn.Module):
    def __init__(self, num_layers):
        super().__init__()
        self.layers = nn.ModuleDict()
        for i in range(num_layers):
            self.layers[f'layer{i+1}'] = nn.Linear(10, 5) # Dynamic creation

    def forward(self, x):
        for name, layer in self.layers.items():
            x = layer(x)
        return x

model = DynamicModel(3) #Create model with 3 layers.
output = model(torch.randn(1,10))
loss = output.mean()
loss.backward() # Gradient calculation works correctly.
"""

EXAMPLE_3 = """import torch
import torch.nn as nn

class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict({
            'layer1': nn.Linear(10, 5),
            'layer2': nn.Linear(5, 2)
        })

    def forward(self, x):
        # INCORRECT: Accessing the dictionary directly breaks the graph connection.
        layer1 = self.layers['layer1'] #This line is incorrect!
        x = layer1(x)
        x = self.layers['layer2'](x)  # Even though only one line was changed the connection is affected.
        return x

model = MyModel()
output = model(torch.randn(1,10))
loss = output.mean()
try:
    loss.backward()
except RuntimeError as e:
    print(f"RuntimeError: {e}")  # This will likely raise a RuntimeError.
"""

# %%
# Tools for the evidence
# ----------------------
# ``run`` executes article code (recording what it prints, and seeding first),
# ``count_calls`` counts calls to a method while a block runs, and ``graph_nodes``
# walks an autograd graph back from a tensor's ``grad_fn``.


def run(code, seed=0):
    torch.manual_seed(seed)
    namespace, printed = {}, io.StringIO()
    with redirect_stdout(printed):
        exec(code, namespace)
    namespace["printed"] = printed.getvalue()
    return namespace


@contextmanager
def count_calls(cls, name):
    original, own = getattr(cls, name), name in vars(cls)
    calls = []

    def counting(*args, **kwargs):
        calls.append(args[1:])
        return original(*args, **kwargs)

    setattr(cls, name, counting)
    try:
        yield calls
    finally:
        setattr(cls, name, original) if own else delattr(cls, name)


def graph_nodes(tensor):
    nodes = [tensor.grad_fn]
    for node in nodes:
        nodes += [n for n, _ in node.next_functions if n is not None and n not in nodes]
    return nodes


def grads(model):
    return [p.grad for p in model.parameters()]


# %%
# The claims
# ----------
# A ``Claim`` holds a short quote, a function that computes the evidence, and the
# rule that turns the evidence into a verdict.


@dataclass
class Claim:
    quote: str
    evidence_fn: Callable[[], dict]
    rule: Callable[[dict], str]
    proven_in: str = ""  # page with the full demonstration, relative to this one
    where: str = ""  # where the article makes the claim, when the quote alone is ambiguous
    evidence: dict = field(default_factory=dict)
    verdict: str = ""

    def judge(self):
        self.evidence = self.evidence_fn()
        self.verdict = self.rule(self.evidence)
        return self


def item_access_backward():
    model = run(EXAMPLE_1)["model"]
    return {"parameters": len(grads(model)), "with a gradient": sum(g is not None for g in grads(model))}


def example1_access_kind():
    tree = ast.parse(EXAMPLE_1)
    forward = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "forward")
    on_layers = [n for n in ast.walk(forward) if getattr(n, "value", None) is not None
                 and isinstance(n.value, ast.Attribute) and n.value.attr == "layers"]
    model = run(EXAMPLE_1)["model"]
    with count_calls(nn.ModuleDict, "__getitem__") as items, count_calls(nn.ModuleDict, "__getattr__") as attrs:
        model(torch.randn(1, 10))
        in_forward = len(attrs)
        _ = model.layers.layer1  # proof that the counter sees attribute access
        assert len(attrs) == in_forward + 1
    return {"self.layers[...] in forward": sum(isinstance(n, ast.Subscript) for n in on_layers),
            "self.layers.<name> in forward": sum(isinstance(n, ast.Attribute) for n in on_layers),
            "ModuleDict.__getitem__ calls per forward": len(items),
            "ModuleDict.__getattr__ calls per forward": in_forward}


def optimizer_params():
    model = run(EXAMPLE_1)["model"]
    md = model.layers
    ways = {"parameters()": list(model.parameters()),
            "item": [p for k in md for p in md[k].parameters()],
            "attribute": [p for k in md for p in getattr(md, k).parameters()],
            "items()": [p for _, m in md.items() for p in m.parameters()]}
    lists = [torch.optim.SGD(ps, lr=0.1).param_groups[0]["params"] for ps in ways.values()]
    same = all(len(ps) == len(lists[0]) and all(a is b for a, b in zip(ps, lists[0])) for ps in lists)
    return {"optimizers compared": len(lists), "same parameter objects in the same order": same}


def example3_run():
    ns = run(EXAMPLE_3)
    return {"characters printed by the except branch": len(ns["printed"]), "output shape": tuple(ns["output"].shape),
            "parameters with a gradient": f"{sum(g is not None for g in grads(ns['model']))}/{len(grads(ns['model']))}"}


def examples_1_and_3_equal():
    results = []
    for code in (EXAMPLE_1, EXAMPLE_3):  # same seed: same weights, same torch.randn input
        ns = run(code)
        results.append([ns["output"]] + grads(ns["model"]))
    equal = [torch.equal(a, b) for a, b in zip(*results)]
    return {"tensors compared (output + gradients)": len(equal), "bit-for-bit equal": sum(equal)}


def example2_run():
    namespace = {}
    with expect_error(RuntimeError, "mat1 and mat2 shapes cannot be multiplied") as raised:
        exec(EXAMPLE_2, namespace)
    return {"raised": type(raised.value).__name__, "loss.backward() reached": "loss" in namespace}


def dynamic_depths():
    DynamicModel = run(EXAMPLE_2.split("\nmodel = ")[0])["DynamicModel"]
    iterates, composes = [], []
    for n in range(1, 7):
        layers = [m for _, m in DynamicModel(n).layers.items()]
        iterates.append(len(layers) == n)
        if all(a.out_features == b.in_features for a, b in zip(layers, layers[1:])):
            composes.append(n)
            DynamicModel(n)(torch.randn(1, 10))  # a depth whose shapes compose does run
    return {"items() yields every layer, 1 to 6 layers": all(iterates), "depths whose forward runs": composes}


def graph_of_example1():
    nodes = graph_nodes(run(EXAMPLE_1)["loss"])
    return {"issubclass(ModuleDict, Module)": issubclass(nn.ModuleDict, nn.Module),
            "autograd nodes behind the loss": len(nodes),
            "of which nn.Module objects": sum(isinstance(n, nn.Module) for n in nodes)}


def attribute_vs_item():
    results = []
    for lookup in (lambda md, k: md[k], getattr):
        md = run(EXAMPLE_1)["model"].layers
        same = md["layer1"] is md.layer1
        md.zero_grad()
        lookup(md, "layer2")(lookup(md, "layer1")(torch.ones(1, 10))).mean().backward()
        results.append(grads(md))
    equal = all(torch.equal(a, b) for a, b in zip(*results))
    return {"md['layer1'] is md.layer1": same, "gradients bit-for-bit equal": equal}


def underlying_dictionary():
    md = nn.ModuleDict({"key": nn.Linear(2, 2)})
    with count_calls(nn.ModuleDict, "__getitem__") as calls:
        found = md["key"]
    return {"isinstance(md, dict)": isinstance(md, dict), "ModuleDict.__getitem__ calls": len(calls),
            "md['key'] is md._modules['key'] is md.key": found is md._modules["key"] is md.key}


def example3_many_seeds():
    runs = [run(EXAMPLE_3, seed) for seed in range(10)]
    return {"runs (seeds 0 to 9)": len(runs), "runs whose backward raised": sum(bool(r["printed"]) for r in runs)}


class PlainDictModel(nn.Module):  # the real silent pitfall: a dict instead of a ModuleDict
    def __init__(self):
        super().__init__()
        self.layers = {"layer1": nn.Linear(10, 5)}

    def forward(self, x):
        return self.layers["layer1"](x)


def silent_pitfalls():
    model = PlainDictModel()
    model(torch.randn(1, 10)).mean().backward()  # runs without any error
    identical = examples_1_and_3_equal()
    return {"indexing styles differ in any tensor": identical["bit-for-bit equal"] < identical["tensors compared (output + gradients)"],
            "plain dict: parameters the model (and its optimizer) cannot see": len(list(model.layers["layer1"].parameters())) - len(list(model.parameters()))}


def shared_module():
    shared = nn.Linear(4, 4)
    md = nn.ModuleDict({"a": shared, "b": shared})  # no warning, no error
    return {"md['a'] is md['b']": md["a"] is md["b"], "parameters listed (4 if separate)": len(list(md.parameters()))}


def iteration_order():
    layers = nn.ModuleDict()
    for i in range(12):
        layers[f"layer{i+1}"] = nn.Identity()
    keys = [k for k, _ in layers.items()]
    return {"items() follows insertion order (12 layers)": keys == [f"layer{i+1}" for i in range(12)],
            "which is not sorted order": keys != sorted(keys)}


EX1, EX2, EX3 = (f"plot_article_example{n}" for n in ("1_item_access_works", "2_crashes_as_written", "3_backward_succeeds"))
claims = [
    Claim("might break the connection to the computational graph", item_access_backward,
          lambda e: "false" if e["with a gradient"] == e["parameters"] else "true", f"{EX1}.html",
          where="about my_dict['key']"),
    Claim("Example 1: Attribute Access", example1_access_kind,
          lambda e: "true" if not e["ModuleDict.__getitem__ calls per forward"]
          else "misleading" if e["ModuleDict.__getattr__ calls per forward"] else "false", f"{EX1}.html",
          where="heading of Example 1"),
    Claim("will influence how efficiently your code interacts with the PyTorch optimizer", optimizer_params,
          lambda e: "false" if e["same parameter objects in the same order"] else "true", "plot_indexing_cost.html"),
    Claim("a RuntimeError during backpropagation", example3_run,
          lambda e: "false" if e["characters printed by the except branch"] == 0 else "true", f"{EX3}.html"),
    Claim("will likely fail", example3_many_seeds,
          lambda e: "false" if 2 * e["runs whose backward raised"] < e["runs (seeds 0 to 9)"] else "true", f"{EX3}.html",
          where="Example 3's loss.backward()"),
    Claim("it can affect the whole module", examples_1_and_3_equal,
          lambda e: "false" if e["bit-for-bit equal"] == e["tensors compared (output + gradients)"] else "true", f"{EX3}.html",
          where="one 'incorrect' line in Example 3"),
    Claim("the code executes without immediate errors", example3_run,
          lambda e: "true" if e["output shape"] == (1, 2) else "false", f"{EX3}.html",
          where="Example 3"),
    Claim("Gradient calculation works correctly.", example2_run,
          lambda e: "true" if e["loss.backward() reached"] else "false", f"{EX2}.html",
          where="last comment of Example 2"),
    Claim("more robust and adaptable when dealing with varying numbers of sub-modules", dynamic_depths,
          lambda e: "false" if not e["items() yields every layer, 1 to 6 layers"]
          else "true" if e["depths whose forward runs"] == list(range(1, 7)) else "misleading", f"{EX2}.html"),
    Claim("Iterating through self.layers.items() allows flexible access to each sub-module", iteration_order,
          lambda e: "true" if e["items() follows insertion order (12 layers)"] else "false", f"{EX2}.html"),
    Claim("nn.ModuleDict inherits from nn.Module", lambda: {"issubclass": issubclass(nn.ModuleDict, nn.Module)},
          lambda e: "true" if e["issubclass"] else "false"),
    Claim("it participates in the PyTorch computation graph", graph_of_example1,
          lambda e: "true" if e["of which nn.Module objects"] else "misleading" if e["issubclass(ModuleDict, Module)"] else "false", f"{EX3}.html"),
    Claim("recommended for its gradient-tracking properties", attribute_vs_item,
          lambda e: "false" if e["md['layer1'] is md.layer1"] and e["gradients bit-for-bit equal"] else "true", f"{EX1}.html"),
    Claim("Directly accessing the underlying dictionary using standard Python dictionary indexing (my_dict['key'])", underlying_dictionary,
          lambda e: "misleading" if not e["isinstance(md, dict)"] and e["md['key'] is md._modules['key'] is md.key"] else "true",
          "../explanation/why-indexing-cannot-touch-autograd.html"),
    Claim("These issues are difficult to debug because they don't always trigger immediate errors", silent_pitfalls,
          lambda e: "true" if e["indexing styles differ in any tensor"]
          else "misleading" if e["plain dict: parameters the model (and its optimizer) cannot see"] else "false"),
    Claim("subtly incorrect model behavior due to unintended parameter sharing", shared_module,
          lambda e: "true" if e["md['a'] is md['b']"] and e["parameters listed (4 if separate)"] == 2 else "false"),
]

# %%
# Judging
# -------
# Each claim's evidence is computed now, in this build. The one line that starts
# with ``RuntimeError`` is raised by the article's Example 2, while the claim about
# its last comment is judged.

# The rest of the site (the TL;DR, the myths page, the guide) relies on these
# verdicts, in the order of ``claims``. If the evidence ever gives another verdict,
# for example under a future torch, the build stops here instead of letting those
# pages repeat a verdict the evidence no longer supports.
THE_SITE_SAYS = ["false", "false", "false", "false", "false", "false", "true", "false",
                 "misleading", "true", "true", "misleading", "false", "misleading",
                 "misleading", "true"]

for number, (claim, site_says) in enumerate(zip(claims, THE_SITE_SAYS, strict=True), 1):
    claim.judge()
    print(f"{number:2}. {claim.verdict:10} \"{claim.quote}\"")
    assert claim.verdict == site_says, (
        f"claim {number} ({claim.quote!r}): the evidence now gives {claim.verdict!r}, "
        f"the site says {site_says!r}; evidence: {claim.evidence}")
assert len(claims) >= 12
assert all(claim.verdict in {"true", "false", "misleading"} for claim in claims)

# %%
# The ledger
# ----------


class Ledger:
    def __init__(self, claims):
        self.claims = claims

    def _repr_html_(self):
        rows = []
        for number, claim in enumerate(self.claims, 1):
            evidence = "<br>".join(html.escape(f"{k}: {v}") for k, v in claim.evidence.items())
            page = claim.proven_in.split("/")[-1].removeprefix("plot_").removesuffix(".html")
            link = f'<a href="{claim.proven_in}">{page}</a>' if claim.proven_in else "this page"
            where = f"<br><small>({html.escape(claim.where)})</small>" if claim.where else ""
            rows.append(f'<tr><td>{number}</td><td>"{html.escape(claim.quote)}"{where}</td>'
                        f'<td class="verdict-{claim.verdict}">{claim.verdict}</td>'
                        f"<td>{evidence}</td><td>{link}</td></tr>")
        head = "<tr><th>#</th><th>claim</th><th>verdict</th><th>evidence</th><th>proven in</th></tr>"
        return f'<table class="claims-ledger"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


Ledger(claims)

# %%
# Conclusion
# ----------
# The article's claims about indexing fail the test: ``md['key']``, ``md.key`` and
# iteration return the same registered modules, and autograd records the same
# graph. The pitfalls worth your attention are elsewhere: layers whose shapes do
# not compose, modules kept in a plain ``dict``, and one module registered under
# two keys.
