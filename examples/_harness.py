"""Tools to run the article's code and look at what it did (used by the ledger and its pages).

``run`` executes article code under a seed, recording what it printed and what it raised;
``count_calls`` counts calls to a method; ``adam_steps`` trains a model class for a few
steps; ``article_input`` recovers the input an article example drew with ``torch.randn``.
"""

from __future__ import annotations

import io
from contextlib import contextmanager, redirect_stdout

import torch
from torch import nn

def run(code: str, seed: int = 0) -> dict:
    """Execute ``code`` after ``torch.manual_seed(seed)``; its namespace, plus two entries.

    ``printed`` is everything the code printed; ``error`` is the exception that stopped it,
    or None. Names defined before an error stay in the namespace.
    """
    torch.manual_seed(seed)
    namespace, printed = {"error": None}, io.StringIO()
    with redirect_stdout(printed):
        try:
            exec(code, namespace)
        except Exception as error:  # kept for the caller to judge, never swallowed unseen
            namespace["error"] = error
    namespace["printed"] = printed.getvalue()
    return namespace


def article_input(namespace: dict, seed: int = 0) -> torch.Tensor:
    """The ``torch.randn(1,10)`` that Example 1 or 3 fed its model, drawn again."""
    torch.manual_seed(seed)
    namespace["MyModel"]()  # consumes the generator as the article's ``model = MyModel()`` did
    x = torch.randn(1, 10)
    assert torch.equal(namespace["model"](x), namespace["output"]), "not the article's input"
    return x


@contextmanager
def count_calls(cls: type, name: str):
    """Count the calls to ``cls.<name>`` inside the block (the list holds their arguments)."""
    original, own = getattr(cls, name), name in vars(cls)
    calls = []

    def counting(*args, **kwargs):
        calls.append(args[1:])
        return original(*args, **kwargs)

    setattr(cls, name, counting)
    try:
        yield calls
    finally:
        if own:
            setattr(cls, name, original)
        else:
            delattr(cls, name)


def grads(model: torch.nn.Module) -> list:
    return [p.grad for p in model.parameters()]


def adam_steps(model_class: type, steps: int = 20, seed: int = 0) -> list[torch.Tensor]:
    """Train a fresh ``model_class()`` for ``steps`` Adam steps on fixed data; its parameters."""
    torch.manual_seed(seed)
    model = model_class()
    x, target = torch.randn(16, 10), torch.randn(16, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), target).backward()
        optimizer.step()
    return [p.detach().clone() for p in model.parameters()]


def is_in(tensor, tensors) -> bool:
    """Whether ``tensor`` is one of ``tensors`` (the same object, not an equal one)."""
    return any(tensor is t for t in tensors)


class PlainDictModel(nn.Module):
    """Example 1's layers kept in a plain dict: the real silent pitfall."""

    def __init__(self):
        super().__init__()
        self.layers = {"layer1": nn.Linear(10, 5), "layer2": nn.Linear(5, 2)}

    def forward(self, x):
        return self.layers["layer2"](self.layers["layer1"](x))
