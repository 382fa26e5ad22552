"""
A checkup for your model: one call finds every pitfall this site documents
==========================================================================

Is something wrong with my model? ``check_model(model, *inputs)``, defined
below in one block that needs only torch, answers for the pitfalls of this
site: modules and parameters not registered, unused parameters, parameters
that get no gradient, hooks that never run, an optimizer that misses
parameters, and keys that break loading or scripting. It runs one forward
and one backward, returns what it found, each with its place in the model and
the page that explains it, and leaves the model as it was.
"""

# %%
# Check my model
# --------------
# ``check_model`` reads every registered module: what its attributes hold
# (vars()), the names of its entries, its hooks. Then it runs the model once,
# watching which tensors that require grad the torch functions receive (a
# ``TorchFunctionMode``), and a backward of the outputs' sum: a parameter
# the forward never used is *unused*, one it used that got no gradient is
# *cut off*. Afterwards the parameters and buffers get their values back
# (BatchNorm's running statistics included), and so do the training flags,
# every ``.grad`` and the random number generators; its hooks are removed.
# Each finding prints its place, as a path you can paste after ``model.``,
# what is wrong, and the page of this site that explains it.
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

# The links are paths from this site's home page. Set SITE_URL to the
# site's address, ending in "/", to print whole addresses.
SITE_URL = ""
EXAMPLE = "auto_examples/pitfalls/plot_"
STALE = EXAMPLE + "references_stale_after_replace.html"
CHECK = EXAMPLE + "check_model_finds_every_pitfall.html"
PAGES = {  # each kind of finding, and the page that explains it
    "module not registered": EXAMPLE
    + "registration_plain_dict_is_invisible.html",
    "tensor not registered": "howto/register-modules.html"
    + "#parameters-nn-parameterdict-not-a-plain-dict",
    "converted parameter": "howto/questions-users-ask.html"
    + "#asked-parameter-to-device",
    "buffer not registered": "reference/buffers.html"
    + "#persistent-false-keeps-a-buffer-out-of-state-dict-only",
    "unused parameters": EXAMPLE + "ddp_unused_entry_fails_next_step.html",
    "no gradient": EXAMPLE + "graph_cuts_tensor_operations_not_lookups.html",
    "tensors from outside": STALE + "#layers-created-inside-forward",
    "registered twice": STALE + "#the-same-layer-under-two-names",
    "not in the optimizer": STALE + "#a-reference-taken-before-the-entry"
    + "-is-replaced",
    "not in the model": STALE + "#a-reference-taken-before-the-entry"
    + "-is-replaced",
    "hooks never run": "reference/hooks.html"
    + "#forward-and-backward-hooks-on-the-container-never-run",
    "name": "reference/keys.html#attribute-assignment-skips-checks",
    "keyword key": "reference/keys.html#keys-that-are-python-keywords",
    "ParameterDict key": "reference/parameterdict.html#parameterdict-setitem",
    "forward raised": "reference/errors.html",
    "not checked": CHECK + "#what-it-cannot-check",
}
# Attributes every nn.Module has for its own bookkeeping (training, the
# hook dicts, ...), read from a bare module so that they follow your torch.
MODULE_INTERNALS = frozenset(vars(nn.Module()))
HOOKS = ("_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks",
         "_backward_hooks")
STORES = ("_parameters", "_buffers", "_modules")
DATA = torch.Tensor.data  # the descriptor of x.data


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
        text = f"{self.place}: {self.message}"
        lines = textwrap.wrap(text, 76, subsequent_indent="    ")
        return "\n".join([*lines, "    see " + self.link])


def check_model(model, *example_inputs, optimizer=None):
    """The pitfalls ``model`` hits, as a list of ``Finding``; [] for none.

    Reads every registered module; then, unless the model has no
    ``forward``, runs ``model(*example_inputs)`` once and, where outputs
    (a tensor, or tuples, lists and dicts of them) require grad, a backward
    of their sum. With ``optimizer``, also compares the parameters it holds
    with the model's. Afterwards the parameters and buffers (copied while
    it runs), the training flags, every ``.grad``, the hooks and the random
    number generators of torch and Python are as they were.
    """
    found = []
    try:
        modules = registered_modules(model, found)
        params = parameter_paths(modules)
        outside = find_unregistered(modules, params, found)
        for module, path in modules:
            check_names(module, path, found)
            check_hooks(module, path, found)
        if optimizer is not None:
            check_optimizer(optimizer, modules, params, found)
    except Exception as error:
        return [*found, not_checked("reading the model", error)]
    if type(model).forward is not nn.Module.forward:
        found += run_once(model, example_inputs, modules, params, outside)
    return found


