"""check_model, from the script its page offers for download, finds each pitfall hidden in
models written here (not the page's) and nothing in correct ones, changes none of them,
and the site's search finds its page."""

import random

import pytest
import torch
from browser import ranked_links
from torch import nn

PAGE = "auto_examples/pitfalls/plot_check_model_finds_every_pitfall.html"
X, SEQ = torch.randn(4, 3), torch.randn(1, 4, 4)


class Net(nn.Module):
    def __init__(self, route="all"):
        super().__init__()
        self.route = route
        enc = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3), nn.Dropout())
        self.blocks = nn.ModuleDict({"enc": enc, "dec": nn.Linear(3, 3)})
        self.head = nn.Linear(3, 2)

    def forward(self, x):
        x = self.blocks["enc"](x)
        x = x.detach() if self.route == "detach" else x
        x = x if self.route == "skip" else self.blocks["dec"](x)
        return {"out": self.head(x), "nested": (x.sum(), [x * 2])}


class Fresh(nn.Module):  # builds a layer at every call
    def forward(self, x):
        return nn.Linear(3, 3)(x)


def net(change=lambda model: None, route="all"):
    model = Net(route)
    model(X)["out"].sum().backward()
    model.head.bias.grad = None  # some grads set, one None
    change(model)
    return model


def replaced(model):
    model.optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.blocks["dec"] = nn.Linear(3, 3)


PD = nn.ParameterDict()
with pytest.raises(TypeError):
    PD[1] = torch.zeros(1)
STALE = net(replaced)
CASES = {  # name: (model, inputs, optimizer, expected (kind, path))
    "clean": (net(), [X], None, []),
    "unused entry": (net(route="skip"), [X], None, [("unused parameters", 'blocks["dec"]')]),
    "detached": (net(route="detach"), [X], None, [("no gradient", 'blocks["enc"]')]),
    "plain list in an entry": (
        net(lambda m: setattr(m.blocks["dec"], "extra", {"k": [nn.Linear(3, 3)]})), [X], None,
        [("module not registered", 'blocks["dec"].extra["k"][0]')]),
    "tensor in an attribute": (
        net(lambda m: setattr(m.head, "scale", torch.ones(2, requires_grad=True))), [X], None,
        [("tensor not registered", "head.scale")]),
    "hook on the ModuleDict": (
        net(lambda m: m.blocks.register_forward_pre_hook(print)), [X], None,
        [("hooks never run", "blocks")]),
    "entry replaced": (STALE, [X], STALE.__dict__.pop("optimizer"), [
        ("not in the optimizer", 'blocks["dec"]'),
        ("not in the model", 'param_groups[0]["params"][4:6]')]),
    "alias": (net(lambda m: setattr(m, "alias", m.blocks["dec"])), [X], None,
              [("registered twice", "alias")]),
    "dotted name": (net(lambda m: setattr(m.blocks, "a.b", nn.ReLU())), [X], None,
                    [("name", 'blocks["a.b"]')]),
    "layer built in forward": (net(lambda m: m.blocks.update({"dec": Fresh()})), [X], None,
                               [("tensors from outside", 'blocks["dec"]')]),
    "keyword key": (nn.ModuleDict({"if": nn.ReLU()}), [], None, [("keyword key", '["if"]')]),
    "key left without a value": (PD, [], None, [("ParameterDict key", "[1]")]),
    "forward raises": (net(), [torch.randn(4, 5)], None, [("forward raised", "")]),
    "nn.GRU": (nn.GRU(3, 2, batch_first=True), [X[None]], None, []),
    "nn.Transformer": (nn.Transformer(4, 2, 1, 1, 8, batch_first=True), [SEQ, SEQ], None, []),
    "frozen": (net(lambda m: m.requires_grad_(False)), [X], None, []),
}


@pytest.fixture(scope="module")
def check_model(site):
    """check_model, run from the first code block of the downloaded script (torch only)."""
    (script,) = site.html.glob("_downloads/*/plot_check_model_finds_every_pitfall.py")
    namespace: dict = {}
    exec(script.read_text(encoding="utf-8").split("\n# %%\n")[1], namespace)
    return namespace["check_model"]


def snapshot(model) -> tuple:
    """Every value (as bytes), training flag, grad, hook dict and random-number state."""
    values = [(k, v.reshape(-1).view(torch.uint8).tolist()) for k, v in model.state_dict().items()]
    grads = [p.grad if p.grad is None else (p.grad, p.grad.tolist()) for p in model.parameters()]
    hooks = [(d, [*d.items()]) for m in model.modules() for k, d in vars(m).items() if k.endswith("hooks")]
    flags = [m.training for m in model.modules()]
    return values, grads, hooks, flags, torch.get_rng_state().tolist(), random.getstate()


@pytest.mark.parametrize("name", CASES)
def test_finds_the_hidden_pitfall_and_changes_nothing(check_model, site, name):
    model, inputs, optimizer, expected = CASES[name]
    before = snapshot(model)
    found = check_model(model, *inputs, optimizer=optimizer)
    assert [(f.kind, f.path) for f in found] == expected, [str(f) for f in found]
    assert snapshot(model) == before
    for finding in found:  # each link leads to a page and a section of the built site
        page, _, anchor = finding.link.partition("#")
        text = (site.html / page).read_text(encoding="utf-8")
        assert not anchor or f'id="{anchor}"' in text


def test_the_search_finds_its_page_in_the_first_3(site, chromium):
    queries = ["check my model", "unused parameters", "parameters not registered"]
    found, _ = ranked_links(chromium, (site.html / "search.html").as_uri(), queries)
    for query, hrefs in zip(queries, found, strict=True):
        assert any(PAGE in href for href in hrefs[:3]), (query, hrefs[:3])
