"""Tools the evidence uses to run the article's code and see what it did."""

from __future__ import annotations

import io
from contextlib import contextmanager, redirect_stdout

import torch
from article_quote import article_code  # the article's examples, as quoted
from torch import nn

def run(code: str, seed: int = 0) -> dict:
    """Run ``code`` after ``torch.manual_seed(seed)``: its namespace, with
    ``printed`` and ``error`` (what stopped it, or None)."""
    torch.manual_seed(seed)
    namespace, printed = {"error": None}, io.StringIO()
    with redirect_stdout(printed):
        try:
            exec(code, namespace)
        except Exception as error:  # kept for the evidence to judge
            namespace["error"] = error
    return {**namespace, "printed": printed.getvalue()}


def example(n: int, seed: int = 0) -> dict:  # run the article's Example n
    return run(article_code(n), seed)


def raises(error: type, function, *args) -> bool:
    """Whether ``function(*args)`` raises ``error``."""
    try:
        function(*args)
    except error:
        return True
    return False


def article_input(namespace: dict, seed: int = 0) -> torch.Tensor:
    """The ``torch.randn(1,10)`` that Example 1 or 3 fed its model, again."""
    torch.manual_seed(seed)
    namespace["MyModel"]()  # draws what ``model = MyModel()`` drew
    x = torch.randn(1, 10)
    assert torch.equal(namespace["model"](x), namespace["output"])
    return x


@contextmanager
def count_calls(cls: type, name: str):
    """Count the calls to ``cls.<name>`` in the block (a list of arguments)."""
    original, own, calls = getattr(cls, name), name in vars(cls), []

    def counting(*args, **kwargs):
        calls.append(args[1:])
        return original(*args, **kwargs)

    setattr(cls, name, counting)
    try:
        yield calls
    finally:
        setattr(cls, name, original) if own else delattr(cls, name)


def grads(model: nn.Module) -> list:
    """The ``.grad`` of each parameter of ``model``, in order."""
    return [p.grad for p in model.parameters()]


def is_in(tensor, tensors) -> bool:
    """Whether ``tensor`` is one of ``tensors`` (the same object)."""
    return any(tensor is t for t in tensors)


def graph_nodes(tensor) -> list:
    """The nodes that ``tensor.backward()`` walks, through next_functions."""
    nodes = [tensor.grad_fn]
    for node in nodes:  # the list grows while we walk it
        for child, _ in node.next_functions:
            if child is not None and child not in nodes:
                nodes.append(child)
    return nodes


def leaf_variables(tensor) -> list:
    """The tensors that ``tensor.backward()`` gives a gradient."""
    return [n.variable for n in graph_nodes(tensor) if hasattr(n, "variable")]


class PlainDictModel(nn.Module):
    """Example 1's layers kept in a plain dict: the real silent pitfall."""

    def __init__(self):
        super().__init__()
        self.layers = {"layer1": nn.Linear(10, 5), "layer2": nn.Linear(5, 2)}

    def forward(self, x):
        return self.layers["layer2"](self.layers["layer1"](x))
