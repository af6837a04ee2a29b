"""Pure Python claims logic: the number normaliser, its lexicon, span suggestions and checks.

Nothing here imports Django; `annotator/reports.py` (or another adapter) turns rows into the
plain data these functions take.
"""

from annotator.claims.lexicon import Lexicon, LexiconError, VagueWord, load_lexicon
from annotator.claims.quantity import QuantifierType, Quantity, parse_quantity

__all__ = [
    "Lexicon",
    "LexiconError",
    "QuantifierType",
    "Quantity",
    "VagueWord",
    "load_lexicon",
    "parse_quantity",
]
