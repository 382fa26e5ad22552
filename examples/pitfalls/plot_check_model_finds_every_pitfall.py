"""
A checkup for your model: one call finds the pitfalls a live model holds
========================================================================

Is something wrong with my model? ``check_model(model, *inputs)``, defined
below in one block that needs only torch, answers for the pitfalls this site
documents: modules and parameters not registered, unused parameters,
parameters that get no gradient, hooks that never run, an optimizer that
misses parameters, and names that break loading or scripting. It runs one
forward and one backward, returns each finding with its place in the model
and the page that explains it, and leaves the model as it was.
"""

# %%
# Check my model
# --------------
# ``check_model`` reads every registered module: what its attributes hold,
# the names of its entries, its hooks. Then it runs the model once, noting
# which tensors that require grad the torch functions receive (a
# ``TorchFunctionMode``), and a backward of the outputs' sum: a parameter the
# forward never used is *unused*, one it used that got no gradient is *cut
# off*. Afterwards the parameters and buffers get their values back
# (BatchNorm's running statistics included), and so do the training flags,
# every ``.grad`` and the random number generators; its own hooks are gone.
# Each finding prints its place, a path you can paste, what is wrong, and the
# page of this site that explains it.
import keyword
import random
import textwrap
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.modules.module import (
    register_module_forward_hook,
    register_module_forward_pre_hook,
)
from torch.overrides import TorchFunctionMode

# The links are paths from this site's home page; set SITE_URL to the site's
# address, ending in "/", to print whole addresses.
SITE_URL = ""
GALLERY = "auto_examples/pitfalls/plot_"
STALE = GALLERY + "references_stale_after_replace.html#"
PAGES = {  # each kind of finding, and the page that explains it
    "module not registered": GALLERY
    + "registration_plain_dict_is_invisible.html",
    "tensor not registered": "howto/register-modules.html"
    + "#parameters-nn-parameterdict-not-a-plain-dict",
    "converted parameter": "howto/questions-users-ask.html"
    + "#asked-parameter-to-device",
    "buffer not registered": "reference/buffers.html"
    + "#persistent-false-keeps-a-buffer-out-of-state-dict-only",
    "unused parameters": GALLERY + "ddp_unused_entry_fails_next_step.html",
    "no gradient": GALLERY + "graph_cuts_tensor_operations_not_lookups.html",
    "tensors from outside": STALE + "layers-created-inside-forward",
    "registered twice": STALE + "the-same-layer-under-two-names",
    "not in the optimizer": STALE + "a-reference-taken-before-the-entry"
    + "-is-replaced",
    "not in the model": STALE + "a-reference-taken-before-the-entry"
    + "-is-replaced",
    "hooks never run": "reference/hooks.html"
    + "#forward-and-backward-hooks-on-the-container-never-run",
    "name": "reference/keys.html#attribute-assignment-skips-checks",
    "keyword key": "reference/keys.html#keys-that-are-python-keywords",
    "ParameterDict key": "reference/parameterdict.html#parameterdict-setitem",
    "forward raised": "reference/errors.html",
    "backward raised": "reference/errors.html",
    "not checked": GALLERY + "check_model_finds_every_pitfall.html"
    + "#what-it-cannot-check",
}
TENSOR_PROBLEMS = {
    "tensor not registered": "requires grad but is not registered:"
    " parameters(), state_dict() and .to() miss it",
    "converted parameter": "was computed from a parameter that nothing"
    " registers (by .to()?): parameters() and state_dict() miss it",
    "buffer not registered": "is a plain tensor, not a buffer: .to() and"
    " state_dict() leave it out",
}
# Attributes every nn.Module has for its own bookkeeping (training, the hook
# dicts, ...), read from a bare module so that they follow your torch.
MODULE_INTERNALS = frozenset(vars(nn.Module()))
HOOKS = ("_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks",
         "_backward_hooks")
STORES = ("_parameters", "_buffers", "_modules")


@dataclass(frozen=True)
class Finding:
    path: str  # to paste after "model." (or "optimizer."): 'heads["a"]'
    kind: str  # a key of PAGES
    message: str
    root: str = "model"

    @property
    def place(self):
        dot = "" if self.path[:1] in ("", "[") else "."
        return self.root + dot + self.path

    @property
    def link(self):
        return SITE_URL + PAGES[self.kind]

    def __str__(self):
        lines = textwrap.wrap(f"{self.place}: {self.message}", 76,
                              subsequent_indent="    ")
        return "\n".join([*lines, "    see " + self.link])