def registered_modules(model, found):
    """[(module, path)] in named_modules() order; reports modules that are
    registered twice (with parameters or buffers)."""
    modules, paths = [], {}

    def visit(module, path):
        modules.append((module, path.lstrip(".")))
        paths[id(module)] = path.lstrip(".")
        for name, child in module._modules.items():
            where = path + step(module, name)
            if child is None:
                continue
            if id(child) not in paths:
                visit(child, where)
            elif has_state(child):
                found.append(Finding(
                    where.lstrip("."), "registered twice",
                    f"is also registered as {paths[id(child)] or 'model'}:"
                    " state_dict() saves its tensors under both names, and"
                    " a checkpoint without one of them does not load"
                    " strictly",
                ))

    visit(model, "")
    return modules


def has_state(module):
    return len([*module.parameters(), *module.buffers()]) > 0


def parameter_paths(modules):
    """{id(parameter): path} of every registered parameter."""
    paths = {}
    for module, path in modules:
        for name, p in module._parameters.items():
            if p is not None and id(p) not in paths:
                where = path + step(module, name, "get_parameter")
                paths[id(p)] = where.lstrip(".")
    return paths


def step(parent, name, getter="get_submodule"):
    """How the child ``name`` of ``parent`` is reached in Python."""
    if isinstance(parent, (nn.ModuleDict, nn.ParameterDict)):
        return f"[{subscript(name)}]"
    if isinstance(parent, (nn.ModuleList, nn.Sequential, nn.ParameterList)):
        return f"[{name}]"
    if name.isidentifier() and not hasattr(type(parent), name):
        return "." + name
    return f".{getter}({subscript(name)})"


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
    outside, searched = {}, set()
    tensors = {id(t) for m, _ in modules for t in m.buffers(recurse=False)}
    tensors |= set(params)

    def search(value, path):
        if isinstance(value, nn.Module):
            if id(value) not in registered:
                found.append(Finding(
                    path, "module not registered",
                    "is kept in a plain attribute or container:"
                    " parameters(), state_dict(), .to() and eval() miss it",
                ))
                outside.update((id(t), t) for t in value.parameters())
        elif isinstance(value, torch.Tensor):
            kind = tensor_problem(value, tensors)
            if kind:
                found.append(Finding(path, kind, TENSOR_PROBLEMS[kind]))
                outside[id(value)] = value
        elif id(value) in searched:  # a container seen before
            return
        elif isinstance(value, dict):
            searched.add(id(value))
            for key, item in value.items():
                search(item, f"{path}[{subscript(key)}]")
        elif isinstance(value, (list, tuple)):
            searched.add(id(value))
            for index, item in enumerate(value):
                search(item, f"{path}[{index}]")
        elif isinstance(value, (set, frozenset)):
            searched.add(id(value))
            for item in sorted(value, key=lambda item: type(item).__name__):
                search(item, f"{path}{{{type(item).__name__}}}")

    for module, path in modules:
        for name, value in vars(module).items():
            if name not in MODULE_INTERNALS:
                search(value, f"{path}.{name}".lstrip("."))
    return outside


TENSOR_PROBLEMS = {
    "tensor not registered": "requires grad but is not registered:"
    " parameters(), state_dict() and .to() miss it",
    "converted parameter": "was computed from a parameter that nothing"
    " registers (by .to()?): parameters() and state_dict() miss it",
    "buffer not registered": "is a plain tensor, not a buffer: .to() and"
    " state_dict() leave it out",
}


def tensor_problem(t, tensors):
    """The kind of finding for a tensor kept in an attribute, or None."""
    if id(t) in tensors:  # registered: a parameter or a buffer
        return None
    if not t.requires_grad:
        return "buffer not registered"
    if t.is_leaf:
        return "tensor not registered"
    todo, seen = [t.grad_fn], {}  # the leaves its graph starts from
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen[id(node)] = node
        leaf = getattr(node, "variable", None)
        if isinstance(leaf, nn.Parameter) and id(leaf) not in tensors:
            return "converted parameter"
        todo += [next_node for next_node, _ in node.next_functions]
    return None


