"""From a line of a model's source to the tensors it made in a built model, and back.

    attribute = attribute_at(source, line, col)     # `self.u_weight` under the cursor, in class C
    link = link_attribute(model, attribute, path)   # the tensors that attribute is in `model`
    summary = tensor_summary(tensor, labels)        # shape, dtype, stats, histogram, top rows
    place = definition_of(model, "1.decoder")       # where the class of a layer is defined

Nothing here is a table of the lesson's models. The link is found from the model itself: every
module of `model.named_modules()` whose class (or a class it inherits from) has the source's
class name and was defined in the source's file is an instance of that class; the attribute is
then looked up on each of them, as Python would (a parameter, a buffer or a submodule, an index
into a ModuleList). So it works for a model the user wrote, for a class used many times (each
instance is listed), for a layer built in a loop (`self.rnns[i]`: every element) and for tied
weights (the LM's decoder weight is the encoder's: the link says so, by every name).

Plain functions with no textual: the Code pane's K and the Model pane's `gd` use them. torch is
only imported inside the functions that need it.
"""

import ast
import inspect
from dataclasses import dataclass, field
from pathlib import Path

MAX_TENSORS = 12  # a container (`self.rnns`) lists this many of its tensors, then says how many more
TOP_ROWS = 5  # the rows with the largest norm shown for a matrix
BINS = 40


# ---- the attribute under the cursor --------------------------------------------------------------

@dataclass(frozen=True)
class SourceAttribute:
    """`self.<steps>` as written inside a method of class `class_name`.

    steps: ("rnns", 0, "module") for `self.rnns[0].module`; an index that is not a constant
    (`self.rnns[i]`) is None, meaning every element."""

    class_name: str
    steps: tuple
    line: int  # 1-based, where the attribute is written
    # `embedding.weight` in `for embedding in (self.u_weight, self.i_weight):` is `steps` after
    # each of these (("u_weight",), ("i_weight",)); `root` is then the loop's name
    alternatives: tuple = ()
    root: str = "self"

    @property
    def text(self) -> str:
        out = self.root
        for step in self.steps:
            out += f".{step}" if isinstance(step, str) else ("[i]" if step is None else f"[{step}]")
        return out

    @property
    def name(self) -> str:
        """The last name: what K was pressed on."""
        return next(step for step in reversed(self.steps) if isinstance(step, str))


def _steps(node) -> tuple | None:
    """(`self` is the root, the steps to `node`) for self.a[i].b; None when the root is no `self`."""
    steps = []
    while True:
        if isinstance(node, ast.Attribute):
            steps.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            index = node.slice
            steps.append(index.value if isinstance(index, ast.Constant) and isinstance(index.value, int) else None)
            node = node.value
        elif isinstance(node, ast.Name):
            return (node.id, tuple(reversed(steps)))
        else:
            return None


def _byte_col(line_text: str, col: int) -> int:
    """ast's column offsets count UTF-8 bytes; the cursor counts characters."""
    return len(line_text[:col].encode("utf-8"))


def attribute_at(source: str, line: int, col: int) -> SourceAttribute | None:
    """The `self.X` chain whose last name is under the cursor (line 1-based, col 0-based), in a
    method of a class; None elsewhere (a local name, a module-level function, a syntax error)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    lines = source.splitlines()
    if not 1 <= line <= len(lines):
        return None
    byte_col = _byte_col(lines[line - 1], col)
    found = None

    def visit(node, class_name, self_name, function):
        nonlocal found
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, child.name, None, None)
                continue
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if isinstance(node, ast.ClassDef):  # a method: its first argument is the instance
                    args = child.args.posonlyargs + child.args.args
                    inner = args[0].arg if args and not _is_static(child) else None
                else:  # a function nested in a method still sees the method's `self`
                    inner = self_name
                visit(child, class_name, inner, child)
                continue
            if (isinstance(child, ast.Attribute) and class_name and self_name
                    and child.end_lineno == line and child.end_col_offset is not None
                    and child.end_col_offset - len(child.attr.encode("utf-8")) <= byte_col < child.end_col_offset):
                chain = _steps(child)
                if chain and chain[0] == self_name:
                    found = SourceAttribute(class_name, chain[1], line)
                elif chain and function is not None:
                    alternatives = _loop_over_self(function, chain[0], self_name)
                    if alternatives:
                        found = SourceAttribute(class_name, chain[1], line, alternatives, chain[0])
            visit(child, class_name, self_name, function)

    visit(tree, None, None, None)
    return found


def _loop_over_self(function, name: str, self_name: str) -> tuple:
    """The self chains `name` takes in `for name in (self.a, self.b):` in `function`; () if none."""
    for node in ast.walk(function):
        if (isinstance(node, ast.For) and isinstance(node.target, ast.Name) and node.target.id == name
                and isinstance(node.iter, (ast.Tuple, ast.List))):
            chains = [_steps(element) for element in node.iter.elts]
            if chains and all(chain and chain[0] == self_name for chain in chains):
                return tuple(chain[1] for chain in chains)
    return ()


def _is_static(function) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in function.decorator_list)


# ---- the attribute in a built model ---------------------------------------------------------------

@dataclass
class LinkedTensor:
    name: str  # its name in the model, through the instance found: "1.decoder.weight"
    kind: str  # "parameter" or "buffer"
    tensor: object
    tied_to: list[str] = field(default_factory=list)  # the other names of the very same tensor

    @property
    def module_name(self) -> str:
        """The module holding it ("" for the model itself): the Model pane's Layers row."""
        return self.name.rpartition(".")[0]

    @property
    def local_name(self) -> str:
        """Its name in that module: the Parameters tab's row."""
        return self.name.rpartition(".")[2]


