"""Find submodules that a model holds but never registered.

``nn.Module.__setattr__`` registers a module assigned directly to an attribute, and
``nn.ModuleDict`` / ``nn.ModuleList`` register what they hold. A module kept in a
plain ``dict``, ``list``, ``tuple`` or ``set`` is an ordinary Python value: it is
invisible to ``parameters()``, ``state_dict()``, ``.to()``, ``.eval()`` and
``zero_grad()``. :func:`find_unregistered_modules` lists where such modules hide.

Run an example from this folder and this module is found next to it; the tests put
this folder on ``sys.path``.
"""

from __future__ import annotations

from torch import nn

__all__ = ["find_unregistered_modules"]

# Bookkeeping attributes every nn.Module has (_modules, _parameters, hook dicts, ...):
# read from a bare module, so the list follows the installed torch version.
_MODULE_INTERNALS = frozenset(vars(nn.Module()))


def find_unregistered_modules(model: nn.Module, max_depth: int = 3) -> list[str]:
    """Paths of the ``nn.Module`` objects ``model`` stores without registering them.

    Every module of ``model.modules()`` is inspected: its attributes (``vars()``),
    and the values of plain ``dict``, ``list``, ``tuple`` and ``set`` attributes,
    nested up to ``max_depth`` containers deep. A module found there is reported
    unless it is registered somewhere in ``model``: a module shared between a
    registered place and a plain container is not lost, so it is not reported.

    Paths are written as Python would reach the object from ``model``:
    ``'heads["a"]'``, ``'blocks[0]'``, ``'encoder.groups["x"][1]'``. Sets have no
    order, so a module found in one is named by its type: ``'extras{Linear}'``.
    The list follows the order of ``model.named_modules()`` and of each container;
    it is empty when every module is registered.
    """
    registered = {id(module) for module in model.modules()}
    found: list[str] = []

    def search(value: object, path: str, depth: int) -> None:
        if isinstance(value, nn.Module):
            # A registered module is inspected in its own turn (it is in named_modules);
            # an unregistered one is reported once, with what it holds.
            if id(value) not in registered:
                found.append(path)
            return
        if depth == 0:
            return
        if isinstance(value, dict):
            for key, item in value.items():
                search(item, f"{path}[{_key(key)}]", depth - 1)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                search(item, f"{path}[{index}]", depth - 1)
        elif isinstance(value, (set, frozenset)):
            for item in sorted(value, key=lambda item: type(item).__name__):
                search(item, f"{path}{{{type(item).__name__}}}", depth - 1)

    for prefix, module in model.named_modules():
        for name, value in vars(module).items():
            if name in _MODULE_INTERNALS:
                continue
            search(value, f"{prefix}.{name}" if prefix else name, max_depth)
    return found


def _key(key: object) -> str:
    """A dict key as it is written in a subscript: ``"a"`` for strings, else its repr."""
    if isinstance(key, str) and '"' not in key and "\\" not in key:
        return f'"{key}"'
    return repr(key)
