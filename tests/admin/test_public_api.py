"""Flask-Admin is extended through its public surface only: no ``_``-prefixed name of
Flask-Admin is used, imported or overridden anywhere in ``talentadmin/``. Such a name is a
promise nobody made; the next minor release may break the screen built on it.

Flask-Admin's private names are read from its own source (the parts we build on: the
core, ``model``, ``form`` and ``contrib.sqla``): every ``_name`` it defines (methods,
module names) or sets and reads (``self._filters``). Ours is flagged when

* it imports a ``flask_admin`` module or name whose path has a ``_`` part;
* it reads or writes ``x._name`` with such a name — unless the attribute is our own: a
  name that a class of ours that does not derive from Flask-Admin assigns on ``self``
  (``self._lock`` in the OCR engine is not Flask-Admin's);
* a class deriving from Flask-Admin defines ``_name`` with such a name (an override).
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import flask_admin

ROOT = Path(__file__).resolve().parents[2] / "talentadmin"
ADMIN_ROOT = Path(flask_admin.__file__).resolve().parent
BUILT_ON = ("__init__.py", "actions.py", "babel.py", "base.py", "blueprints.py", "consts.py",
            "helpers.py", "menu.py", "theme.py", "tools.py", "_types.py", "_compat.py",
            "model", "form", "contrib/sqla", "contrib/__init__.py")


def private(name: str) -> bool:
    return len(name) > 1 and name.startswith("_") and not name.startswith("__")


def flask_admin_private_names() -> set[str]:
    names: set[str] = set()
    for part in BUILT_ON:
        path = ADMIN_ROOT / part
        for source in ([path] if path.is_file() else sorted(path.rglob("*.py"))):
            for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute):
                    name = node.attr
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    name = node.name
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    name = node.id
                else:
                    continue
                if private(name):
                    names.add(name)
    return names


def module_of(path: Path) -> str:
    relative = path.relative_to(ROOT.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def derives_from_flask_admin(cls) -> bool:
    return any(base.__module__.split(".")[0] == "flask_admin" for base in cls.__mro__[1:])


def classes_of(path: Path) -> dict[str, type]:
    """The classes a module of ours defines, by name (imported: the real MROs)."""
    module = importlib.import_module(module_of(path))
    return {name: value for name, value in vars(module).items()
            if inspect.isclass(value) and value.__module__ == module.__name__}


def violations(theirs: set[str]) -> list[str]:
    found: list[str] = []
    trees = {path: ast.parse(path.read_text(encoding="utf-8"))
             for path in sorted(ROOT.rglob("*.py"))}
    own: set[str] = set()  # attributes our own (non-Flask-Admin) classes set on self
    derived: dict[Path, set[str]] = {}
    for path, tree in trees.items():
        # A module without classes is not imported (the worker's entry point builds an app).
        classes = (classes_of(path) if any(isinstance(node, ast.ClassDef) for node in ast.walk(tree))
                   else {})
        derived[path] = {name for name, cls in classes.items() if derives_from_flask_admin(cls)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name not in derived[path]:
                for inner in ast.walk(node):
                    if (isinstance(inner, ast.Attribute) and isinstance(inner.ctx, ast.Store)
                            and isinstance(inner.value, ast.Name) and inner.value.id == "self"):
                        own.add(inner.attr)
    for path, tree in trees.items():
        where = path.relative_to(ROOT.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("flask_admin"):
                if any(private(part) for part in node.module.split(".")) or any(
                        private(alias.name) for alias in node.names):
                    found.append(f"{where}:{node.lineno} imports {node.module} "
                                 f"{[a.name for a in node.names]}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("flask_admin") and any(
                            private(p) for p in alias.name.split(".")):
                        found.append(f"{where}:{node.lineno} imports {alias.name}")
            elif (isinstance(node, ast.Attribute) and node.attr in theirs
                  and node.attr not in own):
                found.append(f"{where}:{node.lineno} uses .{node.attr}")
            elif isinstance(node, ast.ClassDef) and node.name in derived[path]:
                for item in node.body:
                    if (isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                            and item.name in theirs):
                        found.append(f"{where}:{item.lineno} {node.name} overrides "
                                     f"{item.name}")
    return found


def test_flask_admin_private_names_are_found():
    """The scan sees the names the old grids leant on (else it would pass on anything)."""
    theirs = flask_admin_private_names()
    assert {"_apply_filters", "_get_list_url", "_get_filters", "_filter_groups",
            "_list_columns", "_handle_view", "_get_list_extra_args", "_menu"} <= theirs


def test_no_private_flask_admin_name_in_talentadmin():
    assert violations(flask_admin_private_names()) == []


def test_the_scan_catches_each_kind_of_use(tmp_path, monkeypatch):
    """An import, an attribute and an override, each caught (in a throwaway module)."""
    package = tmp_path / "talentadmin"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "bad.py").write_text(
        "from flask_admin._compat import as_unicode\n"
        "from flask_admin.contrib.sqla import ModelView\n\n\n"
        "class Grid(ModelView):\n"
        "    def _get_list_url(self, view_args):\n"
        "        return self._get_filters(view_args.filters)\n\n\n"
        "class Engine:\n"
        "    def __init__(self):\n"
        "        self._menu = []\n\n"
        "    def size(self):\n"
        "        return len(self._menu)\n")
    import sys

    monkeypatch.setattr(sys.modules[__name__], "ROOT", package)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [n for n in sys.modules if n == "talentadmin" or n.startswith("talentadmin.")]:
        monkeypatch.delitem(sys.modules, name)
    found = violations(flask_admin_private_names())
    assert [line.split(" ", 1)[1] for line in found] == [
        "imports flask_admin._compat ['as_unicode']", "Grid overrides _get_list_url",
        "uses ._get_filters"], found
