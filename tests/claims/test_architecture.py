"""annotator.claims is pure Python: it must import without Django."""

import ast
import subprocess
import sys
from pathlib import Path

import annotator.claims

PACKAGE_DIR = Path(annotator.claims.__file__).parent
REPO_ROOT = PACKAGE_DIR.parents[1]
FORBIDDEN = ("django", "rest_framework")


def test_importing_the_claims_package_loads_no_django_module():
    probe = (
        "import sys\n"
        "import annotator.claims, annotator.claims.suggest, annotator.claims.checks\n"
        "annotator.claims.load_lexicon('en'); annotator.claims.load_lexicon('ar')\n"
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


def test_no_module_of_the_claims_package_names_django_in_an_import():
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