def check_model(model, *example_inputs, optimizer=None):
    """The pitfalls ``model`` hits, as a list of ``Finding``; [] for none.

    Reads every registered module; then, unless the model has no forward,
    runs ``model(*example_inputs)`` once and, where outputs (a tensor, or
    tuples, lists and dicts of them) require grad, a backward of their sum.
    With ``optimizer``, also compares the parameters it holds with the
    model's. Afterwards the parameters and buffers (copied while it runs),
    the training flags, every ``.grad``, the hooks and the random number
    generators of torch and Python are as they were.
    """
    found = []
    try:
        modules, params = walk(model, found)
        outside = find_unregistered(modules, params, found)
        for module, path in modules:
            check_names(module, path, found)
            hooks = sum(len(getattr(module, name)) for name in HOOKS)
            if hooks and type(module).forward is nn.Module.forward:
                kind = type(module).__name__
                found.append(Finding(
                    path, "hooks never run", f"{hooks} hook(s) on a {kind},"
                    " which has no forward: a working model never calls it",
                ))
        if optimizer is not None:
            check_optimizer(optimizer, modules, params, found)
    except Exception as error:
        return [*found, not_checked("reading the model", error)]
    if type(model).forward is not nn.Module.forward:
        found += run_once(model, example_inputs, modules, params, outside)
    return found


def walk(model, found):
    """[(module, path)] as named_modules() gives them, {id(parameter): path};
    reports modules with tensors that are registered twice."""
    modules, paths, params = [], {}, {}

    def visit(module, path):
        modules.append((module, path.lstrip(".")))
        paths[id(module)] = path.lstrip(".")
        for name, p in module._parameters.items():
            if p is not None and id(p) not in params:
                params[id(p)] = (path + step(module, name)).lstrip(".")
        for name, child in module._modules.items():
            where = path + step(module, name)
            if child is not None and id(child) not in paths:
                visit(child, where)
            elif child is not None and [*child.parameters(), *child.buffers()]:
                found.append(Finding(
                    where.lstrip("."), "registered twice", "is also"
                    f" registered as {paths[id(child)] or 'the model'}:"
                    " state_dict() saves its tensors under both names, and"
                    " a checkpoint without one of them does not load",
                ))

    visit(model, "")
    return modules, params


def step(parent, name):
    """How the child ``name`` of ``parent`` is reached in Python."""
    if isinstance(parent, (nn.ModuleDict, nn.ParameterDict)):
        return f"[{subscript(name)}]"
    if isinstance(parent, (nn.ModuleList, nn.Sequential, nn.ParameterList)):
        return f"[{name}]"
    if name.isidentifier() and not hasattr(type(parent), name):
        return "." + name
    return f".get_submodule({subscript(name)})"


def subscript(key):
    """A dict key as written in a subscript: ``"a"`` for a str, else repr."""
    if isinstance(key, str) and '"' not in key and "\\" not in key:
        return f'"{key}"'
    return repr(key)


def find_unregistered(modules, params, found):
    """Reports the modules and tensors that modules keep in attributes or
    plain containers (dict, list, tuple, set, at any depth) without
    registering them. Returns {id: tensor} of their tensors."""
    registered = {id(module) for module, _ in modules}
    tensors = {id(t) for m, _ in modules for t in m.buffers(recurse=False)}
    tensors |= set(params)
    outside, searched = {}, set()

    def search(value, path):
        if isinstance(value, nn.Module) and id(value) not in registered:
            found.append(Finding(
                path, "module not registered", "is kept in a plain"
                " attribute or container: parameters(), state_dict(), .to()"
                " and eval() miss it",
            ))
            tensors_of = (*value.parameters(), *value.buffers())
            outside.update((id(t), t) for t in tensors_of)
        elif isinstance(value, torch.Tensor):
            kind = tensor_problem(value, tensors)
            if kind:
                found.append(Finding(path, kind, TENSOR_PROBLEMS[kind]))
                outside[id(value)] = value
        elif id(value) in searched:  # a container seen before
            return
        elif isinstance(value, (dict, list, tuple, set, frozenset)):
            searched.add(id(value))
            if isinstance(value, dict):
                items = [(f"[{subscript(k)}]", v) for k, v in value.items()]
            elif isinstance(value, (list, tuple)):
                items = [(f"[{i}]", v) for i, v in enumerate(value)]
            else:  # a set has no order: its members are named by type
                items = [(f"{{{type(v).__name__}}}", v) for v in sorted(
                    value, key=lambda v: type(v).__name__)]
            for where, item in items:
                search(item, path + where)

    for module, path in modules:
        for name, value in vars(module).items():
            if name not in MODULE_INTERNALS:
                search(value, f"{path}.{name}".lstrip("."))
    return outside


