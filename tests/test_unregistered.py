"""find_unregistered_modules reports exactly the modules a model holds without registering.

The function is the one its example page shows: its definition is read from the page's
source, so these tests test the code a reader copies.
"""

import ast
from pathlib import Path

import pytest
from torch import nn

PAGE = (
    Path(__file__).parents[1]
    / "examples"
    / "pitfalls"
    / "plot_registration_find_unregistered_modules.py"
)
# What the finder needs from the page: its imports, its constant and its functions.
DEFINITIONS = {"MODULE_INTERNALS", "find_unregistered_modules", "subscript"}


def page_definitions(path: Path, names: set[str]) -> dict:
    """Execute the imports and the top-level definitions ``names`` of ``path``, nothing else."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    kept, found = [], set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            kept.append(node)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in names:
            kept.append(node)
            found.add(node.name)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in names:
                kept.append(node)
                found.add(target.id)
    assert found == names, f"{path.name} does not define {sorted(names - found)}"
    namespace: dict = {}
    exec(compile(ast.Module(body=kept, type_ignores=[]), str(path), "exec"), namespace)
    return namespace


find_unregistered_modules = page_definitions(PAGE, DEFINITIONS)["find_unregistered_modules"]


def test_the_loader_fails_on_a_name_the_page_does_not_define():
    with pytest.raises(AssertionError, match=r"does not define \['not_on_the_page'\]"):
        page_definitions(PAGE, DEFINITIONS | {"not_on_the_page"})


class Holder(nn.Module):
    """A module whose attributes are set from keyword arguments (plain values stay plain)."""

    def __init__(self, **attributes):
        super().__init__()
        for name, value in attributes.items():
            setattr(self, name, value)


def test_plain_dict():
    model = Holder(heads={"a": nn.Linear(2, 2), "b": nn.ReLU()})
    assert find_unregistered_modules(model) == ['heads["a"]', 'heads["b"]']


def test_plain_list():
    model = Holder(blocks=[nn.Linear(2, 2), nn.Linear(2, 2)])
    assert find_unregistered_modules(model) == ["blocks[0]", "blocks[1]"]


def test_tuple():
    model = Holder(pair=(nn.Linear(2, 2), "not a module", nn.Tanh()))
    assert find_unregistered_modules(model) == ["pair[0]", "pair[2]"]


def test_set_members_are_named_by_type():
    model = Holder(extras={nn.Linear(2, 2)})
    assert find_unregistered_modules(model) == ["extras{Linear}"]


def test_nested_containers():
    model = Holder(groups={"x": [nn.Linear(2, 2), {"deep": nn.ReLU()}], "y": []})
    assert find_unregistered_modules(model) == ['groups["x"][0]', 'groups["x"][1]["deep"]']


def test_nesting_deeper_than_max_depth_is_not_searched():
    model = Holder(deep=[[[[nn.ReLU()]]]])
    assert find_unregistered_modules(model) == []
    assert find_unregistered_modules(model, max_depth=4) == ["deep[0][0][0][0]"]


def test_non_string_keys_use_their_repr():
    model = Holder(by_index={0: nn.ReLU(), ("a", 1): nn.Tanh()})
    assert find_unregistered_modules(model) == ["by_index[0]", "by_index[('a', 1)]"]


def test_paths_inside_registered_submodules_are_dotted():
    inner = Holder(heads={"a": nn.Linear(2, 2)})
    model = Holder(encoder=nn.Sequential(nn.Linear(2, 2), inner))
    assert find_unregistered_modules(model) == ['encoder.1.heads["a"]']


def test_module_bypassing_setattr_is_found():
    model = Holder()
    model.__dict__["hidden"] = nn.Linear(2, 2)  # what object.__setattr__ would do
    assert "hidden" not in dict(model.named_children())
    assert find_unregistered_modules(model) == ["hidden"]


def test_correctly_registered_model_returns_empty_list():
    model = Holder(
        heads=nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.ReLU()}),
        blocks=nn.ModuleList([nn.Linear(2, 2), nn.Dropout()]),
        trunk=nn.Sequential(nn.Linear(2, 2), nn.ReLU()),
    )
    model.add_module("extra", nn.Tanh())
    model.register_module("other", nn.Sigmoid())
    assert find_unregistered_modules(model) == []


def test_plain_values_that_are_not_modules_are_ignored():
    model = Holder(names=["a", "b"], sizes={"a": 2}, scale=0.5, table={"t": (1, 2)}, nothing=None)
    assert find_unregistered_modules(model) == []


def test_shared_module_registered_elsewhere_is_not_reported():
    shared = nn.Linear(2, 2)
    lost = nn.Linear(2, 2)
    model = Holder(layers=nn.ModuleDict({"shared": shared}), cache={"shared": shared, "lost": lost})
    assert find_unregistered_modules(model) == ['cache["lost"]']


def test_unregistered_module_is_reported_at_each_place_but_not_its_children():
    lost = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    model = Holder(first=[lost], second={"again": lost})
    assert find_unregistered_modules(model) == ["first[0]", 'second["again"]']


def test_self_referencing_container_terminates():
    loop: list = []
    loop.append(loop)
    model = Holder(loop=loop)
    assert find_unregistered_modules(model) == []


@pytest.mark.parametrize("container", [nn.ModuleDict, nn.ModuleList, nn.Sequential, nn.Linear])
def test_bare_torch_modules_have_no_forgotten_modules(container):
    model = container(2, 2) if container is nn.Linear else container()
    assert find_unregistered_modules(model) == []


@pytest.mark.parametrize(
    "build",
    [
        lambda: nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                               dim_feedforward=8, batch_first=True),
        lambda: nn.LSTM(2, 2, num_layers=2),
        lambda: nn.MultiheadAttention(4, 2),
    ],
    ids=["Transformer", "LSTM", "MultiheadAttention"],
)
def test_torch_models_with_internal_lists_have_no_forgotten_modules(build):
    assert find_unregistered_modules(build()) == []