@dataclass
class Link:
    attribute: SourceAttribute
    instances: list[str]  # the modules of the model that are instances of the class ("" the model)
    tensors: list[LinkedTensor]
    more: int = 0  # tensors found beyond MAX_TENSORS
    note: str = ""  # why there is no tensor: "y_range is a plain attribute: (0.0, 5.5)", ...


def defines(module, class_name: str, path: Path) -> bool:
    """`module` is an instance of the class `class_name` defined in the file `path` (or of a
    subclass of it: EmbeddingNN runs TabularModel's __init__)."""
    wanted = Path(path).resolve()
    for klass in type(module).__mro__:
        if klass.__name__ != class_name:
            continue
        source = class_file(klass)
        if source is not None and source == wanted:
            return True
    return False


def class_file(klass) -> Path | None:
    try:
        source = inspect.getsourcefile(klass)
    except (TypeError, OSError):  # a class of C, or one defined in a string
        return None
    return Path(source).resolve() if source else None


def instances_of(model, class_name: str, path: Path) -> list[tuple[str, object]]:
    """(qualified name, module) of every module of `model` that is an instance of that class."""
    return [(name, module) for name, module in model.named_modules() if defines(module, class_name, path)]


def _children(value) -> list[tuple[str, object]]:
    """What `value[i]` can be, for every i: a ModuleList's, Sequential's or ParameterList's items."""
    return list(getattr(value, "_modules", {}).items()) + \
        [(k, v) for k, v in getattr(value, "_parameters", {}).items() if v is not None]


def _resolve(module, steps: tuple) -> list[tuple[str, object, str]]:
    """[(the dotted path from `module`, the object, how it is held)] that `module.<steps>` is.
    How: "parameter", "buffer", "module", "attribute", or "missing"."""
    found = [("", module, "module")]
    for step in steps:
        after = []
        for prefix, value, how in found:
            if how != "module":
                after.append((prefix, value, how))
                continue
            join = f"{prefix}." if prefix else ""
            if isinstance(step, str):
                if step in value._parameters:
                    after.append((join + step, value._parameters[step], "parameter"))
                elif step in value._buffers:
                    after.append((join + step, value._buffers[step], "buffer"))
                elif step in value._modules:
                    after.append((join + step, value._modules[step], "module"))
                elif hasattr(value, step):
                    after.append((join + step, getattr(value, step), "attribute"))
                else:
                    after.append((join + step, None, "missing"))
            else:
                items = _children(value)
                if step is not None:
                    items = [(k, v) for k, v in items if k == str(step)]
                for key, child in items:
                    after.append((join + key, child, "module" if hasattr(child, "_modules") else "parameter"))
        found = after
    return found


def _all_names(model) -> dict[int, list[str]]:
    """id(tensor) -> every qualified name of it among the model's parameters and buffers."""
    names: dict[int, list[str]] = {}
    for name, tensor in list(model.named_parameters(remove_duplicate=False)) + \
            list(model.named_buffers(remove_duplicate=False)):
        names.setdefault(id(tensor), []).append(name)
    return names


def link_attribute(model, attribute: SourceAttribute, path: Path) -> Link:
    """The tensors that `attribute` (read in the file `path`) is in `model`. A submodule gives its
    parameters and buffers; a class used several times gives those of each instance."""
    import torch

    instances = instances_of(model, attribute.class_name, path)
    link = Link(attribute, [name for name, _ in instances], [])
    if not instances:
        link.note = f"the model has no {attribute.class_name} from {Path(path).name}"
        return link
    names = _all_names(model)
    params = {id(p) for p in model.parameters()}
    seen: set[tuple[int, str]] = set()
    notes = []
    paths = [alternative + attribute.steps for alternative in attribute.alternatives] or [attribute.steps]
    for instance_name, instance in instances:
        for rest, value, how in [found for steps in paths for found in _resolve(instance, steps)]:
            where = ".".join(part for part in (instance_name, rest) if part)
            if how == "missing":
                notes.append(f"{instance_name or 'the model'} has no {rest}")
                continue
            if how in ("parameter", "buffer") and value is None:
                notes.append(f"{where}: None (a {how} slot with no tensor, as a Linear's bias with bias=False)")
                continue
            if how == "attribute":
                shown = "a plain tensor, not registered: not saved, not trained" if torch.is_tensor(value) \
                    else f"a plain attribute, not a tensor of the model: {_short(value)}"
                notes.append(f"{where}: {shown}")
                continue
            if how == "module":
                tensors = [(".".join(part for part in (where, sub, n) if part), t)
                           for sub, module in value.named_modules(remove_duplicate=False)
                           for n, t in list(module._parameters.items()) + list(module._buffers.items())
                           if t is not None]  # layer by layer, each layer's own tensors together
            else:
                tensors = [(where, value)]
            for name, tensor in tensors:
                if (id(tensor), name) in seen:
                    continue
                seen.add((id(tensor), name))
                kind = "parameter" if id(tensor) in params else "buffer"
                tied = [other for other in names.get(id(tensor), []) if other != name]
                link.tensors.append(LinkedTensor(name, kind, tensor, tied))
    if len(link.tensors) > MAX_TENSORS:
        link.more = len(link.tensors) - MAX_TENSORS
        link.tensors = link.tensors[:MAX_TENSORS]
    if not link.tensors:
        link.note = "; ".join(dict.fromkeys(notes)) or f"{attribute.text} holds no tensor"
    return link