def check_names(module, path, found):
    """Reports the names of entries that load, script or read back
    otherwise than one expects."""
    if isinstance(module, nn.ParameterDict):
        names = list(module._keys)
    else:
        names = [name for store in STORES for name in getattr(module, store)]
    for name in names:
        problem = name_problem(module, name)
        if problem:
            where = path + step(module, name) if isinstance(name, str) else (
                f"{path}[{name!r}]")
            found.append(Finding(where.lstrip("."), *problem))


def name_problem(module, name):
    """(kind, message) for a troublesome ``name`` in ``module``, or None."""
    kind = type(module).__name__
    if isinstance(module, nn.ParameterDict):
        if not isinstance(name, str):
            return ("ParameterDict key", "this key is not a string: its"
                    " assignment failed and left a key without a value, so"
                    " values(), items(), copy() and clear() raise")
        if hasattr(type(module), name):
            return ("ParameterDict key", f"{kind} has an attribute of this"
                    " name, which a lookup by this key returns instead")
        if name in MODULE_INTERNALS:
            return ("ParameterDict key", "this key replaced the attribute"
                    f" {name} that every module has")
        if not hasattr(module, name):
            return ("ParameterDict key", "this key has no value (its"
                    " assignment failed), so values(), items(), copy() and"
                    " clear() raise")
        return None
    if "." in name:
        return ("name", "its name holds a dot: get_submodule() cannot reach"
                " it, and a strict load_state_dict() refuses its tensors")
    if name == "":
        return ("name", 'its name is empty: get_submodule("") returns its'
                " parent instead")
    if hasattr(type(module), name):
        return ("name", f"{kind} has an attribute of this name, which"
                f" .{name} returns instead of this entry")
    if isinstance(module, nn.ModuleDict) and keyword.iskeyword(name):
        return ("keyword key", "its key is a Python keyword: scripted and"
                " saved with torch.jit.save, most such keys do not load back")
    return None


def check_hooks(module, path, found):
    """Reports hooks on a module that has no forward: on a step that works,
    nothing calls it."""
    hooks = sum(len(getattr(module, name)) for name in HOOKS)
    if hooks and type(module).forward is nn.Module.forward:
        found.append(Finding(
            path, "hooks never run",
            f"{hooks} hook(s) on a {type(module).__name__}, which has no"
            " forward: a working model never calls it, so they never run",
        ))


def check_optimizer(optimizer, modules, params, found):
    """Reports the model's parameters the optimizer does not hold, and the
    tensors it holds that are not the model's."""
    held = {}
    for g, group in enumerate(optimizer.param_groups):
        for i, p in enumerate(group["params"]):
            held.setdefault(id(p), (g, i))
    missing = {i for i in trainable(modules) if i not in held}
    for path in grouped(modules, missing, params):
        found.append(Finding(
            path, "not in the optimizer",
            "the optimizer does not hold it (was it replaced after the"
            " optimizer was built?), so step() never changes it",
        ))
    runs = []  # [group, start, stop]: runs of tensors not in the model
    for pid, (g, i) in held.items():
        if pid in params:
            continue
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


def trainable(modules):
    """{id: parameter} of the parameters that require grad."""
    model = modules[0][0]
    return {id(p): p for p in model.parameters() if p.requires_grad}


def grouped(modules, flagged, params):
    """Paths naming the ``flagged`` parameters: the deepest module whose
    trainable parameters are all flagged, else each parameter."""
    paths, covered, last = [], set(), None
    if not flagged:
        return paths
    for module, path in modules:
        own = {id(p) for p in module.parameters() if p.requires_grad}
        if not own or not own <= flagged:
            continue
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
    elif isinstance(value, dict):
        for item in value.values():
            yield from tensors_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from tensors_in(item)


class Watch(TorchFunctionMode):
    """Notes each leaf tensor requiring grad that a torch function gets, and
    the path of the registered module running then (``stack[-1]``)."""

    def __init__(self, stack):
        super().__init__()
        self.stack, self.used = stack, {}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        getter = getattr(func, "__name__", "") == "__get__"
        # Reading x.shape or x.device uses no value; reading x.data does.
        if not getter or getattr(func, "__self__", None) is DATA:
            for arg in (*args, *kwargs.values()):
                for t in arg if isinstance(arg, (list, tuple)) else (arg,):
                    if isinstance(t, torch.Tensor) and t.requires_grad:
                        if t.is_leaf:
                            self.used.setdefault(id(t), (t, self.stack[-1]))
        return func(*args, **kwargs)


