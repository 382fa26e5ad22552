"""find_unregistered_modules reports exactly the modules a model holds without registering.

Its definition is read from its example page's source, so these tests test the code a
reader copies.
"""

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


SHARED, LOST = lin(), nn.Sequential(lin(), nn.ReLU())
LOOP: list = []
LOOP.append(LOOP)


@pytest.mark.parametrize(
    "attributes, expected",
    [
        ({"heads": {"a": lin(), "b": nn.ReLU()}}, ['heads["a"]', 'heads["b"]']),
        ({"blocks": [lin(), lin()]}, ["blocks[0]", "blocks[1]"]),
        ({"pair": (lin(), "not a module", nn.Tanh())}, ["pair[0]", "pair[2]"]),
        ({"extras": {lin()}}, ["extras{Linear}"]),  # set members, named by type
        (
            {"groups": {"x": [lin(), {"deep": nn.ReLU()}], "y": []}},
            ['groups["x"][0]', 'groups["x"][1]["deep"]'],
        ),
        ({"deep": [[[[nn.ReLU()]]]]}, []),  # deeper than max_depth
        (
            {"by_index": {0: nn.ReLU(), ("a", 1): nn.Tanh()}},
            ["by_index[0]", "by_index[('a', 1)]"],
        ),
        (
            {"encoder": nn.Sequential(lin(), Holder(heads={"a": lin()}))},
            ['encoder.1.heads["a"]'],
        ),
        (
            {
                "names": ["a", "b"],
                "sizes": {"a": 2},
                "table": {"t": (1, 2)},
                "nothing": None,
            },
            [],
        ),
        (
            {
                "layers": nn.ModuleDict({"s": SHARED}),
                "cache": {"s": SHARED, "lost": lin()},
            },
            ['cache["lost"]'],
        ),  # a module registered elsewhere is not reported
        ({"first": [LOST], "second": {"again": LOST}}, ["first[0]", 'second["again"]']),
        ({"loop": LOOP}, []),  # a container holding itself
    ],
)
def test_reports_exactly_the_modules_held_without_registering(attributes, expected):
    assert find_unregistered_modules(Holder(**attributes)) == expected


def test_max_depth_lets_deeper_nesting_be_searched():
    model = Holder(deep=[[[[nn.ReLU()]]]])
    assert find_unregistered_modules(model, max_depth=4) == ["deep[0][0][0][0]"]


def test_a_module_bypassing_setattr_is_found():
    model = Holder()
    model.__dict__["hidden"] = lin()  # what object.__setattr__ would do
    assert "hidden" not in dict(model.named_children())
    assert find_unregistered_modules(model) == ["hidden"]


def test_a_model_registering_every_way_has_none():
    model = Holder(
        heads=nn.ModuleDict({"a": lin()}),
        blocks=nn.ModuleList([lin()]),
        trunk=nn.Sequential(lin(), nn.ReLU()),
    )
    model.add_module("extra", nn.Tanh())
    model.register_module("other", nn.Sigmoid())
    assert find_unregistered_modules(model) == []


@pytest.mark.parametrize(
    "model",
    [
        nn.ModuleDict(),
        nn.ModuleList(),
        nn.Sequential(),
        lin(),
        nn.LSTM(2, 2, num_layers=2),
        nn.MultiheadAttention(4, 2),
        nn.Transformer(8, 2, 1, 1, 8, batch_first=True),
    ],
    ids=lambda model: type(model).__name__,
)
def test_torch_modules_with_internal_lists_have_none(model):
    assert find_unregistered_modules(model) == []
