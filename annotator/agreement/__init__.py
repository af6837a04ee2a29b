"""Inter-coder agreement: pure algorithms over plain data (no Django imports).

The Django side turns QuerySets into the plain inputs of :mod:`annotator.agreement.report`.
"""

from annotator.agreement.coefficients import (
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    scott_pi,
)
from annotator.agreement.spans import PRF, span_f1, span_prf
from annotator.agreement.unitizing import unitized_alpha

__all__ = [
    "PRF",
    "cohen_kappa",
    "fleiss_kappa",
    "gwet_ac1",
    "krippendorff_alpha",
    "scott_pi",
    "span_f1",
    "span_prf",
    "unitized_alpha",
]