def not_checked(what, error):
    kind = "forward raised" if what == "the forward" else "not checked"
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
        leaves = [*model.parameters(), *tensors_in(inputs), *outside.values()]
        for t in leaves:
            if t.requires_grad and t.is_leaf and id(t) not in grads:
                grads[id(t)] = (t, t.grad)
                t.grad = None
        where, stack = {id(m): path for m, path in modules}, [""]

        def enter(module, args):
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
        put_back(saved, values, grads)


def put_back(saved, values, grads):
    """The training flags, entries, values and grads kept by run_once."""
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
            if not torch.equal(t, value):
                t.copy_(value)
    for t, grad in grads.values():
        t.grad = grad


def judge(modules, params, outside, used, inputs):
    """Findings from the gradients the backward left and the tensors the
    forward used."""
    found = []
    mine = trainable(modules)
    unused = {i for i, p in mine.items() if p.grad is None and i not in used}
    cut = {i for i, p in mine.items() if p.grad is None and i in used}
    for path in grouped(modules, unused, params):
        found.append(Finding(
            path, "unused parameters",
            "the forward did not use it: under DDP the next step raises"
            " (unless find_unused_parameters=True); under FSDP2, ranks that"
            " run different entries compute wrong values, abort or hang",
        ))
    for path in grouped(modules, cut, params):
        found.append(Finding(
            path, "no gradient",
            "it ran, but no gradient reaches it (detached, computed under"
            " no_grad, read through .data, copied, or not in the outputs),"
            " so it does not train",
        ))
    known = {id(t) for t in tensors_in(inputs)} | set(params) | set(outside)
    strays = {}
    for t, path in used.values():
        if id(t) not in known:
            strays[path] = strays.get(path, 0) + 1
    for path, count in strays.items():
        found.append(Finding(
            path, "tensors from outside",
            f"its forward used {count} tensor(s) requiring grad that the"
            " model does not hold (a layer built or copied inside"
            " forward?): no optimizer built from its parameters trains them",
        ))
    return found


# %%
# Parameters not registered
# -------------------------
# A first model keeps a scale per task in a plain ``dict``, and runs the head
# of one task per call:
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
assert [(f.kind, f.place) for f in found] == [
    ("tensor not registered", 'model.scales["cls"]'),
    ("tensor not registered", 'model.scales["box"]'),
    ("unused parameters", 'model.heads["box"]'),
]

# %%
# Each place is Python: pasted, it evaluates to what it names. The scales are
# not among the model's parameters:
registered = [*model.parameters(), *model.modules()]
for finding in found:
    value = eval(finding.place)
    listed = any(value is known for known in registered)
    print(f"{finding.place:20} {type(value).__name__:9} registered:", listed)
assert [f.place for f in found if eval(f.place) in model.modules()] == [
    'model.heads["box"]'
]

# %%
# Unused parameters
# -----------------
# ``heads["box"]`` is registered, but the forward above ran ``"cls"`` only.
# On one process nothing breaks: the unused head keeps ``grad`` None and
# is not trained by that step. Under DDP (without
# ``find_unused_parameters=True``), the next step raises; under FSDP2,
# ranks that run different entries go wrong or hang (the pages linked from
# the finding show each). Registering the scales in an ``nn.ParameterDict``
# and computing every head in each step clears both findings:


class Fixed(Scaled):
    def __init__(self):
        super().__init__()
        self.scales = nn.ParameterDict(self.scales)

    def forward(self, x):
        return {
            task: head(x) * self.scales[task]
            for task, head in self.heads.items()
        }


fixed = Fixed()
print(check_model(fixed, x))
assert check_model(fixed, x) == []