def tensor_problem(t, tensors):
    """The kind of finding for a tensor kept in an attribute, or None."""
    if id(t) in tensors:  # registered: a parameter or a buffer
        return None
    if not t.requires_grad:
        return "buffer not registered"
    if t.is_leaf:
        return "tensor not registered"
    todo, seen = [t.grad_fn], {}  # the graph back to its leaves
    while todo:
        node = todo.pop()
        if node is not None and id(node) not in seen:
            seen[id(node)] = node
            leaf = getattr(node, "variable", None)
            if isinstance(leaf, nn.Parameter) and id(leaf) not in tensors:
                return "converted parameter"
            todo += [next_node for next_node, _ in node.next_functions]
    return None  # computed from registered tensors: an activation


def check_names(module, path, found):
    """Reports names that load, script or read back otherwise than one
    expects (see the pages of the keys and of ParameterDict)."""
    kind = type(module).__name__
    if isinstance(module, nn.ParameterDict):
        for key in module._keys:
            where = path + (step(module, key) if isinstance(key, str) else (
                f"[{key!r}]"))
            if not isinstance(key, str) or not hasattr(module, key):
                message = ("this key has no value (its assignment failed),"
                           " so values(), items(), copy() and clear() raise")
            elif hasattr(type(module), key):
                message = (f"{kind} has an attribute of this name, which a"
                           " lookup by this key returns instead")
            elif key in MODULE_INTERNALS:
                message = f"this key replaced the module's own {key}"
            else:
                continue
            found.append(Finding(where.lstrip("."), "ParameterDict key",
                                 message))
        return
    for name in [name for store in STORES for name in getattr(module, store)]:
        if "." in name or name == "":
            problem = ("name", "its name is empty or holds a dot:"
                       " get_submodule() cannot reach it, and a strict"
                       " load_state_dict() may refuse its tensors")
        elif hasattr(type(module), name):
            problem = ("name", f"{kind} has an attribute of this name, which"
                       f" .{name} returns instead of this entry")
        elif isinstance(module, nn.ModuleDict) and keyword.iskeyword(name):
            problem = ("keyword key", "its key is a Python keyword: scripted"
                       " and saved, most such keys do not load back")
        else:
            continue
        found.append(Finding((path + step(module, name)).lstrip("."),
                             *problem))


def check_optimizer(optimizer, modules, params, found):
    """Reports the model's parameters the optimizer does not hold, and the
    tensors it holds that are not the model's."""
    held = {}
    for g, group in enumerate(optimizer.param_groups):
        for i, p in enumerate(group["params"]):
            held.setdefault(id(p), (g, i))
    model = modules[0][0]
    missing = {id(p) for p in model.parameters() if p.requires_grad}
    for path in grouped(modules, missing - set(held), params):
        found.append(Finding(
            path, "not in the optimizer", "the optimizer does not hold it"
            " (was it replaced after the optimizer was built?), so step()"
            " never changes it",
        ))
    runs = []  # [group, start, stop]: runs of tensors not in the model
    for g, i in [place for pid, place in held.items() if pid not in params]:
        if runs and runs[-1][0] == g and runs[-1][2] == i:
            runs[-1][2] = i + 1
        else:
            runs.append([g, i, i + 1])
    for g, start, stop in runs:
        index = start if stop == start + 1 else f"{start}:{stop}"
        found.append(Finding(
            f'param_groups[{g}]["params"][{index}]', "not in the model",
            "these are not parameters of the model (was an entry replaced"
            " after the optimizer was built?)", root="optimizer",
        ))


def grouped(modules, flagged, params):
    """Paths naming the ``flagged`` parameters: the deepest module whose
    trainable parameters are all flagged, else each parameter."""
    paths, covered, last = [], set(), None
    for module, path in modules if flagged else []:
        own = {id(p) for p in module.parameters() if p.requires_grad}
        if own and own <= flagged:
            if own == last:  # a submodule with the same parameters
                paths[-1] = path
            elif not own <= covered:
                paths.append(path)
                covered |= own
                last = own
    return paths + [p for i, p in params.items() if i in flagged - covered]


