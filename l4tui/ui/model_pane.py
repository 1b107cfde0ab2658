"""The Model pane: EmbeddingDotBias's module tree with parameter shapes and counts.

The model is built (and torch imported) in a worker the first time the pane is shown.
"""

import asyncio

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static, Tree

from l4tui.inspect.summary import ModuleNode


def node_label(node: ModuleNode, total: int) -> str:
    name = f"{node.name}: " if node.name else ""
    extra = f"({node.extra})" if node.extra else ""
    share = f"{node.total / total:.0%}" if total else "-"
    params = "".join(f"  {p.name} {list(p.shape)}{'' if p.trainable else ' frozen'}" for p in node.params)
    return f"{name}{node.type_name}{extra}{params}  · {node.total:,} params ({share})"


class ModelPane(Vertical):
    BINDINGS = [
        Binding("r", "reload", "Rebuild", id="model.rebuild", tooltip="Build the model again from models/collab.py"),
    ]

    def __init__(self, workspace, **kwargs) -> None:
        super().__init__(**kwargs)
        self.workspace = workspace
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Static("EmbeddingDotBias, fresh weights, sized for the bundled ratings sample",
                     id="model-title", markup=False)
        yield Tree("building the model (importing torch) ...", id="model-tree")
        yield Static("", id="model-totals", markup=False)

    def ensure_loaded(self) -> None:
        if not self.loaded:
            self.loaded = True
            self.build()

    def action_reload(self) -> None:
        self.build()

    @work(exclusive=True, group="build-model")
    async def build(self) -> None:
        tree = self.query_one(Tree)
        try:
            root = await asyncio.to_thread(self._build_tree)
        except Exception as error:  # a broken model file is the user's to fix: show why, keep going
            tree.clear()
            tree.root.set_label(f"could not build the model: {type(error).__name__}: {error}")
            return
        tree.clear()
        tree.root.set_label(node_label(root, root.total))
        tree.root.data = root

        def add(parent, node):
            for child in node.children:
                branch = parent.add(node_label(child, root.total), data=child, expand=True,
                                    allow_expand=bool(child.children))
                add(branch, child)

        add(tree.root, root)
        tree.root.expand()
        frozen = root.total - root.trainable
        self.query_one("#model-totals", Static).update(
            f"Total params {root.total:,} · trainable {root.trainable:,} · frozen {frozen:,}")

    def _build_tree(self) -> ModuleNode:
        from l4tui.inspect.summary import build_collab_model, module_tree

        return module_tree(build_collab_model(workspace=self.workspace))