# %%
# Every faulty model this site shows, found
# -----------------------------------------
# Each model below re-creates, in a few lines, a faulty model that a page of
# this site shows: the plain containers of
# :ref:`sphx_glr_auto_examples_pitfalls_plot_registration_plain_dict_is_invisible.py`
# (``Plain``) and
# :ref:`sphx_glr_auto_examples_pitfalls_plot_registration_find_unregistered_modules.py`
# (``Broken``); ``Forgetful`` and ``Scales`` of :doc:`/howto/register-modules`;
# the entries left unused or cut off in
# :ref:`sphx_glr_auto_examples_pitfalls_plot_graph_cuts_silent_untrained_parameters.py`,
# :ref:`sphx_glr_auto_examples_pitfalls_plot_ddp_unused_entry_fails_next_step.py`,
# :ref:`sphx_glr_auto_examples_pitfalls_plot_fsdp2_ranks_must_run_same_units.py`
# and :ref:`sphx_glr_auto_examples_pitfalls_plot_graph_cuts_tensor_operations_not_lookups.py`;
# the stale optimizer, the copy, the alias and the layer built in ``forward``
# of :ref:`sphx_glr_auto_examples_pitfalls_plot_references_stale_after_replace.py`;
# the keys of :doc:`/reference/keys` and :doc:`/reference/parameterdict`;
# ``Weights`` and ``Moved`` of :doc:`/howto/questions-users-ask`; the plain
# tensor of :doc:`/reference/buffers`; the hooked ``ModuleDict`` of
# :doc:`/reference/hooks`; the tutorial's ``MultiHead``
# (:doc:`/tutorial/first-moduledict`); and the article's Example 2
# (:ref:`sphx_glr_auto_examples_article_plot_article_example2_crashes_as_written.py`).
import copy

class Plain(nn.Module):  # plain list and dict
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(4, 4)
        self.blocks = [nn.Linear(4, 4), nn.Dropout(0.5)]
        self.heads = {"a": nn.Linear(4, 2), "b": nn.Linear(4, 2)}

    def forward(self, x):
        x = self.trunk(x)
        for block in self.blocks:
            x = block(x)
        return self.heads["a"](x)


class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        self.pair = (nn.Linear(4, 4), nn.ReLU())  # a tuple

    def forward(self, x):
        return self.pair[1](self.pair[0](x))


class Broken(nn.Module):  # hiding places at several depths
    def __init__(self):
        super().__init__()
        shared = nn.Linear(4, 4)
        self.registered = nn.ModuleDict({"shared": shared})
        self.heads = {"a": nn.Linear(4, 2), "shared": shared}
        self.stages = {"low": [nn.Linear(4, 4), nn.Tanh()]}
        self.branch = Pair()

    def forward(self, x):
        for layer in self.stages["low"]:
            x = layer(x)
        return self.heads["a"](self.branch(self.heads["shared"](x)))


forgetful = nn.Module()  # the how-to's model, which has no forward
forgetful.proj = nn.Linear(4, 4)
forgetful.extra_heads = {"seg": nn.Linear(4, 2)}
forgetful.stages = [nn.Linear(4, 4), forgetful.proj]


class Scales(nn.Module):  # parameters in a plain dict
    def __init__(self):
        super().__init__()
        self.scales = {
            "cls": nn.Parameter(torch.ones(4)),
            "box": nn.Parameter(torch.ones(4)),
        }

    def forward(self, x, task):
        return x * self.scales[task]


class Branches(nn.ModuleDict):  # runs one entry, or all of them
    def forward(self, x, key, run="own entry"):
        if run == "own entry":
            return self[key](x)
        outputs = {name: entry(x) for name, entry in self.items()}
        if run == "every entry":
            return outputs[key]
        return outputs[key] + 0 * sum(out.sum() for out in outputs.values())


def branches(*keys):
    return Branches({key: nn.Linear(4, 2) for key in keys})


class Cuts(nn.ModuleDict):  # layer1, then layer2, cut in between by `how`
    def __init__(self, how):
        super().__init__(
            {"layer1": nn.Linear(4, 3), "layer2": nn.Linear(3, 2)}
        )
        self.how = how

    def forward(self, x):
        if self.how == "no_grad() around forward":
            with torch.no_grad():
                return self["layer2"](self["layer1"](x))
        with torch.set_grad_enabled(self.how != "no_grad() around layer1"):
            hidden = self["layer1"](x)
        if self.how in ("hidden.detach()", "hidden.data"):
            hidden = hidden.detach() if "detach" in self.how else hidden.data
        return self["layer2"](hidden)


class CopyInForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict({"layer1": nn.Linear(4, 2)})

    def forward(self, x):
        return copy.deepcopy(self.layers["layer1"])(x)


class BuiltInForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict({"layer1": nn.Linear(4, 3)})

    def forward(self, x):
        return nn.Linear(3, 2)(self.layers["layer1"](x))


class TwoNames(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict({"layer1": nn.Linear(4, 2)})
        self.first = self.layers["layer1"]

    def forward(self, x):
        return self.layers["layer1"](x)


odd = nn.ModuleDict()  # the keys.md model: names set as attributes
setattr(odd, "enc.1", nn.Linear(2, 2))
setattr(odd, "", nn.ReLU())
odd.type = nn.ReLU()
detector = nn.Module()  # a key that is a Python keyword
detector.heads = nn.ModuleDict({"class": nn.Linear(2, 3)})
steps = nn.ParameterDict({"w": torch.zeros(2)})
try:
    steps["steps"] = torch.tensor([3])  # refused: the key stays
except RuntimeError:
    pass
others = nn.ParameterDict()
others["training"] = "yes"
others["forward"] = nn.Tanh()


class MultiHead(nn.Module):  # the tutorial's model
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(4, 8)
        self.heads = nn.ModuleDict(
            {"cls": nn.Linear(8, 3), "reg": nn.Linear(8, 1)}
        )

    def forward(self, x, task):
        return self.heads[task](torch.relu(self.trunk(x)))


class Weights(nn.Module):  # a parameter in a plain dict
    def __init__(self):
        super().__init__()
        self.d = {"w": nn.Parameter(torch.zeros(3))}


class Moved(nn.Module):  # a parameter converted by .to(): a plain tensor
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(3)).to(torch.float64)
        self.pd = nn.ParameterDict(
            {"w": nn.Parameter(torch.zeros(3)).to(torch.float64)}
        )


buffers = nn.ModuleDict()  # a plain tensor beside registered buffers
buffers.register_buffer("kept", torch.zeros(2))
buffers.register_buffer("cache", torch.zeros(2), persistent=False)
buffers.plain = torch.zeros(2)


class Hooked(nn.Module):  # forward hooks on the ModuleDict itself
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict(
            {"a": nn.Linear(4, 4), "b": nn.Linear(4, 4)}
        )
        self.layers.register_forward_pre_hook(print)
        self.layers.register_forward_hook(print)

    def forward(self, x):
        for layer in self.layers.values():
            x = layer(x)
        return x


class DynamicModel(nn.Module):  # the article's Example 2
    def __init__(self, num_layers):
        super().__init__()
        self.layers = nn.ModuleDict()
        for i in range(num_layers):
            self.layers[f"layer{i + 1}"] = nn.Linear(10, 5)

    def forward(self, x):
        for layer in self.layers.values():
            x = layer(x)
        return x


# %%
# An entry replaced after the optimizer was built leaves the optimizer with
# the old tensors:
stale = branches("k")
optimizer = torch.optim.SGD(stale.parameters(), lr=0.1)
stale["k"] = nn.Linear(4, 2)