def _short(value) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) <= 80 else text[:79] + "…"


# ---- one tensor, summarised ---------------------------------------------------------------------

@dataclass
class TensorSummary:
    shape: tuple[int, ...]
    dtype: str
    stats: object  # parameters.TensorStats: mean, std, min, max, the histogram
    top_rows: list[tuple[int, str, float]] = field(default_factory=list)  # (row, its label, norm), largest first
    rows_of: str = ""  # what the rows are: "movies", "tokens", "users" ... ("" when unlabelled)


def tensor_summary(tensor, labels: list[str] | None = None, rows_of: str = "", top: int = TOP_ROWS,
                   bins: int = BINS) -> TensorSummary:
    """Shape, dtype, statistics and a histogram of `tensor`; for a matrix, the `top` rows with
    the largest L2 norm, each with its label when `labels` has one per row."""
    import torch

    from l4tui.inspect.parameters import tensor_stats

    data = tensor.detach()
    summary = TensorSummary(tuple(data.shape), str(data.dtype).removeprefix("torch."), tensor_stats(data, bins=bins))
    if data.ndim == 2 and data.shape[0] > 1 and data.is_floating_point():
        norms = torch.linalg.vector_norm(data.float().cpu(), dim=1)
        norms = torch.nan_to_num(norms, nan=-1.0)
        values, rows = norms.topk(min(top, len(norms)))
        usable = labels is not None and len(labels) == data.shape[0]
        summary.top_rows = [(int(row), labels[int(row)] if usable else f"row {int(row)}", float(value))
                            for value, row in zip(values, rows)]
        summary.rows_of = rows_of if usable else ""
    return summary


def row_labels(subject, tensor_name: str, n_rows: int) -> tuple[list[str] | None, str]:
    """(a label per row, what the rows are) for the tensor `tensor_name` of a Model pane subject
    (inspect/subject.py): tokens for the text models' encoder, movie titles for `i_weight`, user
    ids, a column's categories. The labelling is the Embeddings screen's (embeddings.py), given
    what the subject knows; (None, "") for a tensor whose rows are not labelled."""
    from l4tui.inspect.embeddings import embedding_tables

    known = {"model": {tensor_name: _RowsOnly(n_rows)}}
    if subject.vocab is not None:
        known["vocab"] = list(subject.vocab.itos)
    if subject.users:
        known["users"] = list(subject.users)
    if subject.items:
        known["items"] = list(subject.items)
    if subject.processor is not None:
        from dataclasses import asdict, is_dataclass

        processor = subject.processor
        known["processor"] = asdict(processor) if is_dataclass(processor) else dict(vars(processor))
    tables = embedding_tables(known, subject.titles or {})
    if not tables:
        return None, ""
    labels = list(tables[0].labels)[:n_rows]
    labels += [f"row {i}" for i in range(len(labels), n_rows)]  # a lesson-size fresh model: more rows than the sample
    return labels, tables[0].name


class _RowsOnly:
    """Stands in for a matrix in embedding_tables: only its row count is read for the labels."""

    ndim = 2

    def __init__(self, rows: int) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return self.rows

    def detach(self):
        return self

    def cpu(self):
        return self

    def float(self):
        return self

    def numpy(self):
        import numpy as np

        return np.zeros((self.rows, 0))


# ---- a layer's definition ---------------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    path: Path
    line: int  # 1-based
    class_name: str


def definition_of(model, module_name: str) -> Place:
    """Where the class of the module `module_name` of `model` is defined ("" is the model).
    ValueError with one line when there is no such module or its class has no Python source."""
    modules = dict(model.named_modules(remove_duplicate=False))
    if module_name not in modules:
        raise ValueError(f"no layer {module_name!r} in the model")
    klass = type(modules[module_name])
    path = class_file(klass)
    if path is None:
        raise ValueError(f"{klass.__name__} has no Python source to show")
    try:
        _, line = inspect.getsourcelines(klass)
    except (OSError, TypeError):
        line = _class_line(path, klass.__name__)
    return Place(path, max(1, line), klass.__name__)


def _class_line(path: Path, name: str) -> int:
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return 1
    return next((node.lineno for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and node.name == name), 1)
