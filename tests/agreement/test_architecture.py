"""The agreement package stays pure: importing it must not import Django."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_agreement_package_imports_no_django_module():
    check = (
        "import annotator.agreement, annotator.agreement.report, sys; "
        "assert not any(m.startswith('django') for m in sys.modules), "
        "sorted(m for m in sys.modules if m.startswith('django'))"
    )
    subprocess.run([sys.executable, "-c", check], cwd=ROOT, check=True)


def test_agreement_package_does_not_import_the_gpl_reference_implementation():
    check = "import annotator.agreement.report, sys; assert 'krippendorff' not in sys.modules"
    subprocess.run([sys.executable, "-c", check], cwd=ROOT, check=True)