# %%
# Each row: the pitfall, the model, its call, and where the pitfall must be
# found (``[]`` for a model without a forward or one correct as it is).
# ``check_model`` must find exactly these, nothing else.
NOT = "module not registered"
ROWS = [
    (NOT, "Plain", lambda: check_model(Plain(), x),
     ["blocks[0]", "blocks[1]", 'heads["a"]', 'heads["b"]']),
    (NOT, "Broken", lambda: check_model(Broken(), x),
     ['heads["a"]', 'stages["low"][0]', 'stages["low"][1]',
      "branch.pair[0]", "branch.pair[1]"]),
    (NOT, "Forgetful", lambda: check_model(forgetful),
     ['extra_heads["seg"]', "stages[0]"]),
    ("tensor not registered", "Scales",
     lambda: check_model(Scales(), x, "cls"),
     ['scales["cls"]', 'scales["box"]']),
    ("tensor not registered", "Weights", lambda: check_model(Weights()),
     ['d["w"]']),
    ("converted parameter", "Moved", lambda: check_model(Moved()), ["w"]),
    ("buffer not registered", "buffers", lambda: check_model(buffers),
     ["plain"]),
    ("hooks never run", "Hooked", lambda: check_model(Hooked(), x),
     ["layers"]),
    ("unused parameters", "heads, entry 'used'",
     lambda: check_model(branches("used", "unused"), x, "used"),
     ['["unused"]']),
    ("unused parameters", "Branches, DDP",
     lambda: check_model(branches("image", "text"), x, "image"),
     ['["text"]']),
    ("unused parameters", "MultiHead, task 'cls'",
     lambda: check_model(MultiHead(), x, "cls"), ['heads["reg"]']),
    ("no gradient", "Branches, FSDP2",
     lambda: check_model(branches("image", "text"), x, "image",
                         "every entry"), ['["text"]']),
    *[("no gradient", how, lambda how=how: check_model(Cuts(how), x),
       ['["layer1"]']) for how in ("hidden.detach()", "hidden.data",
                                    "no_grad() around layer1")],
    ("no gradient", "no_grad() around forward",
     lambda: check_model(Cuts("no_grad() around forward"), x), [""]),
    ("no gradient", "CopyInForward", lambda: check_model(CopyInForward(), x),
     ['layers["layer1"]']),
    ("tensors from outside", "CopyInForward",
     lambda: check_model(CopyInForward(), x), [""]),
    ("tensors from outside", "BuiltInForward",
     lambda: check_model(BuiltInForward(), x), [""]),
    ("registered twice", "TwoNames", lambda: check_model(TwoNames(), x),
     ["first"]),
    ("not in the optimizer", "replaced entry",
     lambda: check_model(stale, x, "k", optimizer=optimizer), ['["k"]']),
    ("not in the model", "replaced entry",
     lambda: check_model(stale, x, "k", optimizer=optimizer),
     ['param_groups[0]["params"][0:2]']),
    ("name", "odd", lambda: check_model(odd),
     ['["enc.1"]', '[""]', '["type"]']),
    ("keyword key", "Detector", lambda: check_model(detector),
     ['heads["class"]']),
    ("ParameterDict key", "steps", lambda: check_model(steps), ['["steps"]']),
    ("ParameterDict key", "others", lambda: check_model(others),
     ['["training"]', '["forward"]']),
    ("forward raised", "DynamicModel(3)",
     lambda: check_model(DynamicModel(3), torch.randn(1, 10)), [""]),
]

# %%
# The table: each row's findings of its pitfall, then the page that
# explains each pitfall. Every finding of every row is accounted for.
print(f"{'pitfall':22} {'model':26} found at")
print(f"{'-' * 22} {'-' * 26} {'-' * 28}")
for pitfall, name, check, expected in ROWS:
    found = check()
    mine = [f for f in found if f.kind == pitfall]
    assert [f.path for f in mine] == expected, (name, found)
    for n, finding in enumerate(mine):
        left = f"{pitfall:22} {name:26}" if n == 0 else " " * 49
        print(f"{left} {finding.place}")
print("\nthe page that explains it (a path from the site's home page):")
for pitfall in dict.fromkeys(row[0] for row in ROWS):
    print(f"{pitfall:22} {PAGES[pitfall]}")

# %%
# The other findings of those models are other rows' pitfalls, printed
# here in full: the copy in ``forward``, the replaced entry, the tutorial's
# model for its other head, and the article's Example 2, whose forward
# raises, so that nothing else could be checked.
kinds = {}
for pitfall, name, check, expected in ROWS:
    kinds.setdefault(name, set()).add(pitfall)
for name, check in {name: check for _, name, check, _ in ROWS}.items():
    others_found = [f for f in check() if f.kind not in kinds[name]]
    for finding in others_found:
        print(f"{name}: {finding}")
    assert not others_found, name


# %%
# No finding on correct models
# ----------------------------
# torch's own modules, a small CNN with BatchNorm and dropout, the correct
# models of this site's pages, and a ``ModuleDict`` of 1,000 entries that all
# run:


class ExampleThree(nn.Module):  # the article's Example 3, item access
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict(
            {"layer1": nn.Linear(10, 5), "layer2": nn.Linear(5, 2)}
        )

    def forward(self, x):
        return self.layers["layer2"](self.layers["layer1"](x))


