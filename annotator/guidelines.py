"""The manager's guidelines: Markdown in, HTML that is safe to put in a page out.

Pure Python (no Django): Python-Markdown renders, then nh3 keeps only the tags, attributes and
link schemes below. Raw HTML a manager types (or pastes) passes through Markdown untouched, so
the sanitiser is what makes it safe: no script, no event handlers, no inline style (our CSP
forbids it anyway), no `javascript:` or `data:` links, no images (they would load from
elsewhere, and the app must work offline).
"""

from __future__ import annotations

import hashlib

import markdown
import nh3

EXTENSIONS = ["tables", "fenced_code", "sane_lists", "def_list"]
# Tables align their cells with an attribute rather than an inline style (CSP).
EXTENSION_CONFIGS = {"tables": {"use_align_attribute": True}}

TAGS = {
    *("h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote", "pre", "code"),
    *("ul", "ol", "li", "dl", "dt", "dd", "strong", "em", "b", "i", "del", "sup", "sub"),
    *("a", "abbr", "kbd", "q", "mark", "small"),
    *("table", "thead", "tbody", "tr", "th", "td", "caption"),
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> str:
    """Sanitised HTML for the Markdown `text` (empty for empty text)."""
    if not text.strip():
        return ""
    html = markdown.markdown(
        text, extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS, output_format="html"
    )
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def digest(text: str) -> str:
    """A short fingerprint of the guidelines a manager started editing from, so a save over
    someone else's newer text is refused instead of silently overwriting it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
