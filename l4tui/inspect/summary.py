"""A model's module tree with each module's own parameters: the Model pane's tree and `l4tui summary`."""

from dataclasses import dataclass, field


@dataclass
class ParamInfo:
    name: str
    shape: tuple[int, ...]
    count: int
    trainable: bool


@dataclass
class ModuleNode:
    name: str  # attribute name in its parent ("" for the root)
    type_name: str
    extra: str  # the module's extra_repr, e.g. "600, 50"
    params: list[ParamInfo] = field(default_factory=list)  # its own, not its children's
    children: list["ModuleNode"] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(p.count for p in self.params) + sum(c.total for c in self.children)

    @property
    def trainable(self) -> int:
        return sum(p.count for p in self.params if p.trainable) + sum(c.trainable for c in self.children)


def module_tree(module, name: str = "") -> ModuleNode:
    """Walk a torch.nn.Module. Tied parameters (one tensor in two places) count once per place."""
    node = ModuleNode(name=name, type_name=type(module).__name__, extra=module.extra_repr())
    for param_name, param in module.named_parameters(recurse=False):
        node.params.append(ParamInfo(param_name, tuple(param.shape), param.numel(), param.requires_grad))
    for child_name, child in module.named_children():
        node.children.append(module_tree(child, child_name))
    return node


def summary_lines(root: ModuleNode) -> list[str]:
    """The tree as text, one module per line, with parameter shapes and counts, then the totals."""
    lines = []

    def walk(node: ModuleNode, depth: int) -> None:
        label = f"{node.name}: " if node.name else ""
        extra = f"({node.extra})" if node.extra else ""
        shapes = ", ".join(f"{p.name} {list(p.shape)}" for p in node.params)
        line = f"{'  ' * depth}{label}{node.type_name}{extra}"
        if shapes:
            line += f"  {shapes}"
        lines.append(f"{line:<70} {node.total:>12,}")
        for child in node.children:
            walk(child, depth + 1)

    walk(root, 0)
    lines.append(f"{'Total params':<70} {root.total:>12,}")
    lines.append(f"{'Trainable params':<70} {root.trainable:>12,}")
    return lines


def build_collab_model(data=None, n_factors: int = 50, workspace=None):
    """EmbeddingDotBias sized for a ratings dataset (the bundled sample by default)."""
    from l4tui.data.ratings import load_ratings
    from l4tui.modelfiles import load_model_file
    from l4tui.paths import default_ratings_dir

    ratings = load_ratings(data or default_ratings_dir())
    collab = load_model_file("collab", workspace)
    return collab.EmbeddingDotBias(n_factors, ratings.n_users, ratings.n_items, y_range=(0.0, 5.5))