class FixedDynamicModel(nn.Module):  # the article's Example 2, fixed
    def __init__(self, num_layers, width=10, out_features=5):
        super().__init__()
        widths = [width] * num_layers + [out_features]
        self.layers = nn.ModuleDict({
            f"layer{i + 1}": nn.Linear(widths[i], widths[i + 1])
            for i in range(num_layers)
        })

    def forward(self, x):
        for layer in self.layers.values():
            x = layer(x)
        return x


class Every(nn.ModuleDict):  # runs every entry
    def forward(self, x):
        return sum(entry(x) for entry in self.values())


cnn = nn.Sequential(
    nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Dropout(0.2),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2),
)
seq = torch.randn(2, 5, 8)  # batch x sequence x features
layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
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
    "a CNN with BatchNorm": (cnn, torch.randn(2, 3, 8, 8)),
    "Example 3 (item access)": (ExampleThree(), torch.randn(1, 10)),
    "FixedDynamicModel(6)": (FixedDynamicModel(6), torch.randn(1, 10)),
    "Branches, every entry in the loss": (
        branches("image", "text"), x, "image", "every entry, all in loss"
    ),
    "1,000 entries": (
        Every({f"e{i}": nn.Linear(4, 4) for i in range(1000)}), x
    ),
}
for name, (model, *inputs) in CORRECT.items():
    found = check_model(model, *inputs)
    print(f"{name:34} {len(found)} findings")
    assert found == [], (name, [str(f) for f in found])

# %%
# The tutorial's ``MultiHead`` is correct on one process: its finding matters
# once it trains under DDP or FSDP2, where every step must use every entry
# (or DDP must be told otherwise). ``Fixed`` of
# :ref:`sphx_glr_auto_examples_pitfalls_plot_registration_find_unregistered_modules.py`
# is not among the correct models: it keeps its shared layer in two
# ``ModuleDict`` entries, which ``check_model`` reports as registered twice.


# %%
# It changes nothing
# ------------------
# A model with BatchNorm (its running statistics change in every training
# forward), dropout (it draws random numbers), a hook, and gradients from an
# earlier backward, one of them None. Everything it holds is recorded before
# and after the check: the bytes of every ``state_dict()`` entry, the training
# flags, each ``.grad`` (the tensor object and its values), the hook dicts
# and their hooks, and torch's and Python's random number generators.
class Tracked(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Dropout(0.5)
        )
        self.heads = nn.ModuleDict(
            {"a": nn.Linear(4, 2), "b": nn.Linear(4, 2)}
        )

    def forward(self, x):
        return self.heads["a"](self.body(x))


def snapshot(model):
    modules = list(model.modules())
    return {
        "state_dict": {
            k: v.reshape(-1).view(torch.uint8).tolist()
            for k, v in model.state_dict().items()
        },
        "training flags": [m.training for m in modules],
        ".grad": [
            None if p.grad is None else (p.grad, p.grad.tolist())
            for p in model.parameters()
        ],
        "hooks": [
            (d, list(d.items())) for m in modules
            for d in (m._forward_pre_hooks, m._forward_hooks)
        ],
        "random numbers": (torch.get_rng_state().tolist(), random.getstate()),
    }


tracked = Tracked()
calls = []
tracked.heads["a"].register_forward_hook(lambda *args: calls.append(1))
tracked(x).sum().backward()
tracked.body[0].bias.grad = None
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

# %%
# What it cannot check
# --------------------
# It never raises on a model it cannot run: it says what stopped it. A
# forward called with the wrong inputs, and a lazy module, whose first
# forward creates its parameters:
for finding in [
    *check_model(Plain()),  # no input given
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
# - renamed or reordered keys against a saved checkpoint, and optimizer state
#   loaded by position (:doc:`/howto/checkpoints`), or the ``module.`` and
#   ``_orig_mod.`` prefixes of DDP and ``torch.compile``;
# - an entry that another input, or another rank, would use or skip: call
#   it with inputs that take each path, one call per path;
# - modules held in objects other than ``dict``, ``list``, ``tuple`` and
#   ``set``.


# %%
# Conclusion
# ----------
# Copy the first code block of this page (it needs only torch), and call
# ``check_model(model, *inputs)`` once on your model, with inputs like a
# training step's, for instance in a unit test; pass ``optimizer=`` to check
# it too. An empty list means that none of the pitfalls above was found.
# Each finding names a place you can paste after ``model.`` and the page
# that explains it: set ``SITE_URL`` to this site's address to print the
# links as whole addresses.
