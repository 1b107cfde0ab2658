"""A model's layer table: each module's type, output shape (from a real forward pass on an example
batch), parameter count and whether it trains. The Model pane and `l4tui summary` show it.
"""

from dataclasses import dataclass


@dataclass
class LayerRow:
    depth: int  # 0 for the model itself
    name: str  # attribute name in its parent ("" for the model)
    type_name: str
    extra: str  # the module's extra_repr, e.g. "600, 50"
    output_shape: str  # "-" when the module was not called in the forward pass
    params: int  # its parameters and its children's
    trainable: int
    own_params: list[tuple[str, tuple[int, ...], bool]]  # (name, shape, trainable) of its own


@dataclass
class ModelSummary:
    rows: list[LayerRow]
    total_params: int  # each tensor once, even when tied (the LM's decoder and embedding)
    trainable_params: int


def shape_text(output) -> str:
    """The shape of a module's output: its first tensor, found depth first (parameters.first_tensor)."""
    from l4tui.inspect.parameters import first_tensor

    tensor = first_tensor(output)
    return str(list(tensor.shape)) if tensor is not None else "-"


def summarize(model, example: tuple) -> ModelSummary:
    """Run `example` through `model` (eval mode, no gradients) and describe every module."""
    import torch

    shapes: dict[int, str] = {}
    handles = []
    try:
        for module in model.modules():
            handles.append(module.register_forward_hook(
                lambda mod, args, output: shapes.__setitem__(id(mod), shape_text(output))))
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                model(*example)
        finally:
            model.train(was_training)
            if hasattr(model, "reset"):
                model.reset()
    finally:
        for handle in handles:  # always: a hook left behind would run on every later forward
            handle.remove()

    rows: list[LayerRow] = []

    def walk(module, name, depth):
        params = list(module.parameters())
        rows.append(LayerRow(
            depth=depth, name=name, type_name=type(module).__name__, extra=module.extra_repr(),
            output_shape=shapes.get(id(module), "-"),
            params=sum(p.numel() for p in params),
            trainable=sum(p.numel() for p in params if p.requires_grad),
            own_params=[(n, tuple(p.shape), p.requires_grad) for n, p in module.named_parameters(recurse=False)],
        ))
        for child_name, child in module.named_children():
            walk(child, child_name, depth + 1)

    walk(model, "", 0)
    unique = list(model.parameters())  # parameters() yields a tied tensor once
    return ModelSummary(rows, sum(p.numel() for p in unique),
                        sum(p.numel() for p in unique if p.requires_grad))


def trainable_text(row: LayerRow) -> str:
    if row.params == 0:
        return ""
    if row.trainable == row.params:
        return "yes"
    return "no" if row.trainable == 0 else "partly"


# extra_repr parts that only repeat torch's defaults: left out so the table stays narrow.
DEFAULT_PARTS = {"eps=1e-05", "momentum=0.1", "affine=True", "track_running_stats=True", "inplace=False",
                 "batch_first=True", "bias=True"}


def compact_extra(extra: str) -> str:
    """`in_features=42, out_features=200, bias=False` -> `42, 200, bias=False`."""
    parts = [part.strip() for part in extra.split(",")]
    parts = [part.split("=", 1)[1] if part.startswith(("in_features=", "out_features=")) else part
             for part in parts if part not in DEFAULT_PARTS]
    return ", ".join(parts)


def layer_label(row: LayerRow) -> str:
    label = f"{row.name}: {row.type_name}" if row.name else row.type_name
    extra = compact_extra(row.extra)
    return f"{label}({extra})" if extra and len(extra) <= 48 else label


def qualified_names(rows: list[LayerRow]) -> list[str]:
    """Each row's qualified module name ("" for the model): the attribute names down its path."""
    path: list[str] = []
    names = []
    for row in rows:
        path = path[:max(row.depth - 1, 0)] + ([row.name] if row.depth else [])
        names.append(".".join(path))
    return names


def parents_of(rows) -> list[int | None]:
    """The index of each row's parent row (None for the model)."""
    stack: list[int] = []
    parents = []
    for index, row in enumerate(rows):
        stack = stack[:row.depth]
        parents.append(stack[-1] if stack else None)
        stack.append(index)
    return parents


def example_shapes_text(example: tuple) -> str:
    """The shapes of an example batch's tensors: `[64, 70], [64, 3]`."""
    return ", ".join(shape_text(x) for x in example if hasattr(x, "shape"))


def compact_count(n: int) -> str:
    """A parameter count in at most 5 characters, for a narrow table: 944, 1.7k, 134k, 24.3M."""
    if n < 1000:
        return str(n)
    for unit, scale in (("k", 1e3), ("M", 1e6), ("B", 1e9)):
        value = n / scale
        if value < 9.95:
            return f"{value:.1f}{unit}"
        if value < 999.5:
            return f"{value:.0f}{unit}"
    return f"{n / 1e12:.0f}T"


def fit_columns(widths: list[int], available: int, padding: int = 2) -> int | None:
    """How wide the first (text) column can be so that every column fits in `available`
    cells, each column taking `padding` more; the first column's own width when it all fits,
    None when the other columns alone leave it less than MIN_TEXT_WIDTH."""
    rest = sum(widths[1:]) + padding * len(widths)
    room = available - rest
    if room >= widths[0]:
        return widths[0]
    return room if room >= MIN_TEXT_WIDTH else None


MIN_TEXT_WIDTH = 16  # a layer's name and type cut shorter than this no longer say which layer


def share_text(row: LayerRow, summary: ModelSummary) -> str:
    return f"{row.params / (summary.total_params or 1):.1%}" if row.params else ""


def summary_lines(summary: ModelSummary, width: int = 52, groups: dict[str, int] | None = None) -> list[str]:
    """The table as text, as `l4tui summary` prints it, ending with `total parameters: N`.
    `groups`: qualified module name -> layer group (parameters.layer_groups_of), for the Group column."""
    groups = groups or {}
    names = qualified_names(summary.rows)
    rule = "-" * (width + 60)
    lines = [f"{'Layer (type)':<{width}} {'Output shape':<18} {'Param #':>12}  {'Trainable':<9}  {'Share':>6}  Group",
             rule]
    for name, row in zip(names, summary.rows):
        label = "  " * row.depth + layer_label(row)
        if len(label) > width:
            label = label[:width - 1] + "…"
        group = groups.get(name)
        lines.append(f"{label:<{width}} {row.output_shape:<18} {row.params:>12,}  {trainable_text(row):<9}  "
                     f"{share_text(row, summary):>6}  {'' if group is None else group}".rstrip())
    lines.append(rule)
    if groups:
        lines.append(f"layer groups: {max(groups.values()) + 1} (freeze_to and discriminative learning rates use them)")
    lines.append(f"trainable parameters: {summary.trainable_params:,}")
    lines.append(f"total parameters: {summary.total_params:,}")
    return lines
