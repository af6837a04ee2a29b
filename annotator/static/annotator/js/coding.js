/*
 * The coding screen: the one place where the browser must do the work.
 *
 * - Turn a text selection into offsets. The server counts Python string indices (Unicode
 *   code points); the DOM counts UTF-16 code units, which differ after any emoji. Every
 *   segment of the article carries its code-point offset in data-o, so only the text inside
 *   one segment needs counting.
 * - Keys: label hotkeys create spans, Delete deletes, Ctrl+Z undoes, n/p move between spans,
 *   digits start a link, arrows move a keyboard selection, ? opens the guidelines panel.
 * - Never lose work: a create is shown as "pending" until the server confirms it, failed
 *   saves are retried with the same client_id (the server never makes a duplicate), and
 *   leaving the page with unsaved changes asks first.
 *
 * All requests go through htmx; the server answers with fragments (panel, chunks, list).
 */
(function () {
  "use strict";

  const configElement = document.getElementById("coding-config");
  const article = document.getElementById("article");
  if (!configElement || !article || !window.htmx) return;

  const config = JSON.parse(configElement.textContent);
  const panel = document.getElementById("panel");
  const statusLine = document.getElementById("status");
  const pendingList = document.getElementById("pending");

  // The article text as code points. The DOM text never changes (only its markup does).
  const chars = Array.from(article.textContent);
  const labelsByKey = new Map(config.labels.filter((l) => l.hotkey).map((l) => [l.hotkey.toLowerCase(), l]));
  const labelsByName = new Map(config.labels.map((l) => [l.name, l]));

  let selectedSpanId = null;
  let linkMode = null; // {type, source, to}
  let exactSelection = false; // Alt held while selecting: no snapping to words
  let keyboardCaret = null; // code-point caret for keyboard selection
  let keyboardAnchor = null;

  const RETRY_DELAYS_MS = [1000, 2000, 5000, 10000, 30000];

  // ---------- offsets ----------

  function codePointLength(s) {
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) i++; // surrogate pair = one code point
      n++;
    }
    return n;
  }

  function segments() {
    return article.querySelectorAll("[data-o]:not(.chunk)");
  }

  function segmentStart(segment) {
    return Number(segment.dataset.o);
  }

  function segmentEnd(segment) {
    return segmentStart(segment) + codePointLength(segment.textContent);
  }

  /** Code-point offset of a DOM point (container, offset) inside the article. */
  function offsetOf(container, offset) {
    if (container.nodeType === Node.TEXT_NODE) {
      const segment = container.parentElement.closest("[data-o]");
      return segmentStart(segment) + codePointLength(container.data.slice(0, offset));
    }
    // An element point: before its child number `offset`.
    if (offset < container.childNodes.length) {
      const child = container.childNodes[offset];
      const first = child.nodeType === Node.ELEMENT_NODE && child.matches("[data-o]") ? child : child.nodeType === Node.ELEMENT_NODE ? child.querySelector("[data-o]") : null;
      if (first) return segmentStart(first);
    }
    const all = container.nodeType === Node.ELEMENT_NODE ? container.querySelectorAll("[data-o]:not(.chunk)") : [];
    if (all.length) return segmentEnd(all[all.length - 1]);
    const own = container.parentElement && container.parentElement.closest("[data-o]");
    return own ? segmentEnd(own) : 0;
  }

  /** [start, end) in code points of the current selection inside the article, or null. */
  function selectionOffsets() {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    if (!article.contains(range.commonAncestorContainer) && range.commonAncestorContainer !== article) return null;
    let start = offsetOf(range.startContainer, range.startOffset);
    let end = offsetOf(range.endContainer, range.endOffset);
    if (end < start) [start, end] = [end, start];
    return exactSelection ? trimSpaces(start, end) : snapToWords(start, end);
  }

  const WORD_CHAR = /[\p{L}\p{N}\p{M}_]/u;
  const INNER_PUNCT = /[-'’.,]/u; // inside a word: "war-torn", "Russia’s", "2,359"
  const EDGE_TRIM = /[\s.,;:!?"“”«»()[\]{}]/u;

  function isWordAt(i) {
    if (i < 0 || i >= chars.length) return false;
    if (WORD_CHAR.test(chars[i])) return true;
    // Punctuation counts as word-inner only between two word characters.
    return INNER_PUNCT.test(chars[i]) && i > 0 && i + 1 < chars.length && WORD_CHAR.test(chars[i - 1]) && WORD_CHAR.test(chars[i + 1]);
  }

  function trimSpaces(start, end) {
    while (start < end && /\s/u.test(chars[start])) start++;
    while (end > start && /\s/u.test(chars[end - 1])) end--;
    return end > start ? { start, end } : null;
  }

  /** Grow a selection to whole words and drop spaces and punctuation at its edges. */
  function snapToWords(start, end) {
    while (start < end && EDGE_TRIM.test(chars[start])) start++;
    while (end > start && EDGE_TRIM.test(chars[end - 1])) end--;
    if (end <= start) return null;
    while (start > 0 && isWordAt(start - 1) && isWordAt(start)) start--;
    while (end < chars.length && isWordAt(end) && isWordAt(end - 1)) end++;
    return { start, end };
  }

  function quote(start, end) {
    return chars.slice(start, end).join("");
  }

  /** Place the browser's selection on [start, end) (keyboard selection). */
  function selectRange(start, end) {
    const range = document.createRange();
    const [startNode, startOffset] = domPoint(start);
    const [endNode, endOffset] = domPoint(end);
    range.setStart(startNode, startOffset);
    range.setEnd(endNode, endOffset);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function domPoint(offset) {
    const list = segments();
    let low = 0;
    let high = list.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (segmentStart(list[mid]) <= offset) low = mid;
      else high = mid - 1;
    }
    const segment = list[low];
    const textNode = segment.firstChild;
    const within = chars.slice(segmentStart(segment), offset).join("").length; // UTF-16 units
    return [textNode, Math.min(within, textNode ? textNode.length : 0)];
  }

  // ---------- requests ----------

  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function say(message) {
    statusLine.textContent = message;
  }

  /**
   * Send a create (span or link) and keep it in the pending list until the server confirms.
   * A network or server failure keeps it there and retries with the same client_id.
   */
  function sendPending(url, values, description) {
    const item = document.createElement("li");
    item.className = "pending-item";
    item.textContent = "Saving " + description + "…";
    pendingList.appendChild(item);
    let attempt = 0;

    function send() {
      htmx.ajax("POST", url, { source: item, target: "#panel", swap: "innerHTML", values });
    }

    item.addEventListener("htmx:afterRequest", (event) => {
      const status = event.detail.xhr ? event.detail.xhr.status : 0;
      if (status === 200 || status === 201) {
        item.remove();
        reapplySelection();
        return;
      }
      if (status === 409 || status === 422 || status === 400 || status === 403 || status === 404) {
        // Refused by the server: the reason is shown in the panel; nothing to retry.
        item.remove();
        say(description + " was not saved: see the message in the panel.");
        return;
      }
      const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)];
      attempt++;
      item.classList.add("failed");
      item.textContent = "Not saved: " + description + " (" + (status ? "server error " + status : "no connection") + "). Retrying in " + Math.round(delay / 1000) + " s…";
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "link";
      retry.textContent = "Retry now";
      retry.addEventListener("click", () => { clearTimeout(item.retryTimer); send(); });
      item.appendChild(document.createTextNode(" "));
      item.appendChild(retry);
      item.retryTimer = setTimeout(send, delay);
    });
    send();
  }

  function createSpan(label) {
    const offsets = selectionOffsets();
    if (!offsets) {
      say("Select some text first, then press a label key.");
      return;
    }
    const text = quote(offsets.start, offsets.end);
    window.getSelection().removeAllRanges();
    keyboardAnchor = null;
    sendPending(
      config.urls.createSpan,
      { label: label.name, start: offsets.start, end: offsets.end, text, client_id: newClientId() },
      "“" + (text.length > 40 ? text.slice(0, 40) + "…" : text) + "” as " + label.name
    );
  }

  function openSpan(spanId, { focusForm = false } = {}) {
    selectedSpanId = String(spanId);
    reapplySelection();
    htmx.ajax("GET", config.urls.spanPanel.replace("/0/", "/" + spanId + "/"), { target: "#panel", swap: "innerHTML" }).then(() => {
      if (focusForm) {
        const field = panel.querySelector("select, input:not([type=hidden])");
        if (field) field.focus();
      }
    });
  }

  function reapplySelection() {
    article.querySelectorAll("mark.sel").forEach((m) => m.classList.remove("sel"));
    if (!selectedSpanId) return;
    article.querySelectorAll('mark[data-ids~="' + selectedSpanId + '"]').forEach((m) => m.classList.add("sel"));
  }

  function firstMarkOf(spanId) {
    return article.querySelector('mark[data-starts~="' + spanId + '"]');
  }

  function scrollToSpan(spanId) {
    const mark = firstMarkOf(spanId);
    if (mark) {
      mark.scrollIntoView({ block: "center" });
      mark.focus({ preventScroll: true });
    }
  }

  // ---------- links ----------

  function startLink(type, toLabelId) {
    const form = panel.querySelector("#span-form");
    if (!form) return;
    linkMode = { type, source: form.dataset.span, to: String(toLabelId) };
    document.body.classList.add("linking");
    article.querySelectorAll("mark.ann").forEach((mark) => {
      const labels = (mark.dataset.l || "").split(" ");
      if (labels.includes(linkMode.to) && !(mark.dataset.ids || "").split(" ").includes(linkMode.source)) {
        mark.classList.add("link-target");
      }
    });
    const target = config.labels.find((l) => String(l.id) === linkMode.to);
    say("Linking " + type + ": click the " + (target ? target.name : "target") + " span (or Tab to it and press Enter). Esc cancels.");
    const firstTarget = article.querySelector("mark.link-target[data-starts]");
    if (firstTarget) firstTarget.focus();
  }

  function stopLink(message) {
    linkMode = null;
    document.body.classList.remove("linking");
    article.querySelectorAll("mark.link-target").forEach((m) => m.classList.remove("link-target"));
    say(message || "");
  }

  function finishLink(mark) {
    const ids = (mark.dataset.ids || "").split(" ");
    const labels = (mark.dataset.l || "").split(" ");
    const index = labels.findIndex((l, i) => l === linkMode.to && ids[i] !== linkMode.source);
    if (index < 0) {
      say("That span cannot be the target of " + linkMode.type + ". Pick a highlighted span, or Esc.");
      return;
    }
    const values = { type: linkMode.type, source: linkMode.source, target: ids[index], client_id: newClientId() };
    const description = linkMode.type + " link";
    stopLink();
    sendPending(config.urls.createRelation, values, description);
  }

  // ---------- events ----------

  function spanIdFromMark(mark) {
    const ids = (mark.dataset.ids || "").split(" ").filter(Boolean);
    if (!ids.length) return null;
    // Clicking the same place again cycles from the innermost span outwards.
    const current = ids.indexOf(selectedSpanId);
    return current >= 0 && current + 1 < ids.length ? ids[current + 1] : ids[0];
  }

  article.addEventListener("mouseup", (event) => {
    exactSelection = event.altKey;
  });

  article.addEventListener("click", (event) => {
    const mark = event.target.closest("mark.ann");
    if (!mark) return;
    const selection = window.getSelection();
    if (selection && !selection.isCollapsed) return; // the user is selecting text
    if (linkMode) {
      finishLink(mark);
      return;
    }
    const spanId = spanIdFromMark(mark);
    if (spanId) openSpan(spanId);
  });

  document.addEventListener("click", (event) => {
    const jump = event.target.closest("a.jump");
    if (jump && jump.dataset.span) {
      event.preventDefault();
      scrollToSpan(jump.dataset.span);
      openSpan(jump.dataset.span);
      return;
    }
    const labelButton = event.target.closest("button.label-button");
    if (labelButton) {
      const label = labelsByName.get(labelButton.dataset.label);
      if (label) createSpan(label);
      return;
    }
    const linkButton = event.target.closest("button.link-type");
    if (linkButton) startLink(linkButton.dataset.type, linkButton.dataset.to);
  });

  // Keep the text selection when a toolbar button is pressed.
  document.querySelectorAll("button.label-button").forEach((button) => {
    button.addEventListener("mousedown", (event) => event.preventDefault());
  });

  function typingInForm(event) {
    const target = event.target;
    return target.closest && target.closest("input, select, textarea, [contenteditable]");
  }

  function moveToSpan(direction) {
    const marks = Array.from(article.querySelectorAll("mark[data-starts]"));
    if (!marks.length) return;
    const current = selectedSpanId ? marks.findIndex((m) => m.dataset.starts.split(" ").includes(selectedSpanId)) : -1;
    let next = current + direction;
    if (next < 0) next = marks.length - 1;
    if (next >= marks.length) next = 0;
    const mark = marks[next];
    const spanId = mark.dataset.starts.split(" ")[0];
    mark.focus();
    mark.scrollIntoView({ block: "nearest" });
    if (!linkMode) openSpan(spanId);
  }

  function nextWordBoundary(position, direction) {
    let i = position;
    if (direction > 0) {
      while (i < chars.length && !isWordAt(i)) i++;
      while (i < chars.length && isWordAt(i)) i++;
    } else {
      while (i > 0 && !isWordAt(i - 1)) i--;
      while (i > 0 && isWordAt(i - 1)) i--;
    }
    return i;
  }

  /** Arrow keys in the article move a word caret; with Shift they extend a selection. */
  function keyboardSelect(event) {
    const direction = event.key === "ArrowRight" ? 1 : -1;
    if (keyboardCaret === null) {
      const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("[data-o]");
      keyboardCaret = focused && article.contains(focused) ? segmentStart(focused) : 0;
    }
    if (event.shiftKey) {
      if (keyboardAnchor === null) keyboardAnchor = keyboardCaret;
    } else {
      keyboardAnchor = null;
    }
    keyboardCaret = nextWordBoundary(keyboardCaret, direction);
    exactSelection = false;
    if (keyboardAnchor !== null && keyboardAnchor !== keyboardCaret) {
      selectRange(Math.min(keyboardAnchor, keyboardCaret), Math.max(keyboardAnchor, keyboardCaret));
      say("Selected “" + quote(Math.min(keyboardAnchor, keyboardCaret), Math.max(keyboardAnchor, keyboardCaret)) + "”: press a label key.");
    } else {
      selectRange(keyboardCaret, keyboardCaret);
    }
    event.preventDefault();
  }

  document.addEventListener("keydown", (event) => {
    if (typingInForm(event)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const key = event.key;
    if ((event.ctrlKey || event.metaKey) && key.toLowerCase() === "z") {
      event.preventDefault();
      htmx.ajax("POST", config.urls.undo, { target: "#panel", swap: "innerHTML" });
      return;
    }
    if (event.ctrlKey || event.metaKey) return;
    if (key === "Escape") {
      if (linkMode) stopLink("Link cancelled.");
      window.getSelection().removeAllRanges();
      keyboardAnchor = null;
      return;
    }
    if ((key === "ArrowRight" || key === "ArrowLeft") && (article.contains(document.activeElement) || document.activeElement === article)) {
      keyboardSelect(event);
      return;
    }
    if (key === "Enter") {
      const mark = document.activeElement && document.activeElement.closest && document.activeElement.closest("mark.ann");
      if (mark && article.contains(mark)) {
        event.preventDefault();
        if (linkMode) finishLink(mark);
        else openSpan(spanIdFromMark(mark), { focusForm: true });
      }
      return;
    }
    if ((key === "Delete" || key === "Backspace") && selectedSpanId) {
      const form = panel.querySelector("#span-delete-form");
      if (form) {
        event.preventDefault();
        // A key pressed right after the panel was swapped in can beat htmx's settle step,
        // which is when the form gets its listeners; without them the submit event is lost.
        // process() is idempotent, so calling it on a settled form changes nothing.
        htmx.process(form);
        htmx.trigger(form, "submit");
        selectedSpanId = null;
      }
      return;
    }
    const label = labelsByKey.get(key.toLowerCase());
    const selection = window.getSelection();
    if (label && selection && !selection.isCollapsed) {
      event.preventDefault();
      createSpan(label);
      return;
    }
    if (key === "n" || key === "p") {
      moveToSpan(key === "n" ? 1 : -1);
      return;
    }
    if (/^[0-9]$/.test(key) && selectedSpanId) {
      const button = Array.from(panel.querySelectorAll("button.link-type")).find((b) => {
        const type = config.relationTypes.find((t) => t.name === b.dataset.type);
        return type && type.hotkey === key;
      });
      if (button) startLink(button.dataset.type, button.dataset.to);
    }
  });

  // ---------- saves of the attribute form ----------

  let failedForm = false;

  // A change made while the form's previous save is on its way is queued by htmx on this
  // form, which that save's answer replaces; htmx then drops the queued request, and the
  // choice would be lost under "Saved ✓". Keep the coder's choices and send them from the
  // new form once the answer is in.
  let unsentChoices = null; // {span, fields: [[name, value, checked]]}

  function choicesOf(form) {
    return Array.from(form.elements)
      .filter((el) => el.name && el.name !== "version" && el.name !== "csrfmiddlewaretoken")
      .map((el) => [el.name, el.value, el.checked]);
  }

  function resendChoices(form, fields) {
    const elements = Array.from(form.elements);
    fields.forEach(([name, value, checked]) => {
      elements.filter((el) => el.name === name).forEach((el) => {
        if (el.type === "checkbox") {
          if (el.value === value) el.checked = checked;
        } else {
          el.value = value;
        }
      });
    });
    htmx.trigger(form, "change");
  }

  // Enter in a form's only text field submits it natively (implicit submission): a second,
  // plain POST that leaves the page for a bare fragment. The change event has already saved
  // the value through htmx; the <noscript> button is for pages without JavaScript.
  document.addEventListener("submit", (event) => {
    if (event.target.id === "span-form") event.preventDefault();
  });

  // Capture phase: runs before htmx's own listener on the form decides to queue.
  document.addEventListener("change", (event) => {
    const form = event.target.closest && event.target.closest("#span-form");
    if (form && form.classList.contains("htmx-request")) {
      unsentChoices = { span: form.dataset.span, fields: choicesOf(form) };
    }
  }, true);

  document.body.addEventListener("htmx:beforeRequest", (event) => {
    if (event.target.id === "span-form") {
      unsentChoices = null; // this request carries the form's current choices
      const state = document.getElementById("save-state");
      if (state) state.textContent = "Saving…";
    }
  });

  document.body.addEventListener("htmx:afterRequest", (event) => {
    const form = event.target;
    if (form.id !== "span-form" && form.id !== "span-delete-form") return;
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 0 || status >= 500) {
      // Keep what the coder chose in the form, say so, and try again.
      failedForm = true;
      const state = document.getElementById("save-state");
      if (state) {
        state.textContent = "Not saved (" + (status ? "server error " + status : "no connection") + "). Retrying…";
        state.classList.add("failed");
      }
      setTimeout(() => {
        if (document.body.contains(form)) htmx.trigger(form, form.id === "span-form" ? "change" : "submit");
      }, 3000);
    } else {
      failedForm = false;
    }
  });

  // After settling, not swapping: only then does the new form have its own attributes and
  // htmx's listeners.
  document.body.addEventListener("htmx:afterSettle", (event) => {
    if (!unsentChoices || event.target !== panel) return;
    const choices = unsentChoices;
    unsentChoices = null;
    const form = panel.querySelector("#span-form");
    const saved = event.detail.xhr && event.detail.xhr.status === 200 && panel.querySelector("#save-state .saved");
    if (form && saved && form.dataset.span === choices.span) resendChoices(form, choices.fields);
  });

  document.body.addEventListener("htmx:afterSwap", () => {
    const form = panel.querySelector("#span-form");
    if (form) selectedSpanId = form.dataset.span;
    else if (panel.querySelector("[data-saved=deleted]")) selectedSpanId = null;
    reapplySelection();
  });
  document.body.addEventListener("htmx:oobAfterSwap", reapplySelection);

  window.addEventListener("beforeunload", (event) => {
    if (pendingList.children.length || failedForm || document.querySelector(".htmx-request")) {
      event.preventDefault();
      event.returnValue = ""; // the browser shows its own "leave site?" question
    }
  });

  // =====================================================================================
  // SUGGESTIONS (issue 6) -- begin. Everything about suggested spans is in this block.
  //
  // The server draws each suggestion as dashed marks (mark.sug, data-sug="start-end-LABEL";
  // the first piece, mark.sug.s, is focusable) when the project has suggestions on; their
  // details come from config.suggestions. A suggestion is not a span: accepting one sends
  // the ordinary span create (sendPending: same client_id, pending list and "Saved" flow),
  // after which the server redraws the chunk with the span and without the suggestion.
  // Rejecting posts to urls.rejectSuggestion; the server remembers it for this coder and
  // redraws the chunk without it. Keys on a focused suggestion: Enter accepts, Delete rejects.
  // =====================================================================================
  const suggestionsByKey = new Map((config.suggestions || []).map((s) => [s.key, s]));
  let selectedSuggestion = null;

  function suggestionMarks(key) {
    return article.querySelectorAll('mark.sug[data-sug="' + CSS.escape(key) + '"]');
  }

  function shortQuote(text) {
    return "“" + (text.length > 40 ? text.slice(0, 40) + "…" : text) + "”";
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text; // text, never HTML
    return node;
  }

  /** Show a suggestion in the panel, with its candidates and Accept / Reject buttons. */
  function showSuggestion(key) {
    const suggestion = suggestionsByKey.get(key);
    if (!suggestion) return;
    selectedSuggestion = key;
    selectedSpanId = null; // Delete now means "reject this suggestion", not "delete a span"
    reapplySelection();
    article.querySelectorAll("mark.sug.sug-sel").forEach((m) => m.classList.remove("sug-sel"));
    suggestionMarks(key).forEach((m) => m.classList.add("sug-sel"));
    const box = element("div", "suggestion-box");
    box.id = "suggestion-box";
    box.dataset.sug = key;
    box.appendChild(element("h3", "", "Suggested " + suggestion.label));
    box.appendChild(element("q", "quote", suggestion.text));
    box.appendChild(element("p", "muted", "Why: " + suggestion.reason + ". Not one of your spans until you accept it."));
    if (suggestion.candidates && suggestion.candidates.length) {
      box.appendChild(element("p", "", "Places with this name:"));
      const list = element("ul", "sug-candidates");
      suggestion.candidates.forEach((c) => list.appendChild(element("li", "", c.name + " (" + c.description + ")")));
      box.appendChild(list);
    }
    const actions = element("div", "actions");
    const accept = element("button", "primary", "Accept (Enter)");
    accept.type = "button";
    accept.dataset.sugAccept = key;
    const reject = element("button", "danger", "Reject (Del)");
    reject.type = "button";
    reject.dataset.sugReject = key;
    actions.appendChild(accept);
    actions.appendChild(reject);
    box.appendChild(actions);
    panel.replaceChildren(box);
  }

  function acceptSuggestion(key) {
    const suggestion = suggestionsByKey.get(key);
    if (!suggestion) return;
    selectedSuggestion = null;
    const values = { label: suggestion.label, start: suggestion.start, end: suggestion.end, text: suggestion.text, client_id: newClientId() };
    if (suggestion.attributes && Object.keys(suggestion.attributes).length) values.attributes = JSON.stringify(suggestion.attributes);
    sendPending(config.urls.createSpan, values, shortQuote(suggestion.text) + " as " + suggestion.label + " (suggested)");
  }

  function rejectSuggestion(key) {
    const suggestion = suggestionsByKey.get(key);
    if (!suggestion) return;
    selectedSuggestion = null;
    htmx.ajax("POST", config.urls.rejectSuggestion, {
      target: "#panel",
      swap: "innerHTML",
      values: { start: suggestion.start, end: suggestion.end, label: suggestion.label },
    });
  }

  function focusedSuggestion() {
    const active = document.activeElement;
    const mark = active && active.closest && active.closest("mark.sug");
    return mark && article.contains(mark) ? mark.dataset.sug : null;
  }

  article.addEventListener("click", (event) => {
    const mark = event.target.closest("mark.sug");
    if (!mark || linkMode) return;
    const selection = window.getSelection();
    if (selection && !selection.isCollapsed) return; // the user is selecting text
    showSuggestion(mark.dataset.sug);
    const first = article.querySelector('mark.sug.s[data-sug="' + CSS.escape(mark.dataset.sug) + '"]');
    if (first) first.focus({ preventScroll: true });
  });

  panel.addEventListener("click", (event) => {
    const accept = event.target.closest("[data-sug-accept]");
    if (accept) acceptSuggestion(accept.dataset.sugAccept);
    const reject = event.target.closest("[data-sug-reject]");
    if (reject) rejectSuggestion(reject.dataset.sugReject);
  });

  // Capture phase: runs before the screen's own key handler, which would read Enter and
  // Delete as "open" and "delete" a span.
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || linkMode) return;
    const key = focusedSuggestion();
    if (!key) return;
    if (event.key === "Enter") {
      event.preventDefault();
      event.stopImmediatePropagation();
      acceptSuggestion(key);
    } else if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      event.stopImmediatePropagation();
      rejectSuggestion(key);
    }
  }, true);

  article.addEventListener("focusin", (event) => {
    const mark = event.target.closest && event.target.closest("mark.sug");
    if (mark && mark.dataset.sug !== selectedSuggestion) showSuggestion(mark.dataset.sug);
  });
  // SUGGESTIONS (issue 6) -- end.
  // =====================================================================================

  // ========== guidelines panel: BEGIN (self-contained; touches nothing above) ==========
  // `?` (outside form fields) or the Guidelines button opens and closes the panel; Escape
  // closes it. The panel's body is fetched on first opening (htmx GET of the guidelines page,
  // which answers an htmx request with its body partial), so the coding screen does not pay
  // for it. This listener runs in the capture phase and stops the keys it uses, so Escape
  // closing the panel does not also drop the coder's selection in the keydown handler above.
  const guidelinesPanel = document.getElementById("guidelines");
  const guidelinesToggle = document.getElementById("guidelines-toggle");
  if (guidelinesPanel && guidelinesToggle) {
    const guidelinesBody = document.getElementById("guidelines-body");
    let guidelinesState = "empty"; // empty | loading | loaded
    let guidelinesReturnFocus = null;

    const loadGuidelines = () => {
      guidelinesState = "loading";
      htmx.ajax("GET", guidelinesToggle.href, { target: guidelinesBody, swap: "innerHTML" });
    };
    guidelinesBody.addEventListener("htmx:afterRequest", (event) => {
      if (event.detail.successful) {
        guidelinesState = "loaded";
        return;
      }
      guidelinesState = "empty"; // the next opening tries again
      guidelinesBody.textContent = "The guidelines could not be loaded. Close and open the panel to try again, or use the printable page.";
    });

    const setGuidelinesOpen = (open) => {
      guidelinesPanel.hidden = !open;
      guidelinesToggle.setAttribute("aria-expanded", String(open));
      if (open) {
        if (guidelinesState === "empty") loadGuidelines();
        guidelinesReturnFocus = document.activeElement;
        guidelinesPanel.focus({ preventScroll: true });
      } else if (guidelinesReturnFocus && document.body.contains(guidelinesReturnFocus)) {
        guidelinesReturnFocus.focus({ preventScroll: true });
      }
    };

    guidelinesToggle.addEventListener("click", (event) => {
      event.preventDefault();
      setGuidelinesOpen(guidelinesPanel.hidden);
    });
    document.getElementById("guidelines-close").addEventListener("click", () => setGuidelinesOpen(false));

    document.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const isOpen = !guidelinesPanel.hidden;
      if (event.key === "?" && !typingInForm(event)) {
        setGuidelinesOpen(!isOpen);
      } else if (event.key === "Escape" && isOpen) {
        setGuidelinesOpen(false);
      } else {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
    }, true);
  }
  // ========== guidelines panel: END ==========

  article.setAttribute("tabindex", "0");
  const initial = panel.querySelector("#span-form");
  if (initial) {
    selectedSpanId = initial.dataset.span;
    reapplySelection();
    scrollToSpan(selectedSpanId);
  }
})();
