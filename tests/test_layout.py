"""The layout's import boundaries: only app/ imports Streamlit, only train/ imports Keras.

Each sub-package's modules are imported in a fresh interpreter (what an earlier test imported
must not hide a new import), and ``sys.modules`` is read afterwards.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import colorclf

ROOT = Path(__file__).resolve().parent.parent
STREAMLIT = ("streamlit",)
KERAS = ("keras", "tensorflow")
# sub-package → the frameworks none of its modules may import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "core": STREAMLIT + KERAS,
    "data": STREAMLIT + KERAS,
    "views": STREAMLIT + KERAS,
    "serve": STREAMLIT + KERAS,
    "store": STREAMLIT + KERAS,
    "train": STREAMLIT,
}


def modules_of(package: str) -> list[str]:
    """The package and every module in it (recursively), as import names."""
    path = [str(Path(colorclf.__file__).parent / package)]
    names = [f"colorclf.{package}"]
    for info in pkgutil.walk_packages(path, prefix=f"colorclf.{package}."):
        names.append(info.name)
    return names


def imported_after(modules: list[str]) -> set[str]:
    """Top-level names in ``sys.modules`` after importing ``modules`` in a fresh interpreter."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_every_sub_package_is_listed() -> None:
    packages = {info.name for info in pkgutil.iter_modules(colorclf.__path__) if info.ispkg}
    assert packages == {*FORBIDDEN, "app"}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_sub_package_does_not_import_forbidden_frameworks(package: str) -> None:
    modules = modules_of(package)
    assert len(modules) > 1, modules
    loaded = imported_after(modules)
    assert not loaded & set(FORBIDDEN[package]), (
        f"colorclf.{package} imports {sorted(loaded & set(FORBIDDEN[package]))}"
    )


def test_the_pages_do_not_import_keras() -> None:
    # Uploads too: tests/test_modelcheck.py uploads model files in a fresh interpreter.
    loaded = imported_after(modules_of("app"))
    assert "streamlit" in loaded
    assert not loaded & set(KERAS)


def test_the_command_line_does_not_import_streamlit() -> None:
    loaded = imported_after(["colorclf.cli", "colorclf.train.loop", "colorclf.train.console"])
    assert "keras" in loaded
    assert "streamlit" not in loaded


def readme_tree() -> set[str]:
    """The module paths in the folder tree of docs/ARCHITECTURE.md ("How it is built")."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    section = text[text.index("## How it is built") :]
    block = section.split("```")[3]  # the second code block of the section: the tree
    paths: set[str] = set()
    folders: list[tuple[int, str]] = []
    for line in block.splitlines():
        if not line.strip() or line.startswith("streamlit_app.py"):
            continue
        indent = len(line) - len(line.lstrip())
        name = line.split()[0]
        folders = [(i, f) for i, f in folders if i < indent]
        if name.endswith("/"):
            folders.append((indent, name))
        else:
            paths.add("".join(f for _, f in folders) + name)
    return paths


def test_the_readme_tree_matches_the_code() -> None:
    package = Path(colorclf.__file__).parent
    actual = {str(p.relative_to(ROOT)) for p in package.rglob("*.py")}
    assert readme_tree() == actual
