"""The layers keep their shape: no import cycles, the core never imports the CLI or the UI, only
the UI imports textual, and docs/architecture.md's table of who imports whom is current.
Imports inside functions count: a lazy import is still a dependency."""

from import_graph import ROOT, all_modules, cycles, import_graph, imported_names, package_imports

ARCHITECTURE_DOC = ROOT / "docs" / "architecture.md"


def is_core(module: str) -> bool:
    return not (module in ("l4tui.cli", "l4tui.__main__") or module.startswith("l4tui.ui"))


def test_no_module_of_l4tui_is_part_of_an_import_cycle():
    assert cycles(import_graph()) == []


def test_the_core_never_imports_the_cli_or_the_ui():
    wrong = [f"{module} imports {target} (line {line})"
             for module, edges in import_graph().items() if is_core(module)
             for target, line in edges.items() if not is_core(target)]
    assert wrong == []


def test_only_the_ui_imports_textual():
    wrong = [f"{module}:{line}" for module, path in all_modules().items() if not module.startswith("l4tui.ui")
             for name, line in imported_names(path) if name == "textual" or name.startswith("textual.")]
    assert wrong == []


def test_the_graph_sees_imports_inside_functions():
    # The test above would pass for nothing if lazy imports were missed: the CLI opens the app
    # from inside main().
    assert "l4tui.ui.app" in import_graph()["l4tui.cli"]


def test_the_architecture_page_shows_who_imports_whom_as_it_is():
    rows = [f"| `{name}` | {', '.join(f'`{t}`' for t in targets) or '(nothing of l4tui)'} |"
            for name, targets in package_imports(import_graph()).items()]
    page = ARCHITECTURE_DOC.read_text(encoding="utf-8")
    missing = [row for row in rows if row not in page]
    assert not missing, "docs/architecture.md is out of date; rows now (python tests/import_graph.py --packages):\n" + "\n".join(rows)
