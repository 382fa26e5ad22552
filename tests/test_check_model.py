"""check_model, downloaded, finds the pitfall hidden in each model written here (not the
page's), nothing in correct ones, and changes none of them."""

import random

import pytest
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        enc = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3), nn.Dropout())
        self.blocks = nn.ModuleDict({"enc": enc, "dec": nn.Linear(3, 3)})
        self.head = nn.Linear(3, 2)

    def forward(self, x):
        x = self.blocks["dec"](self.blocks["enc"](x))
        return {"out": self.head(x), "nested": (x.sum(), [x * 2])}


# Code hiding a pitfall in m, a Net with grads (one None), and what check_model reports
CASES = [
    ("", ""),
    ("m.blocks['new'] = nn.Linear(3, 3)", 'unused parameters: blocks["new"]'),
    ("on_output(m.blocks.enc, torch.Tensor.detach)", 'no gradient: blocks["enc"]'),
    ("on_output(m.head, nn.Linear(2, 2))", "tensors from outside: "),
    ("m.blocks.dec.x = [nn.ReLU()]", 'module not registered: blocks["dec"].x[0]'),
    ("m.head.s = torch.ones(1, requires_grad=True)", "tensor not registered: head.s"),
    ("m.w = nn.Parameter(torch.ones(1)).double()", "converted parameter: w"),
    ("m.blocks.enc.t = [torch.zeros(1)]", 'buffer not registered: blocks["enc"].t[0]'),
    ("m.blocks.register_forward_hook(print)", "hooks never run: blocks"),
    ("m.alias = m.blocks.dec", "registered twice: alias"),
    ("setattr(m.blocks, 'a.b', nn.ReLU())", 'name: blocks["a.b"]'),
    ("m = nn.ModuleDict({'if': nn.ReLU()})", 'keyword key: ["if"]'),
    ("args = [torch.zeros(4, 5)]", "forward raised: "),
    (
        "o = torch.optim.SGD(m.parameters()); m.blocks.dec = nn.Linear(3, 3)",
        'not in the optimizer: blocks["dec"]; not in the model: param_groups[0]["params"][4:6]',
    ),
    ("m = nn.LSTM(3, 2, 2); args = [x[None]]", ""),
]


def snapshot(m) -> list:  # values as bytes, grads, flags, dicts, random states
    state = [v.reshape(-1).view(torch.uint8).tolist() for v in m.state_dict().values()]
    state += [(p.grad, getattr(p.grad, "tolist", list)()) for p in m.parameters()]
    for n in m.modules():
        dicts = [d for d in vars(n).values() if type(d) is dict]
        state += [n.training, *[(d, [*d.items()]) for d in dicts]]
    return state + [torch.get_rng_state().tolist(), random.getstate()]


@pytest.mark.parametrize("change, expected", CASES)
def test_finds_a_hidden_pitfall_changing_nothing(site, change, expected):
    (script,) = site.html.glob("_downloads/*/plot_check_model_finds_*.py")
    scope = dict(m=Net(), x=(x := torch.randn(4, 3)), args=[x], nn=nn, torch=torch)
    exec(script.read_text(encoding="utf-8").split("\n# %%\n")[1], scope)  # check_model
    scope["on_output"] = lambda m, f: m.register_forward_hook(lambda *a: f(a[2]))
    exec("m(x)['out'].sum().backward(); m.head.bias.grad = None\n" + change, scope)
    model, before = scope["m"], snapshot(scope["m"])
    found = scope["check_model"](model, *scope["args"], optimizer=scope.get("o"))
    assert "; ".join(f"{f.kind}: {f.path}" for f in found) == expected, found
    assert snapshot(model) == before
    for page, _, anchor in (f.link.partition("#") for f in found):  # each link resolves
        assert f'id="{anchor}"' in (site.html / page).read_text() or not anchor
