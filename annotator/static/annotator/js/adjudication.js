/*
 * The adjudication screen's keys. Everything here is also a button, link or form on the page;
 * this file only adds:
 *
 * - a "current" unit, moved with j/k (n: the next open one), whose stretch of the article is
 *   highlighted with the CSS Custom Highlight API (no markup and no style attribute, so the
 *   page's strict CSP holds);
 * - 1..9 / x / e press the current unit's own buttons (accept coder N's version, reject,
 *   edit), so keys and clicks take exactly the same path through htmx;
 * - a: the selected article text -> the add form's start/end/text (code-point offsets, the
 *   approach of coding.js: every article segment carries its offset in data-o);
 * - after a decision, the next open unit becomes current.
 */
(function () {
  "use strict";

  const article = document.getElementById("article");
  const unitsBox = document.getElementById("units");
  if (!article || !unitsBox) return;

  let currentId = null; // the current unit's element id ("unit-<key>")

  // ---------- offsets (as in coding.js) ----------

  function codePointLength(s) {
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) i++; // a surrogate pair is one code point
      n++;
    }
    return n;
  }

  function liveArticle() {
    // htmx replaces #article after each decision: always look it up again.
    return document.getElementById("article");
  }

  function segments() {
    return liveArticle().querySelectorAll("[data-o]:not(.chunk)");
  }

  function segmentStart(segment) {
    return Number(segment.dataset.o);
  }

  function segmentEnd(segment) {
    return segmentStart(segment) + codePointLength(segment.textContent);
  }

  /** Code-point offset of a DOM point inside the article. */
  function offsetOf(container, offset) {
    if (container.nodeType === Node.TEXT_NODE) {
      const segment = container.parentElement.closest("[data-o]");
      return segmentStart(segment) + codePointLength(container.data.slice(0, offset));
    }
    if (offset < container.childNodes.length) {
      const child = container.childNodes[offset];
      const first = child.nodeType === Node.ELEMENT_NODE ? (child.matches("[data-o]") ? child : child.querySelector("[data-o]")) : null;
      if (first) return segmentStart(first);
    }
    const all = container.nodeType === Node.ELEMENT_NODE ? container.querySelectorAll("[data-o]:not(.chunk)") : [];
    if (all.length) return segmentEnd(all[all.length - 1]);
    const own = container.parentElement && container.parentElement.closest("[data-o]");
    return own ? segmentEnd(own) : 0;
  }

  /** [start, end) of the selection inside the article, spaces at its edges dropped. */
  function selectionOffsets() {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    const box = liveArticle();
    if (!box.contains(range.commonAncestorContainer)) return null;
    let start = offsetOf(range.startContainer, range.startOffset);
    let end = offsetOf(range.endContainer, range.endOffset);
    if (end < start) [start, end] = [end, start];
    const chars = Array.from(box.textContent);
    while (start < end && /\s/u.test(chars[start])) start++;
    while (end > start && /\s/u.test(chars[end - 1])) end--;
    return end > start ? { start, end, text: chars.slice(start, end).join("") } : null;
  }

  /** A DOM range over [start, end) of the article, for the highlight. */
  function domRange(start, end) {
    const list = Array.from(segments());
    const point = (offset) => {
      // The last segment starting at or before the offset; count UTF-16 units inside it.
      let segment = list[0];
      for (const candidate of list) {
        if (segmentStart(candidate) <= offset) segment = candidate;
        else break;
      }
      const node = segment.firstChild || segment;
      const within = Array.from(segment.textContent).slice(0, offset - segmentStart(segment)).join("").length;
      return [node, Math.min(within, node.length || 0)];
    };
    if (!list.length) return null;
    const range = document.createRange();
    range.setStart(...point(start));
    range.setEnd(...point(end));
    return range;
  }

  // ---------- the current unit ----------

  function units() {
    return Array.from(unitsBox.querySelectorAll(".unit"));
  }

  function current() {
    return currentId ? document.getElementById(currentId) : null;
  }

  function highlight(unit) {
    if (!window.CSS || !CSS.highlights || !window.Highlight) return;
    CSS.highlights.delete("adjudication-unit");
    if (!unit) return;
    const range = domRange(Number(unit.dataset.start), Number(unit.dataset.end));
    if (range) CSS.highlights.set("adjudication-unit", new Highlight(range));
  }

  /** Bring an element of the gold pane (the editor, the add form) into its view. */
  function revealInPane(element) {
    const pane = element.closest(".gold-pane");
    if (!pane) return element.scrollIntoView({ block: "nearest" });
    const offset = element.getBoundingClientRect().top - pane.getBoundingClientRect().top;
    pane.scrollBy({ top: offset - 16, behavior: "smooth" });
  }

  /** Scroll the article's own pane (not the window: two smooth scrolls of one window cancel
   *  each other) so that the unit's first segment is in its middle. */
  function scrollArticleTo(unit) {
    const start = Number(unit.dataset.start);
    const segment = Array.from(segments()).filter((s) => segmentStart(s) <= start).pop();
    const pane = liveArticle().closest(".gold-pane");
    if (!segment || !pane) return;
    const offset = segment.getBoundingClientRect().top - pane.getBoundingClientRect().top;
    pane.scrollBy({ top: offset - pane.clientHeight / 3, behavior: "smooth" });
  }

  function makeCurrent(unit, { scroll = true } = {}) {
    const before = current();
    if (before) before.classList.remove("current");
    currentId = unit ? unit.id : null;
    if (!unit) return highlight(null);
    unit.classList.add("current");
    if (scroll) {
      unit.scrollIntoView({ block: "nearest", behavior: "smooth" });
      scrollArticleTo(unit);
    }
    unit.focus({ preventScroll: true });
    highlight(unit);
  }

  function move(step, { openOnly = false } = {}) {
    const all = units();
    if (!all.length) return;
    let index = all.findIndex((u) => u.id === currentId);
    for (let tries = 0; tries < all.length; tries++) {
      index = index === -1 ? (step > 0 ? 0 : all.length - 1) : index + step;
      if (index < 0 || index >= all.length) return;
      if (!openOnly || all[index].classList.contains("open")) return makeCurrent(all[index]);
    }
  }

  function press(selector) {
    const unit = current();
    const button = unit && unit.querySelector(selector);
    if (button && !button.disabled) button.click();
  }

  // ---------- adding from a selection ----------

  function fillAddForm() {
    const picked = selectionOffsets();
    const form = document.getElementById("add-form");
    if (!form) return;
    if (picked) {
      form.querySelector("#add-start").value = picked.start;
      form.querySelector("#add-end").value = picked.end;
      form.querySelector("#add-text").value = picked.text;
      const shown = form.querySelector("#add-quote");
      shown.textContent = "";
      const q = document.createElement("q");
      q.textContent = picked.text;
      shown.append(q, ` [${picked.start}, ${picked.end})`);
    }
    revealInPane(form);
    form.querySelector("#add-label").focus({ preventScroll: true });
  }

  // Offsets typed by hand (no selection) leave no quote: the server takes the text there.
  document.addEventListener("input", (event) => {
    if (event.target.matches("#add-start, #add-end")) {
      const text = document.getElementById("add-text");
      if (text) text.value = "";
    }
  });

  // ---------- events ----------

  function typing(event) {
    const target = event.target;
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      if (typing(event)) event.target.blur();
      const editor = document.getElementById("editor");
      if (editor && editor.querySelector("form")) editor.textContent = "";
      const unit = current();
      if (unit) unit.focus({ preventScroll: true });
      return;
    }
    if (typing(event)) return;
    const key = event.key;
    let handled = true;
    if (key === "j") move(1);
    else if (key === "k") move(-1);
    else if (key === "n") move(1, { openOnly: true });
    else if (/^[1-9]$/.test(key)) press(`button[data-keys~="${key}"]`);
    else if (key === "x") press('button[data-key="x"]');
    else if (key === "e") press('a[data-key="e"]');
    else if (key === "a") fillAddForm();
    else if (key === "/") {
      const note = current() && current().querySelector("input.note");
      if (note) note.focus();
    } else handled = false;
    if (handled) event.preventDefault();
  });

  // A click anywhere in a unit makes it current (buttons still do their own thing).
  unitsBox.addEventListener("click", (event) => {
    const unit = event.target.closest(".unit");
    if (unit && unit.id !== currentId) makeCurrent(unit, { scroll: false });
  });

  // A click on a gold span in the article shows it in the gold list.
  document.addEventListener("click", (event) => {
    const mark = event.target.closest("#article mark.ann[data-ids]");
    if (!mark) return;
    const item = document.getElementById(`gold-${mark.dataset.ids.split(" ")[0]}`);
    if (!item) return;
    item.scrollIntoView({ block: "nearest", behavior: "smooth" });
    item.classList.add("flash");
    setTimeout(() => item.classList.remove("flash"), 1200);
  });

  // The editor arrives (e, or an Edit button): show it and put the cursor in it.
  document.body.addEventListener("htmx:afterSwap", (event) => {
    const editor = event.detail.target;
    if (!editor || editor.id !== "editor") return;
    const field = editor.querySelector("select, input:not([type=hidden])");
    if (!field) return;
    revealInPane(editor);
    field.focus({ preventScroll: true });
  });

  // The editor's Cancel closes it without a page load.
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-close-editor]")) {
      event.preventDefault();
      document.getElementById("editor").textContent = "";
    }
  });

  // After a decision on the current unit: its card comes back out of band, and htmx "settles"
  // it (the new classes land only then), so keep it current there and, once it is settled
  // (no longer open), move on to the next open unit. The deciding form is replaced by its own
  // answer, so which unit decides is noted before the request.
  let decidingId = null;
  let advanceFrom = null;
  document.body.addEventListener("htmx:beforeRequest", (event) => {
    const form = event.detail.elt.closest && event.detail.elt.closest(".unit form.decide");
    decidingId = form ? form.closest(".unit").id : null;
  });
  document.body.addEventListener("htmx:afterRequest", (event) => {
    if (decidingId && decidingId === currentId && event.detail.successful) advanceFrom = decidingId;
    decidingId = null;
  });
  document.body.addEventListener("htmx:afterSettle", (event) => {
    const unit = current();
    if (!unit) return;
    unit.classList.add("current");
    highlight(unit);
    if (advanceFrom && event.detail.elt && event.detail.elt.id === advanceFrom) {
      advanceFrom = null;
      if (!unit.classList.contains("open")) move(1, { openOnly: true });
    }
  });

  // Start on the unit named in the address (#unit-..), else the first open one.
  const named = location.hash.startsWith("#unit-") && document.getElementById(location.hash.slice(1));
  if (named) makeCurrent(named);
  else {
    const firstOpen = unitsBox.querySelector(".unit.open") || unitsBox.querySelector(".unit");
    if (firstOpen) makeCurrent(firstOpen, { scroll: false });
  }
})();
