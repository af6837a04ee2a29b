"""annotator.formats is pure Python: importing it loads no Django module."""

import ast
import subprocess
import sys
from pathlib import Path

import annotator.formats

PACKAGE_DIR = Path(annotator.formats.__file__).parent
REPO_ROOT = PACKAGE_DIR.parents[1]
FORBIDDEN = ("django", "rest_framework")


def test_importing_every_formats_module_loads_no_django_module():
    modules = sorted(p.stem for p in PACKAGE_DIR.glob("*.py") if p.stem != "__init__")
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module('annotator.formats.' + name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": ""},
    )
    assert result.stdout.strip() == "[]"


def test_no_formats_module_names_django_in_an_import():
    offenders = []
    for path in sorted(PACKAGE_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