def tensors_in(value):
    """The tensors in a tensor, or in nested tuples, lists and dicts."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (dict, list, tuple)):
        for item in value.values() if isinstance(value, dict) else value:
            yield from tensors_in(item)


class Watch(TorchFunctionMode):
    """Notes each leaf tensor requiring grad that a torch function gets, and
    the path of the registered module running then (``stack[-1]``)."""

    def __init__(self, stack):
        super().__init__()
        self.stack, self.used = stack, {}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        # Reading x.shape or x.device uses no value; reading x.data does.
        if getattr(func, "__name__", "") != "__get__" or getattr(
            func, "__self__", None
        ) is torch.Tensor.data:
            for arg in (*args, *kwargs.values()):
                for t in arg if isinstance(arg, (list, tuple)) else (arg,):
                    if isinstance(t, torch.Tensor) and t.requires_grad:
                        if t.is_leaf:
                            self.used.setdefault(id(t), (t, self.stack[-1]))
        return func(*args, **kwargs)


def not_checked(what, error):
    kind = {"the forward": "forward raised", "the backward": "backward raised"}
    kind = kind.get(what, "not checked")
    first_line = (str(error).strip().splitlines() or [""])[0]
    return Finding("", kind, f"{what} raised {type(error).__name__}:"
                   f" {first_line}; what needs a run was not checked")


def run_once(model, inputs, modules, params, outside):
    """One forward and backward, watched; then everything put back."""
    saved, values, grads, handles, stage = [], {}, {}, [], "check_model"
    try:
        if any(nn.parameter.is_lazy(p) for p in model.parameters()):
            return [Finding("", "not checked", "it has lazy parameters,"
                            " which its first forward creates: check it"
                            " after one forward")]
        for module, _ in modules:
            stores = [dict(getattr(module, s)) for s in STORES]
            saved.append((module, module.training, stores))
            for t in (*stores[0].values(), *stores[1].values()):
                if t is not None and id(t) not in values:
                    values[id(t)] = (t, t.detach().clone())
        for t in outside.values():  # e.g. BatchNorm kept in a plain list
            values.setdefault(id(t), (t, t.detach().clone()))
        for t in (*model.parameters(), *tensors_in(inputs), *outside.values()):
            if t.requires_grad and t.is_leaf and id(t) not in grads:
                grads[id(t)] = (t, t.grad)
                t.grad = None
        where, stack = {id(m): path for m, path in modules}, [""]

        def enter(module, args):  # the path of the module running
            stack.append(where.get(id(module), stack[-1]))

        def leave(module, args, output):
            stack.pop()

        handles.append(register_module_forward_pre_hook(enter))
        handles.append(register_module_forward_hook(leave, always_call=True))
        devices = {t.device.index or 0 for t, _ in values.values()
                   if t.device.type == "cuda"}
        watch, state = Watch(stack), random.getstate()
        try:
            with torch.random.fork_rng(sorted(devices)), torch.enable_grad():
                stage = "the forward"
                with torch.inference_mode(False), watch:
                    outputs = model(*inputs)
                for t, _ in watch.used.values():  # tensors from outside
                    if id(t) not in grads:
                        grads[id(t)] = (t, t.grad)
                        t.grad = None
                stage = "the backward"
                sums = [(t.real if t.is_complex() else t).sum()
                        for t in tensors_in(outputs) if t.requires_grad]
                if sums:
                    torch.autograd.backward(sums)
        finally:
            random.setstate(state)
        stage = "check_model"
        return judge(modules, params, outside, watch.used, inputs)
    except Exception as error:
        return [not_checked(stage, error)]
    finally:
        for handle in handles:
            handle.remove()
        with torch.no_grad():
            for module, training, stores in saved:
                module.training = training
                for name, before in zip(STORES, stores):
                    now = getattr(module, name)
                    if list(now) != list(before) or any(
                        now[key] is not value for key, value in before.items()
                    ):
                        now.clear()
                        now.update(before)
            for t, value in values.values():
                if not (t.is_meta or torch.equal(t, value)):
                    t.copy_(value)
        for t, grad in grads.values():
            t.grad = grad


def judge(modules, params, outside, used, inputs):
    """Findings from the gradients the backward left and the tensors the
    forward used."""
    found, model = [], modules[0][0]
    no_grad = {id(p) for p in model.parameters()
               if p.requires_grad and p.grad is None}
    for path in grouped(modules, no_grad - set(used), params):
        found.append(Finding(
            path, "unused parameters", "the forward did not use it: under"
            " DDP the next step raises (unless find_unused_parameters=True);"
            " under FSDP2, ranks that run different entries compute wrong"
            " values, abort or hang",
        ))
    for path in grouped(modules, no_grad & set(used), params):
        found.append(Finding(
            path, "no gradient", "it ran, but no gradient reaches it"
            " (detached, computed under no_grad, read through .data, copied,"
            " or not in the outputs), so it does not train",
        ))
    known = {id(t) for t in tensors_in(inputs)} | set(params) | set(outside)
    strays = {}
    for t, path in used.values():
        if id(t) not in known:
            strays[path] = strays.get(path, 0) + 1
    for path, count in strays.items():
        found.append(Finding(
            path, "tensors from outside", f"its forward used {count}"
            " tensor(s) requiring grad that the model does not hold (a layer"
            " built or copied inside forward?): no optimizer of its"
            " parameters trains them",
        ))
    return found


# %%
# Parameters not registered
# -------------------------
# A first model keeps a scale per task in a plain ``dict``, and runs the head
# of one task per call. Each place is Python: evaluated, it gives what it
# names.
_ = torch.manual_seed(0)
x = torch.randn(3, 4)


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleDict(
            {"cls": nn.Linear(4, 3), "box": nn.Linear(4, 4)}
        )
        self.scales = {  # a plain dict
            "cls": nn.Parameter(torch.ones(3)),
            "box": nn.Parameter(torch.ones(4)),
        }

    def forward(self, x, task):
        return self.heads[task](x) * self.scales[task]


model = Scaled()
found = check_model(model, x, "cls")
for finding in found:
    print(finding)
print([type(eval(finding.place)).__name__ for finding in found])
assert [(f.kind, f.place) for f in found] == [
    ("tensor not registered", 'model.scales["cls"]'),
    ("tensor not registered", 'model.scales["box"]'),
    ("unused parameters", 'model.heads["box"]'),
]


# %%
# Unused parameters
# -----------------
# ``heads["box"]`` is registered, but the forward above ran ``"cls"`` only.
# On one process nothing breaks: the unused head keeps ``grad`` None and is
# not trained by that step. Under DDP (without
# ``find_unused_parameters=True``) the next step raises; under FSDP2, ranks
# that run different entries go wrong or hang. Registering the scales in an
# ``nn.ParameterDict`` and computing every head in each step clears both
# findings:
class Fixed(Scaled):
    def __init__(self):
        super().__init__()
        self.scales = nn.ParameterDict(self.scales)

    def forward(self, x):
        return {task: head(x) * self.scales[task]
                for task, head in self.heads.items()}


print(check_model(Fixed(), x))
assert check_model(Fixed(), x) == []


# %%
# Every faulty model this site shows, found
# -----------------------------------------
# Each model below re-creates, in a few lines, a faulty model a page of this
# site shows: the plain containers of
# :ref:`sphx_glr_auto_examples_pitfalls_plot_registration_plain_dict_is_invisible.py`
# (``Plain``) and
# :ref:`sphx_glr_auto_examples_pitfalls_plot_registration_find_unregistered_modules.py`
# (``Broken``); ``Forgetful`` and ``Scales`` of :doc:`/howto/register-modules`;
# ``Weights`` and ``Moved`` of :doc:`/howto/questions-users-ask`; the plain
# tensor of :doc:`/reference/buffers`; the hooked ``ModuleDict`` of
# :doc:`/reference/hooks`; the entries left unused or cut off in
# :ref:`sphx_glr_auto_examples_pitfalls_plot_graph_cuts_silent_untrained_parameters.py`,
# :ref:`sphx_glr_auto_examples_pitfalls_plot_ddp_unused_entry_fails_next_step.py`,
# :ref:`sphx_glr_auto_examples_pitfalls_plot_fsdp2_ranks_must_run_same_units.py`
# and :ref:`sphx_glr_auto_examples_pitfalls_plot_graph_cuts_tensor_operations_not_lookups.py`;
# the stale optimizer, the copy, the alias and the layer built in ``forward``
# of :ref:`sphx_glr_auto_examples_pitfalls_plot_references_stale_after_replace.py`;
# the names of :doc:`/reference/keys` and :doc:`/reference/parameterdict`;
# the tutorial's ``MultiHead`` (:doc:`/tutorial/first-moduledict`), correct
# on one process; and the article's Example 2
# (:ref:`sphx_glr_auto_examples_article_plot_article_example2_crashes_as_written.py`).
import copy

lin, shared = nn.Linear, nn.Linear(4, 4)


def module(**attributes):
    """An nn.Module with these attributes (a module is registered)."""
    built = nn.Module()
    for name, value in attributes.items():
        setattr(built, name, value)
    return built


def with_forward(forward, **attributes):
    """module(**attributes) whose forward is forward(self, *inputs)."""
    cls = type("Model", (nn.Module,), {"forward": forward})
    built = cls()
    for name, value in attributes.items():
        setattr(built, name, value)
    return built


def run_all(self, x):  # the trunk, every plain block, and head "a"
    x = self.trunk(x)
    for block in self.blocks:
        x = block(x)
    return self.heads["a"](x)


def run_deep(self, x):
    for layer in self.stages["low"]:
        x = layer(x)
    pair = self.branch.pair
    return self.heads["a"](pair[1](pair[0](self.heads["shared"](x))))


class Branches(nn.ModuleDict):  # runs entry `key`, or every entry
    def forward(self, x, key, run="own entry"):
        outputs = {
            name: entry(x) for name, entry in self.items()
            if run == "every entry" or name == key
        }
        return outputs[key]


def branches(*keys):
    return Branches({key: nn.Linear(4, 2) for key in keys})


class Cuts(nn.ModuleDict):  # layer1, then layer2, cut in between by `how`
    def __init__(self, how):
        super().__init__({"layer1": lin(4, 3), "layer2": lin(3, 2)})
        self.how = how

    def forward(self, x):
        if self.how == "no_grad() around forward":
            with torch.no_grad():
                return self["layer2"](self["layer1"](x))
        with torch.set_grad_enabled(self.how != "no_grad() around layer1"):
            hidden = self["layer1"](x)
        if self.how in ("hidden.detach()", "hidden.data"):
            hidden = hidden.detach() if "detach" in self.how else hidden.data
        out = self["layer2"](hidden)
        if self.how == "weight.mul_() after use":
            with torch.no_grad():
                self["layer2"].weight.mul_(2.0)
        return out


def layer1(size=2):
    return nn.ModuleDict({"layer1": nn.Linear(4, size)})


def copy_in_forward(self, x):
    return copy.deepcopy(self.layers["layer1"])(x)


def built_in_forward(self, x):
    return nn.Linear(3, 2)(self.layers["layer1"](x))


def two_names():  # the entry registered again as an attribute
    layers = layer1()
    return module(layers=layers, first=layers["layer1"])


def run_in_order(self, x):
    for layer in self.layers.values():
        x = layer(x)
    return x


odd = nn.ModuleDict()  # names set as attributes, which skips their checks
setattr(odd, "enc.1", nn.Linear(2, 2))
odd.type = nn.ReLU()
steps = nn.ParameterDict({"w": torch.zeros(2)})
try:
    steps["steps"] = torch.tensor([3])  # refused, but the key stays
except RuntimeError:
    pass
others = nn.ParameterDict()
others["training"] = "yes"
others["forward"] = nn.Tanh()
buffers = nn.ModuleDict()  # a plain tensor beside a registered buffer
buffers.register_buffer("kept", torch.zeros(2))
buffers.plain = torch.zeros(2)
hooked = with_forward(run_in_order, layers=layer1(4))
hooked.layers.register_forward_hook(print)
stale = branches("k")
optimizer = torch.optim.SGD(stale.parameters(), lr=0.1)
stale["k"] = nn.Linear(4, 2)  # replaced after the optimizer was built

# %%
# Each row: the model, its call, and every finding it must give, as (pitfall,
# place). The table prints them; ``check_model`` must give exactly these.
NOT, UNUSED, CUT = "module not registered", "unused parameters", "no gradient"
ROWS = [
    ("Plain", lambda: check_model(with_forward(
        run_all, trunk=lin(4, 4), blocks=[lin(4, 4), nn.Dropout(0.5)],
        heads={"a": lin(4, 2), "b": lin(4, 2)}), x),
     [(NOT, "blocks[0]"), (NOT, "blocks[1]"), (NOT, 'heads["a"]'),
      (NOT, 'heads["b"]')]),
    ("Broken", lambda: check_model(with_forward(
        run_deep, registered=nn.ModuleDict({"shared": shared}),
        heads={"a": lin(4, 4), "shared": shared},
        stages={"low": [lin(4, 4), nn.Tanh()]},
        branch=module(pair=(lin(4, 4), nn.ReLU()))), x),
     [(NOT, 'heads["a"]'), (NOT, 'stages["low"][0]'),
      (NOT, 'stages["low"][1]'), (NOT, "branch.pair[0]"),
      (NOT, "branch.pair[1]")]),
    ("Forgetful", lambda: check_model(module(
        proj=shared, extra_heads={"seg": lin(4, 2)},
        stages=[lin(4, 4), shared])),
     [(NOT, 'extra_heads["seg"]'), (NOT, "stages[0]")]),
    ("Scales", lambda: check_model(module(scales={
        "cls": nn.Parameter(torch.ones(4)),
        "box": nn.Parameter(torch.ones(4))})),
     [("tensor not registered", 'scales["cls"]'),
      ("tensor not registered", 'scales["box"]')]),
    ("Weights", lambda: check_model(module(
        d={"w": nn.Parameter(torch.zeros(3))})),
     [("tensor not registered", 'd["w"]')]),
    ("Moved", lambda: check_model(module(
        w=nn.Parameter(torch.zeros(3)).to(torch.float64),
        pd=nn.ParameterDict({"w": nn.Parameter(torch.zeros(3)).double()}))),
     [("converted parameter", "w")]),
    ("buffers", lambda: check_model(buffers),
     [("buffer not registered", "plain")]),
    ("hooked ModuleDict", lambda: check_model(hooked, x),
     [("hooks never run", "layers")]),
    ("heads, entry 'used'",
     lambda: check_model(branches("used", "unused"), x, "used"),
     [(UNUSED, '["unused"]')]),
    ("Branches (DDP)",
     lambda: check_model(branches("image", "text"), x, "image"),
     [(UNUSED, '["text"]')]),
    ("Branches (FSDP2)", lambda: check_model(
        branches("image", "text"), x, "image", "every entry"),
     [(CUT, '["text"]')]),
    *[(how, lambda how=how: check_model(Cuts(how), x), [(CUT, '["layer1"]')])
      for how in ("hidden.detach()", "hidden.data",
                  "no_grad() around layer1")],
    ("no_grad() around forward",
     lambda: check_model(Cuts("no_grad() around forward"), x), [(CUT, "")]),
    ("weight.mul_() after use",
     lambda: check_model(Cuts("weight.mul_() after use"), x),
     [("backward raised", "")]),
    ("CopyInForward", lambda: check_model(
        with_forward(copy_in_forward, layers=layer1()), x),
     [(CUT, 'layers["layer1"]'), ("tensors from outside", "")]),
    ("BuiltInForward", lambda: check_model(
        with_forward(built_in_forward, layers=layer1(3)), x),
     [("tensors from outside", "")]),
    ("TwoNames", lambda: check_model(two_names()),
     [("registered twice", "first")]),
    ("replaced entry", lambda: check_model(stale, x, "k", optimizer=optimizer),
     [("not in the optimizer", '["k"]'),
      ("not in the model", 'param_groups[0]["params"][0:2]')]),
    ("odd", lambda: check_model(odd),
     [("name", '["enc.1"]'), ("name", '["type"]')]),
    ("Detector", lambda: check_model(module(heads=nn.ModuleDict(
        {"class": lin(2, 3), "box": lin(2, 4)}))),
     [("keyword key", 'heads["class"]')]),
    ("steps", lambda: check_model(steps),
     [("ParameterDict key", '["steps"]')]),
    ("others", lambda: check_model(others),
     [("ParameterDict key", '["training"]'),
      ("ParameterDict key", '["forward"]')]),
    ("MultiHead, task 'cls'", lambda: check_model(with_forward(
        lambda self, x, task: self.heads[task](torch.relu(self.trunk(x))),
        trunk=lin(4, 8), heads=nn.ModuleDict(
            {"cls": lin(8, 3), "reg": lin(8, 1)})), x, "cls"),
     [(UNUSED, 'heads["reg"]')]),
    ("DynamicModel(3)", lambda: check_model(with_forward(
        run_in_order, layers=nn.ModuleDict(
            {f"layer{i + 1}": lin(10, 5) for i in range(3)})),
        torch.randn(1, 10)),
     [("forward raised", "")]),
]

# %%
# The table: pitfall, model, the place found, then the page that explains
# each pitfall.
print(f"{'pitfall':22} {'model':25} found at")
print(f"{'-' * 22} {'-' * 25} {'-' * 29}")
for name, check, expected in ROWS:
    found = check()
    assert [(f.kind, f.path) for f in found] == expected, (name, found)
    for n, finding in enumerate(found):
        print(f"{finding.kind:22} {name if n == 0 else '':25} {finding.place}")
print("\nthe page that explains it (a path from the site's home page):")
for kind in dict.fromkeys(kind for *_, found in ROWS for kind, _ in found):
    print(f"{kind:22} {PAGES[kind]}")


# %%
# No finding on correct models
# ----------------------------
# torch's own modules, a small CNN with BatchNorm and dropout, the correct
# models of the article's pages (Example 3, Example 2 fixed), and a
# ``ModuleDict`` of 1,000 entries that all run:
def run_every(self, x):
    return sum(entry(x) for entry in self.values())


def example_three(self, x):
    return self.layers["layer2"](self.layers["layer1"](x))


seq = torch.randn(2, 5, 8)  # batch x sequence x features
layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
widths = [10] * 6 + [5]
CORRECT = {
    "nn.Transformer": (nn.Transformer(8, 2, 1, 1, 16, batch_first=True),
                       seq, seq),
    "nn.TransformerEncoder": (nn.TransformerEncoder(layer, 2), seq),
    "nn.LSTM, 2 layers": (nn.LSTM(8, 4, 2, batch_first=True), seq),
    "nn.GRU": (nn.GRU(8, 4, batch_first=True), seq),
    "nn.MultiheadAttention": (
        nn.MultiheadAttention(8, 2, batch_first=True), seq, seq, seq
    ),
    "nn.Embedding": (nn.Embedding(10, 4), torch.tensor([1, 2, 3])),
    "a CNN with BatchNorm": (nn.Sequential(
        nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Dropout(0.2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2),
    ), torch.randn(2, 3, 8, 8)),
    "Example 3 (item access)": (with_forward(example_three, layers=(
        nn.ModuleDict({"layer1": lin(10, 5), "layer2": lin(5, 2)}))),
        torch.randn(1, 10)),
    "FixedDynamicModel(6)": (with_forward(run_in_order, layers=nn.ModuleDict({
        f"layer{i + 1}": lin(widths[i], widths[i + 1]) for i in range(6)
    })), torch.randn(1, 10)),
    "1,000 entries": (type("Every", (nn.ModuleDict,), {
        "forward": run_every})({f"e{i}": lin(4, 4) for i in range(1000)}), x),
}
for name, (model, *inputs) in CORRECT.items():
    found = check_model(model, *inputs)
    print(f"{name:34} {len(found)} findings")
    assert found == [], (name, [str(f) for f in found])


# %%
# It changes nothing
# ------------------
# A model with BatchNorm (its running statistics change in every training
# forward), dropout (it draws random numbers), a hook, and gradients from an
# earlier backward, one of them None. Before and after the check: the bytes
# of every ``state_dict()`` entry, the training flags, each ``.grad`` (the
# tensor and its values), the hook dicts and their hooks, and the random
# number generators of torch and Python.
def body_then_head(self, x):
    return self.heads["a"](self.body(x))


tracked = with_forward(
    body_then_head,
    body=nn.Sequential(lin(4, 4), nn.BatchNorm1d(4), nn.Dropout(0.5)),
    heads=nn.ModuleDict({"a": lin(4, 2), "b": lin(4, 2)}),
)
calls = []
tracked.heads["a"].register_forward_hook(lambda *args: calls.append(1))
tracked(x).sum().backward()
tracked.body[0].bias.grad = None


def snapshot(model):
    modules = list(model.modules())
    return {
        "state_dict": [v.reshape(-1).view(torch.uint8).tolist()
                       for v in model.state_dict().values()],
        "training flags": [m.training for m in modules],
        ".grad": [(p.grad, None if p.grad is None else p.grad.tolist())
                  for p in model.parameters()],
        "hooks": [(d, list(d.items())) for m in modules
                  for d in (m._forward_pre_hooks, m._forward_hooks)],
        "random numbers": (torch.get_rng_state().tolist(), random.getstate()),
    }


before = snapshot(tracked)
found = check_model(tracked, x)
after = snapshot(tracked)
for key in before:
    same = after[key] == before[key]
    print(f"{key:15} {'unchanged' if same else 'CHANGED'}")
assert after == before
print("findings:", [f.place for f in found], "| hook calls:", len(calls))
assert [f.place for f in found] == ['model.heads["b"]'] and len(calls) == 2

# %%
# The model's own hooks run during the check's forward, as in any forward:
# the hook above counted the earlier call and the check's. Whatever else a
# forward does to the model (a counter it increments, a cache it fills) is
# not undone.
#
# What it cannot check
# --------------------
# It never raises on a model it cannot run: it says what stopped it. A
# forward called without its input, and a lazy module, whose first forward
# creates its parameters:
for finding in [
    *check_model(hooked.layers["layer1"]),  # no input given
    *check_model(nn.Sequential(nn.LazyLinear(2)), x),
]:
    print(finding)

# %%
# It sees a live model, one forward on one process. It cannot see what the
# forward's code would do with other inputs or under a compiler, nor
# checkpoints and other ranks:
#
# - a key chosen per call, under TorchScript
#   (:ref:`sphx_glr_auto_examples_pitfalls_plot_torchscript_moduledict_keys.py`)
#   or ``torch.compile``
#   (:ref:`sphx_glr_auto_examples_pitfalls_plot_compile_key_per_call.py`);
# - renamed or reordered keys against a saved checkpoint, optimizer state
#   loaded by position (:doc:`/howto/checkpoints`), and the ``module.`` and
#   ``_orig_mod.`` prefixes of DDP and ``torch.compile``;
# - an entry that another input, or another rank, would use or skip: call it
#   once for each path the forward can take;
# - a parameter changed through ``.data`` between the forward and the
#   backward, which gets a wrong gradient rather than none
#   (:ref:`sphx_glr_auto_examples_pitfalls_plot_graph_cuts_tensor_operations_not_lookups.py`);
# - modules and tensors held in objects other than ``dict``, ``list``,
#   ``tuple`` and ``set``.
#
# Conclusion
# ----------
# Copy the first code block of this page (it needs only torch), and call
# ``check_model(model, *inputs)`` on your model with inputs like a training
# step's, for instance in a unit test; pass ``optimizer=`` to check it too.
# An empty list means that none of the pitfalls above was found. Each finding
# names a place you can paste and the page that explains it: set
# ``SITE_URL`` to this site's address to print the links as whole addresses.
