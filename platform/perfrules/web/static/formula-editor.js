/* The formula editor: while people type, the formula is checked through the API (debounced) and
 * its errors appear at their place — the line with carets under the span, as the command line
 * shows them — with the message and a "did you mean …" that applies itself when clicked. The
 * names and functions the formula may use are listed, and insert at the cursor. (A KPI's preview
 * is the designer's document preview, document-preview.js.) */
(function () {
  "use strict";

  var stringsElement = document.getElementById("formula-strings");
  if (!stringsElement) { return; }
  var S = JSON.parse(stringsElement.textContent);
  var csrf = (document.querySelector("meta[name=csrf-token]") || {}).content || "";
  var DEBOUNCE_MS = 300;
  var catalogues = {};
  var activeEditor = null;

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attributes[key]; }
      else if (key === "className") { node.className = attributes[key]; }
      else { node.setAttribute(key, attributes[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function api(method, url, body) {
    var options = { method: method, credentials: "same-origin",
                    headers: { "Accept": "application/json", "X-CSRFToken": csrf } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }

  /* The API counts characters (code points); JavaScript strings count UTF-16 units. */
  function unitIndex(text, codePoints) {
    var index = 0;
    for (var n = 0; n < codePoints && index < text.length; n++) {
      index += text.codePointAt(index) > 0xffff ? 2 : 1;
    }
    return index;
  }

  function insertAt(textarea, text, cursorBack) {
    textarea.focus();
    var start = textarea.selectionStart, end = textarea.selectionEnd;
    textarea.setRangeText(text, start, end, "end");
    if (cursorBack) {
      var position = textarea.selectionEnd - cursorBack;
      textarea.setSelectionRange(position, position);
    }
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function Editor(root) {
    this.root = root;
    this.textarea = root.querySelector("textarea.formula-input");
    this.status = root.querySelector(".formula-status");
    this.caret = root.querySelector(".formula-caret");
    this.message = root.querySelector(".formula-message");
    this.context = root.dataset.context;
    this.timer = null;
    this.sequence = 0;
    var self = this;
    this.textarea.addEventListener("input", function () { self.schedule(); });
    this.textarea.addEventListener("focus", function () { showCatalogue(self); });
    if (this.textarea.value.trim()) { this.check(); }
  }

  Editor.prototype.schedule = function () {
    var self = this;
    window.clearTimeout(this.timer);
    this.status.textContent = S.checking;
    this.status.className = "formula-status small note";
    this.timer = window.setTimeout(function () { self.check(); }, DEBOUNCE_MS);
  };

  Editor.prototype.payload = function () {
    var body = { formula: this.textarea.value, context: this.context };
    if (this.root.dataset.kpi) { body.kpi = this.root.dataset.kpi; }
    if (this.root.dataset.dataset) { body.dataset = this.root.dataset.dataset; }
    return body;
  };

  Editor.prototype.check = function () {
    var self = this;
    var sequence = ++this.sequence;
    var text = this.textarea.value;
    if (!text.trim()) { this.show({ ok: false, errors: [] }, text); return; }
    api("POST", S.check_url, this.payload()).then(function (answer) {
      if (sequence !== self.sequence) { return; }  // a newer check is on its way
      if (answer.status !== 200) {
        self.show({ ok: false, errors: [{ message: answer.data.message || S.unreachable }] }, text);
        return;
      }
      self.show(answer.data, text);
    }).catch(function () {
      if (sequence === self.sequence) { self.show({ ok: false, errors: [{ message: S.unreachable }] }, text); }
    });
  };

  Editor.prototype.show = function (result, text) {
    var self = this;
    Array.prototype.forEach.call(this.root.querySelectorAll(".formula-server-error"), function (node) { node.remove(); });
    this.message.textContent = "";
    this.caret.hidden = this.message.hidden = true;
    this.textarea.classList.remove("is-invalid", "is-valid");
    if (result.ok) {
      this.textarea.classList.add("is-valid");
      this.status.className = "formula-status small text-success";
      var kind = S[result.type] || result.type;
      this.status.textContent = "✓ " + S.ok.replace("{type}", kind) +
        (result.names && result.names.length ? " · " + S.uses + ": " + result.names.join(", ") : "");
      return;
    }
    this.status.textContent = "";
    var error = (result.errors || [])[0];
    if (!error) { return; }
    this.textarea.classList.add("is-invalid");
    if (error.excerpt) {
      this.caret.textContent = error.excerpt;
      this.caret.hidden = false;
    }
    var message = error.message || "";
    if (error.suggestion) { message = message.replace(/\s*— did you mean '.*'\?$/, ""); }
    var where = error.line && text.indexOf("\n") !== -1 ? " (" + error.line + ":" + error.column + ")" : "";
    this.message.appendChild(el("span", { className: "formula-error-message", text: message + where }));
    if (error.suggestion) {
      var button = el("button", { type: "button", className: "btn btn-link btn-sm p-0 ml-2 formula-suggestion",
                                  title: S.apply, text: S.did_you_mean + " " + error.suggestion + "?" });
      button.addEventListener("click", function () {
        var start = unitIndex(text, error.start), end = unitIndex(text, error.end);
        self.textarea.focus();
        self.textarea.setRangeText(error.suggestion, start, end, "end");
        self.textarea.dispatchEvent(new Event("input", { bubbles: true }));
      });
      this.message.appendChild(button);
    }
    this.message.hidden = false;
  };

  /* --- the names and functions -------------------------------------------------------------- */

  var catalogueBox = document.getElementById("catalogue");
  var catalogueFilter = document.getElementById("catalogue-filter");
  var catalogueFor = document.querySelector(".catalogue-for");

  function catalogueUrl(editor) {
    var query = "?context=" + encodeURIComponent(editor.context);
    if (editor.root.dataset.kpi) { query += "&kpi=" + encodeURIComponent(editor.root.dataset.kpi); }
    if (editor.root.dataset.dataset) { query += "&dataset=" + encodeURIComponent(editor.root.dataset.dataset); }
    return S.catalogue_url + query;
  }

  function renderCatalogue(editor, data) {
    if (!catalogueBox || activeEditor !== editor) { return; }
    var words = (catalogueFilter && catalogueFilter.value || "").trim().toLowerCase();
    var matches = function (entry) {
      return !words || [entry.name, entry.text, entry.signature, entry.description].some(function (part) {
        return part && String(part).toLowerCase().indexOf(words) !== -1;
      });
    };
    catalogueBox.textContent = "";
    var names = el("ul", { className: "list-unstyled catalogue-names mb-2" });
    data.names.filter(matches).forEach(function (entry) {
      var button = el("button", { type: "button", className: "btn btn-sm btn-light catalogue-entry text-left",
                                  "data-insert": entry.name, title: entry.description || entry.name }, [
        el("span", { className: "badge badge-secondary mr-1", text: (S.kinds[entry.kind] || entry.kind) }),
        el("code", { text: entry.name }),
        entry.text && entry.text !== entry.name ? el("span", { className: "ml-1 note", text: entry.text }) : null]);
      button.addEventListener("click", function () { insertAt(editor.textarea, entry.name); });
      names.appendChild(el("li", {}, [button]));
    });
    var functions = el("ul", { className: "list-unstyled catalogue-functions mb-0" });
    data.functions.filter(matches).forEach(function (entry) {
      var button = el("button", { type: "button", className: "btn btn-sm btn-light catalogue-entry text-left",
                                  "data-insert": entry.name + "()" }, [
        el("code", { text: entry.signature }), entry.text ? el("span", { className: "ml-1 note", text: entry.text }) : null]);
      button.addEventListener("click", function () { insertAt(editor.textarea, entry.name + "()", 1); });
      functions.appendChild(el("li", {}, [button]));
    });
    catalogueBox.appendChild(el("h3", { className: "h6 mt-1", text: S.names }));
    catalogueBox.appendChild(names);
    catalogueBox.appendChild(el("h3", { className: "h6", text: S.functions }));
    catalogueBox.appendChild(functions);
  }

  function showCatalogue(editor) {
    if (!catalogueBox || activeEditor === editor) { return; }
    activeEditor = editor;
    if (catalogueFor) { catalogueFor.textContent = S.for_context[editor.context] || ""; }
    var url = catalogueUrl(editor);
    if (catalogues[url]) { renderCatalogue(editor, catalogues[url]); return; }
    api("GET", url).then(function (answer) {
      if (answer.status === 200) {
        catalogues[url] = answer.data;
        renderCatalogue(editor, answer.data);
      }
    });
  }

  if (catalogueFilter) {
    catalogueFilter.addEventListener("input", function () {
      if (activeEditor) { renderCatalogue(activeEditor, catalogues[catalogueUrl(activeEditor)] || { names: [], functions: [] }); }
    });
  }

  var editors = Array.prototype.map.call(document.querySelectorAll(".formula-editor"), function (root) {
    return new Editor(root);
  });
  if (editors.length) { showCatalogue(editors[0]); }
  /* for formula fields a page adds later, such as a new step of an approval flow */
  window.perfrulesFormulaEditor = function (root) { return new Editor(root); };
}());
