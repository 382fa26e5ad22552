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


def bypassing_setattr():
    model = Holder()
    model.__dict__["hidden"] = nn.Linear(2, 2)  # what object.__setattr__ would do
    assert "hidden" not in dict(model.named_children())
    return model


def registered_every_way():
    model = Holder(
        heads=nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.ReLU()}),
        blocks=nn.ModuleList([nn.Linear(2, 2), nn.Dropout()]),
        trunk=nn.Sequential(nn.Linear(2, 2), nn.ReLU()),
    )
    model.add_module("extra", nn.Tanh())
    model.register_module("other", nn.Sigmoid())
    return model


def shared_and_lost():
    shared = nn.Linear(2, 2)
    return Holder(
        layers=nn.ModuleDict({"shared": shared}),
        cache={"shared": shared, "lost": nn.Linear(2, 2)},
    )


def lost_twice():  # reported at each place, its children not
    lost = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    return Holder(first=[lost], second={"again": lost})


def self_referencing():
    loop: list = []
    loop.append(loop)
    return Holder(loop=loop)


CASES = {
    "plain dict": (
        lambda: Holder(heads={"a": nn.Linear(2, 2), "b": nn.ReLU()}),
        ['heads["a"]', 'heads["b"]'],
    ),
    "plain list": (
        lambda: Holder(blocks=[nn.Linear(2, 2), nn.Linear(2, 2)]),
        ["blocks[0]", "blocks[1]"],
    ),
    "tuple": (
        lambda: Holder(pair=(nn.Linear(2, 2), "not a module", nn.Tanh())),
        ["pair[0]", "pair[2]"],
    ),
    "set members named by type": (
        lambda: Holder(extras={nn.Linear(2, 2)}),
        ["extras{Linear}"],
    ),
    "nested containers": (
        lambda: Holder(groups={"x": [nn.Linear(2, 2), {"deep": nn.ReLU()}], "y": []}),
        ['groups["x"][0]', 'groups["x"][1]["deep"]'],
    ),
    "deeper than max_depth": (lambda: Holder(deep=[[[[nn.ReLU()]]]]), []),
    "non-string keys by repr": (
        lambda: Holder(by_index={0: nn.ReLU(), ("a", 1): nn.Tanh()}),
        ["by_index[0]", "by_index[('a', 1)]"],
    ),
    "dotted inside registered submodules": (
        lambda: Holder(
            encoder=nn.Sequential(nn.Linear(2, 2), Holder(heads={"a": nn.Linear(2, 2)}))
        ),
        ['encoder.1.heads["a"]'],
    ),
    "bypassing setattr": (bypassing_setattr, ["hidden"]),
    "registered every way": (registered_every_way, []),
    "plain values": (
        lambda: Holder(
            names=["a", "b"],
            sizes={"a": 2},
            scale=0.5,
            table={"t": (1, 2)},
            nothing=None,
        ),
        [],
    ),
    "shared module registered elsewhere": (shared_and_lost, ['cache["lost"]']),
    "one lost module in two places": (lost_twice, ["first[0]", 'second["again"]']),
    "self-referencing container": (self_referencing, []),
    **{
        f"bare {c.__name__}": (c, [])
        for c in (nn.ModuleDict, nn.ModuleList, nn.Sequential)
    },
    "Linear": (lambda: nn.Linear(2, 2), []),
    "Transformer": (
        lambda: nn.Transformer(
            d_model=8,
            nhead=2,
            num_encoder_layers=1,
            num_decoder_layers=1,
            dim_feedforward=8,
            batch_first=True,
        ),
        [],
    ),
    "LSTM": (lambda: nn.LSTM(2, 2, num_layers=2), []),
    "MultiheadAttention": (lambda: nn.MultiheadAttention(4, 2), []),
}


@pytest.mark.parametrize("build, expected", CASES.values(), ids=CASES)
def test_reports_exactly_the_unregistered_modules(build, expected):
    assert find_unregistered_modules(build()) == expected


def test_max_depth_lets_deeper_nesting_be_searched():
    assert find_unregistered_modules(Holder(deep=[[[[nn.ReLU()]]]]), max_depth=4) == [
        "deep[0][0][0][0]"
    ]
