/* Previews of the document an editor holds (templates/designer/_preview.html): a metric, a KPI or a
 * template, for one employee and period on the draft with the edits in place. The document comes
 * from the page: window.perfrulesPreviewDocument(kind) when the page defines it, else the editor
 * form's fields posted to the document URL (the macro's, or the form's data-document-url), which
 * answers the document as JSON. The employee is searched as it is typed (a datalist filled from
 * the API); someone without data gets buttons for people who have, which preview them instead. */
(function () {
  "use strict";

  var stringsElement = document.getElementById("document-preview-strings");
  if (!stringsElement) { return; }
  var S = JSON.parse(stringsElement.textContent);
  var SEARCH_DEBOUNCE_MS = 250;
  /* columns a phone leaves out: the sentence under each item tells its value and score */
  var NARROW_HIDDEN = "d-none d-sm-table-cell";
  var english = (document.documentElement.lang || "").toLowerCase().indexOf("en") === 0;

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

  function answerOf(response) {
    return response.json().catch(function () { return {}; }).then(function (data) {
      return { status: response.status, data: data };
    });
  }

  function show(value) {
    if (value === null || value === undefined) { return S.none; }
    if (typeof value === "number") { return (Math.round(value * 1e6) / 1e6).toLocaleString(); }
    return String(value);
  }

  function label(value, fallback) {
    if (value && typeof value === "object") {
      return (english ? value.en || value.zh : value.zh || value.en) || fallback;
    }
    return value || fallback;
  }

  function definitionList(rows) {
    var list = el("dl", { className: "row mb-2 preview-values" });
    rows.forEach(function (row) {
      if (!row) { return; }
      list.appendChild(el("dt", { className: "col-5", text: row[0] }));
      list.appendChild(el("dd", { className: "col-7 mb-1 " + (row[2] || ""), text: row[1] }));
    });
    return list;
  }

  function noteList(notes, className) {
    var list = el("ul", { className: "trace small mb-2 " + (className || "") });
    notes.forEach(function (note) { list.appendChild(el("li", { text: note })); });
    return list;
  }

  function Preview(root) {
    this.root = root;
    this.kind = root.dataset.kind;
    this.csrf = root.dataset.csrf || (document.querySelector("meta[name=csrf-token]") || {}).content || "";
    this.employee = root.querySelector(".document-preview-employee");
    this.period = root.querySelector(".document-preview-period");
    this.datalist = document.getElementById(this.employee.getAttribute("list"));
    this.result = root.querySelector(".document-preview-result");
    this.found = {};  // code → {employee, name, department}, from the searches so far
    this.sequence = 0;
    this.searchTimer = null;
    var self = this;
    root.querySelector(".document-preview-run").addEventListener("click", function () { self.run(); });
    [this.employee, this.period].forEach(function (input) {
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); self.run(); }  // never submits the editor's form
      });
    });
    this.employee.addEventListener("input", function () { self.scheduleSearch(); });
    this.employee.addEventListener("focus", function () { if (!self.datalist.options.length) { self.search(); } });
  }

  Preview.prototype.request = function (method, url, body, form) {
    var options = { method: method, credentials: "same-origin",
                    headers: { "Accept": "application/json", "X-CSRFToken": this.csrf } };
    if (form) { options.body = form; }
    else if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(answerOf);
  };

  /* --- whom to preview ------------------------------------------------------------------------ */

  Preview.prototype.scheduleSearch = function () {
    var self = this;
    window.clearTimeout(this.searchTimer);
    this.searchTimer = window.setTimeout(function () { self.search(); }, SEARCH_DEBOUNCE_MS);
  };

  Preview.prototype.search = function () {
    var self = this;
    var words = this.employee.value.trim();
    var url = this.root.dataset.employeesUrl + "?q=" + encodeURIComponent(words);
    this.request("GET", url).then(function (answer) {
      if (answer.status !== 200 || words !== self.employee.value.trim()) { return; }
      self.datalist.textContent = "";
      (answer.data.employees || []).forEach(function (person) {
        self.found[person.employee] = person;
        self.datalist.appendChild(el("option", { value: person.employee,
                                                 text: person.name + " · " + person.department }));
      });
    }).catch(function () { /* the field still takes a code typed in full */ });
  };

  /* the code typed, or the code of the one person found by the name typed */
  Preview.prototype.employeeCode = function () {
    var typed = this.employee.value.trim();
    if (!typed || this.found[typed]) { return typed; }
    var self = this;
    var named = Object.keys(this.found).filter(function (code) { return self.found[code].name === typed; });
    return named.length === 1 ? named[0] : typed;
  };

  /* --- the document and the preview ------------------------------------------------------------ */

  Preview.prototype.documentNow = function () {
    if (typeof window.perfrulesPreviewDocument === "function") {
      return Promise.resolve(window.perfrulesPreviewDocument(this.kind)).then(function (doc) {
        return { status: 200, data: doc };
      });
    }
    var form = document.getElementById(this.root.dataset.form);
    // getAttribute, not form.dataset: a form's fields are its properties, and a metric's has one named "dataset"
    var url = this.root.dataset.documentUrl || (form && form.getAttribute("data-document-url"));
    if (!form || !url) { return Promise.reject(new Error("no document to preview")); }
    return this.request("POST", url, undefined, new URLSearchParams(new FormData(form)));  // not multipart: no limit on parts
  };

  Preview.prototype.body = function (doc, employee, period) {
    if (this.kind !== "kpi") { return { document: doc, employee: employee, period: period }; }
    var body = { formula: doc.formula, scoring: doc.scoring, employee: employee, period: period };
    if (doc.slug) { body.kpi = doc.slug; }
    if (doc.missing) { body.missing = doc.missing; }
    return body;
  };

  Preview.prototype.run = function () {
    var self = this;
    var employee = this.employeeCode(), period = this.period.value.trim();
    if (!employee) { this.message(S.choose_employee, "alert-warning"); this.employee.focus(); return; }
    if (!period) { this.message(S.choose_period, "alert-warning"); this.period.focus(); return; }
    var sequence = ++this.sequence;
    this.message(S.working, "");
    this.documentNow().then(function (documentAnswer) {
      if (documentAnswer.status !== 200) { return documentAnswer; }
      return self.request("POST", self.root.dataset.previewUrl, self.body(documentAnswer.data, employee, period));
    }).then(function (answer) {
      if (sequence === self.sequence) { self.render(answer); }
    }).catch(function (error) {
      if (sequence === self.sequence) { self.message(S.unreachable, "alert-danger"); }
      if (window.console) { window.console.error(error); }
    });
  };

  Preview.prototype.previewFor = function (code) {
    this.employee.value = code;
    this.run();
    this.employee.focus();
  };

  /* --- what it shows --------------------------------------------------------------------------- */

  Preview.prototype.message = function (text, className) {
    this.result.textContent = "";
    this.result.appendChild(el("div", { className: className ? "alert py-2 small " + className : "small note", text: text }));
  };

  Preview.prototype.render = function (answer) {
    var data = answer.data || {};
    this.result.textContent = "";
    if (answer.status !== 200) { this.renderProblems(data); return; }
    this.result.appendChild(el("p", { className: "mb-1 preview-subject",
                                      text: [data.employee + " " + data.name, data.department, data.period].join(" · ") }));
    if (data.no_data) { this.renderNoData(data); }
    if (this.kind === "metric") { this.renderMetric(data); }
    else if (this.kind === "template") { this.renderTemplate(data); }
    else { this.renderKpi(data); }
  };

  Preview.prototype.renderProblems = function (data) {
    var box = el("div", { className: "alert alert-danger py-2 small preview-problems", role: "alert" },
                 [el("strong", { text: Array.isArray(data.errors) && data.errors.length ? S.problems : (data.message || S.unreachable) })]);
    if (Array.isArray(data.errors) && data.errors.length) {
      var list = el("ul", { className: "mb-0" });
      data.errors.forEach(function (error) {
        var lines = String(error.message || "").split("\n");
        var item = el("li", {}, [error.path ? el("code", { text: error.path.replace(/^json\.(document\.?)?/, "") || "—" }) : null,
                                 el("span", { text: " " + lines[0] })]);
        var excerpt = error.excerpt || lines.slice(1).map(function (line) { return line.replace(/^ {4}/, ""); }).join("\n");
        if (excerpt) { item.appendChild(el("pre", { className: "formula-error mb-0", text: excerpt })); }
        list.appendChild(item);
      });
      box.appendChild(list);
    }
    this.result.appendChild(box);
  };

  Preview.prototype.renderNoData = function (data) {
    var self = this;
    var box = el("div", { className: "alert alert-warning py-2 small preview-no-data", role: "status" },
                 [el("strong", { text: S.no_data + " " }), el("span", { text: data.no_data })]);
    var suggestions = data.suggestions || [];
    if (!suggestions.length) {
      box.appendChild(el("div", { className: "mt-1", text: S.nobody }));
    } else {
      box.appendChild(el("div", { className: "mt-1", text: S.with_data }));
      var list = el("ul", { className: "list-inline mb-0 preview-suggestions" });
      suggestions.forEach(function (person) {
        var button = el("button", { type: "button", className: "btn btn-sm btn-light mt-1", "data-employee": person.employee,
                                    text: person.employee + " " + person.name + " (" + person.department + ") · " +
                                          (person.records === 1 ? S.record : S.records.replace("{count}", person.records)) });
        button.addEventListener("click", function () { self.previewFor(person.employee); });
        list.appendChild(el("li", { className: "list-inline-item" }, [button]));
      });
      box.appendChild(list);
    }
    this.result.appendChild(box);
  };

  Preview.prototype.renderMetric = function (data) {
    this.result.appendChild(definitionList([
      [S.value, show(data.value), "preview-value"],
      [S.records_counted, show(data.records), "preview-records"],
      [S.counted, data.counted, "small"],
      [S.rule, data.description, "small text-monospace"],
      [S.days, data.start + " – " + data.end, "small"]]));
  };

  Preview.prototype.renderKpi = function (data) {
    this.result.appendChild(definitionList([
      [S.value, show(data.value), "preview-value"],
      data.target !== null && data.target !== undefined ? [S.target, show(data.target), "preview-target"] : null,
      [S.score_points, data.error ? "—" : (data.excluded ? S.excluded : show(data.score)), "preview-score"],
      [S.scoring_rule, data.scoring, ""],
      [S.policy, data.policy, ""],
      data.target_source ? [S.source, data.target_source, "small"] : null,
      data.error ? [S.error, data.error, "text-danger preview-error"] : null]));
    var names = Object.keys(data.inputs || {});
    if (names.length) {
      var body = el("tbody");
      names.forEach(function (name) {
        body.appendChild(el("tr", {}, [el("td", {}, [el("code", { text: name })]),
                                       el("td", { className: "num", text: show(data.inputs[name]) })]));
      });
      this.result.appendChild(el("table", { className: "table table-sm preview-inputs mb-2" }, [
        el("thead", {}, [el("tr", {}, [el("th", { scope: "col", text: S.inputs }),
                                       el("th", { scope: "col", className: "num", text: S.value })])]), body]));
    }
    if ((data.notes || []).length) { this.result.appendChild(noteList(data.notes, "preview-notes")); }
  };

  Preview.prototype.renderTemplate = function (data) {
    this.result.appendChild(definitionList([
      [S.total, data.total === null ? S.no_total : show(data.total), "preview-total"],
      [S.grade, data.grade || "—", "preview-grade"],
      data.error ? [S.error, data.error, "text-danger preview-error"] : null]));
    var notes = (data.notes || []).concat(data.warnings || []);
    if (notes.length) { this.result.appendChild(noteList(notes, "preview-notes")); }
    var body = el("tbody");
    (data.items || []).forEach(function (item) {
      var muted = item.excluded ? "text-muted" : "";
      body.appendChild(el("tr", { "data-item": item.key, className: muted }, [
        el("th", { scope: "row", className: "font-weight-normal", text: label(item.label, item.key) }),
        el("td", { className: "num " + NARROW_HIDDEN, text: item.value_text }),
        el("td", { className: "num " + NARROW_HIDDEN, text: item.score_text }),
        el("td", { className: "num", text: item.weight_text }),
        el("td", { className: "num", text: item.points_text })]));
      // the trace in words on a row of its own, the width of the table: readable on a phone
      var words = el("td", { colspan: "5", className: "small note border-top-0 pt-0 preview-sentence", text: item.sentence || "" });
      if (item.error) { words.appendChild(el("div", { className: "text-danger", text: item.error })); }
      body.appendChild(el("tr", { className: muted }, [words]));
    });
    var head = el("tr", {}, [S.item, S.value, S.score, S.weight, S.points].map(function (word, index) {
      return el("th", { scope: "col", className: index ? "num" + (index < 3 ? " " + NARROW_HIDDEN : "") : "", text: word });
    }));
    this.result.appendChild(el("div", { className: "table-responsive" }, [
      el("table", { className: "table table-sm preview-items mb-0" }, [el("thead", {}, [head]), body])]));
  };

  Array.prototype.forEach.call(document.querySelectorAll(".document-preview"), function (root) {
    root.perfrulesPreview = new Preview(root);
  });
}());
