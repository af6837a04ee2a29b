"""What a coder does on the coding screen, as small functions over a Playwright page.

Selections are made the two ways a browser can: a real mouse drag over the characters' boxes
(`drag_select`), or a DOM Range placed on the text nodes (`select_phrase`), which is what a
drag leaves behind, without the pixel arithmetic.
"""

from __future__ import annotations

from playwright.sync_api import Page

from annotator.services import span_create
from tests.factories import quote_span

# Finds the n-th occurrence of `phrase` in #article's text (UTF-16 indices, as the DOM counts)
# and returns the text node and offset of its first and last character.
_LOCATE = """
([phrase, occurrence]) => {
  const article = document.getElementById("article");
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  const nodes = [];
  let text = "";
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    nodes.push([node, text.length]);
    text += node.data;
  }
  let index = -1;
  for (let i = 0; i < occurrence; i++) {
    index = text.indexOf(phrase, index + 1);
    if (index < 0) throw new Error("phrase not in article: " + phrase);
  }
  function point(offset, preferEnd) {
    for (const [node, at] of nodes) {
      const inside = preferEnd ? offset > at && offset <= at + node.length
                               : offset >= at && offset < at + node.length;
      if (inside) return [node, offset - at];
    }
    throw new Error("offset outside the article: " + offset);
  }
  return [point(index, false), point(index + phrase.length, true)];
}
"""

SELECT_PHRASE = (
    "(args) => { const [[sn, so], [en, eo]] = ("
    + _LOCATE.strip()
    + ")(args); const range = document.createRange(); range.setStart(sn, so);"
    " range.setEnd(en, eo); const s = window.getSelection(); s.removeAllRanges();"
    " s.addRange(range); return s.toString(); }"
)

# The boxes of the phrase's first and last character (the first box of each, in viewport px).
CHAR_BOXES = (
    "(args) => { const [[sn, so], [en, eo]] = ("
    + _LOCATE.strip()
    + ")(args); function box(node, offset, length) { const r = document.createRange();"
    " r.setStart(node, offset); r.setEnd(node, offset + length); const b = r.getClientRects()[0];"
    " return {left: b.left, right: b.right, top: b.top, bottom: b.bottom}; }"
    " const lastLength = (eo >= 2 && en.data.charCodeAt(eo - 1) >= 0xdc00"
    " && en.data.charCodeAt(eo - 1) <= 0xdfff) ? 2 : 1;"
    " return [box(sn, so, 1), box(en, eo - lastLength, lastLength)]; }"
)


def select_phrase(page: Page, phrase: str, occurrence: int = 1) -> None:
    """Select the n-th occurrence of phrase in the article with a DOM Range."""
    selected = page.evaluate(SELECT_PHRASE, [phrase, occurrence])
    assert selected == phrase, selected


def drag_select(page: Page, phrase: str, occurrence: int = 1) -> None:
    """Select the phrase with a real mouse drag: press just inside the left edge of its first
    character, release just inside the right edge of its last (left-to-right text)."""
    page.locator("#article").scroll_into_view_if_needed()
    first, last = page.evaluate(CHAR_BOXES, [phrase, occurrence])
    y_first = (first["top"] + first["bottom"]) / 2
    y_last = (last["top"] + last["bottom"]) / 2
    page.mouse.move(first["left"] + 1, y_first)
    page.mouse.down()
    page.mouse.move((first["left"] + last["right"]) / 2, (y_first + y_last) / 2, steps=5)
    page.mouse.move(last["right"] - 1, y_last, steps=5)
    page.mouse.up()


def open_coding(page: Page, document, span=None) -> None:
    page.goto(f"/documents/{document.pk}/" + (f"?span={span.pk}" if span else ""))
    page.locator("#article").wait_for()


def mark_of(page: Page, span):
    """The first highlighted segment of a span (where it starts)."""
    return page.locator(f'#article mark[data-starts~="{span.pk}"]')


def wait_saved(page: Page, version: int | None = None) -> None:
    """Wait for the panel's "Saved ✓", which the server's answer brings (of that version)."""
    selector = "#save-state .saved" + (f'[data-saved="{version}"]' if version else "")
    page.locator(selector, has_text="Saved").wait_for()


def wait_until(page: Page, condition, timeout_ms: int = 20_000) -> None:
    """Poll a Python-side condition (route handlers run while Playwright waits)."""
    for _ in range(timeout_ms // 50):
        if condition():
            return
        page.wait_for_timeout(50)
    assert condition(), "condition not met in time"


def make_span(document, coder, label: str, phrase: str):
    """A span saved earlier, through the same service the screen uses (setup, not the act)."""
    span, _ = span_create(
        document=document, coder=coder, label=label, **quote_span(document, phrase)
    )
    return span
