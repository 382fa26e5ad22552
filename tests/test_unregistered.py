"""find_unregistered_modules reports exactly the modules a model holds without registering.

Its definition is read from its example page's source: the code a reader copies."""

import ast

import pytest
from helpers import example_path
from torch import nn

PAGE = example_path("plot_registration_find_unregistered_modules.py")
# What the finder needs from the page: its imports, its constant and its functions.
DEFINITIONS = {"MODULE_INTERNALS", "find_unregistered_modules", "subscript"}


def page_definitions(names: set[str]) -> dict:
    """Execute the page's imports and its top-level definitions ``names``, nothing else."""
    kept, found = [], set()
    for node in ast.parse(PAGE.read_text(encoding="utf-8")).body:
        name = getattr(node, "name", None)
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
        if isinstance(node, (ast.Import, ast.ImportFrom)) or name in names:
            kept.append(node)
            found.add(name)
    assert found >= names, f"{PAGE.name} does not define {sorted(names - found)}"
    namespace: dict = {}
    exec(compile(ast.Module(body=kept, type_ignores=[]), str(PAGE), "exec"), namespace)
    return namespace


find_unregistered_modules = page_definitions(DEFINITIONS)["find_unregistered_modules"]


def test_the_loader_fails_on_a_name_the_page_does_not_define():
    with pytest.raises(AssertionError, match=r"does not define \['not_on_the_page'\]"):
        page_definitions(DEFINITIONS | {"not_on_the_page"})


class Holder(nn.Module):
    """A module whose attributes are set from keyword arguments (plain values stay plain)."""

    def __init__(self, **attributes):
        super().__init__()
        for name, value in attributes.items():
            setattr(self, name, value)


def lin():
    return nn.Linear(2, 2)


SHARED, LOST, LOOP, HIDDEN = lin(), nn.Sequential(lin(), nn.ReLU()), [], Holder()
LOOP.append(LOOP)
HIDDEN.__dict__["hidden"] = lin()  # what object.__setattr__ would do
REGISTERED = Holder(
    heads=nn.ModuleDict({"a": lin()}),
    blocks=nn.ModuleList([lin()]),
    trunk=nn.Sequential(lin(), nn.ReLU()),
)
REGISTERED.add_module("extra", nn.Tanh())
REGISTERED.register_module("other", nn.Sigmoid())
PLAIN = {
    "names": ["a", "b"],
    "sizes": {"a": 2},
    "table": {"t": (1, 2)},
    "nothing": None,
}
# Models and what the finder reports; torch's own modules with internal lists report none.
MODELS = [
    (Holder(heads={"a": lin(), "b": nn.ReLU()}), ['heads["a"]', 'heads["b"]']),
    (Holder(blocks=[lin(), lin()]), ["blocks[0]", "blocks[1]"]),
    (Holder(pair=(lin(), "not a module", nn.Tanh())), ["pair[0]", "pair[2]"]),
    (Holder(extras={lin()}), ["extras{Linear}"]),  # set members, named by type
    (
        Holder(groups={"x": [lin(), {"deep": nn.ReLU()}], "y": []}),
        ['groups["x"][0]', 'groups["x"][1]["deep"]'],
    ),
    (Holder(deep=[[[[nn.ReLU()]]]]), []),  # deeper than max_depth
    (
        Holder(by_index={0: nn.ReLU(), ("a", 1): nn.Tanh()}),
        ["by_index[0]", "by_index[('a', 1)]"],
    ),
    (
        Holder(encoder=nn.Sequential(lin(), Holder(heads={"a": lin()}))),
        ['encoder.1.heads["a"]'],
    ),
    (Holder(**PLAIN), []),
    # a module registered elsewhere is not reported
    (
        Holder(layers=nn.ModuleDict({"s": SHARED}), cache={"s": SHARED, "lost": lin()}),
        ['cache["lost"]'],
    ),
    (Holder(first=[LOST], second={"again": LOST}), ["first[0]", 'second["again"]']),
    (Holder(loop=LOOP), []),  # a container holding itself
    (HIDDEN, ["hidden"]),  # a module bypassing setattr
    (REGISTERED, []),  # registered every way
    *[(m, []) for m in (nn.ModuleDict(), nn.ModuleList(), nn.Sequential(), lin())],
    (nn.LSTM(2, 2, num_layers=2), []),
    (nn.MultiheadAttention(4, 2), []),
    (nn.Transformer(8, 2, 1, 1, 8, batch_first=True), []),
]


@pytest.mark.parametrize("model, expected", MODELS)
def test_reports_exactly_the_modules_held_without_registering(model, expected):
    assert "hidden" not in dict(HIDDEN.named_children())
    assert find_unregistered_modules(model) == expected


def test_max_depth_lets_deeper_nesting_be_searched():
    model = Holder(deep=[[[[nn.ReLU()]]]])
    assert find_unregistered_modules(model, max_depth=4) == ["deep[0][0][0][0]"]
