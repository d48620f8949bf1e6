// Accord portal: small enhancements over pages that work without JavaScript.
// Sortable tables (th[data-sort]) and downloads of a bulk look-up (CSV or JSON).
(function () {
  "use strict";

  function cellValue(row, index, kind) {
    var cell = row.cells[index];
    var raw = cell.getAttribute("data-value");
    if (raw === null) raw = cell.textContent.trim();
    return kind === "number" ? parseFloat(raw) || 0 : raw.toLowerCase();
  }

  function sortBy(th) {
    var table = th.closest("table");
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var kind = th.getAttribute("data-sort");
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th[aria-sort]").forEach(function (other) { other.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index, kind), y = cellValue(b, index, kind);
      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function csvField(value) {
    var text = value === null || value === undefined ? "" : String(value);
    if (/^[=+\-@\t\r]/.test(text)) text = "'" + text; // no formula injection in spreadsheets
    return /[",\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function download(kind) {
    // The answers ride on the table itself: htmx drops <script> elements of a swapped
    // fragment, JSON blocks included.
    var table = document.getElementById("bulk");
    if (!table) return;
    var answers = JSON.parse(table.getAttribute("data-answers"));
    var body, type;
    if (kind === "json") {
      body = JSON.stringify({ answers: answers }, null, 2);
      type = "application/json";
    } else {
      var columns = ["query", "type", "value", "verdict", "score", "reasons_total", "first_seen", "last_seen", "sightings", "error"];
      var lines = [columns.join(",")];
      answers.forEach(function (a) { lines.push(columns.map(function (c) { return csvField(a[c]); }).join(",")); });
      body = lines.join("\n") + "\n";
      type = "text/csv";
    }
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([body], { type: type }));
    link.download = "accord-lookup." + kind;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  document.addEventListener("click", function (event) {
    var th = event.target.closest("th[data-sort]");
    if (th) { sortBy(th); return; }
    var button = event.target.closest("[data-download]");
    if (button) download(button.getAttribute("data-download"));
  });
  document.addEventListener("keydown", function (event) {
    var th = event.target.closest && event.target.closest("th[data-sort]");
    if (th && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); sortBy(th); }
  });
  // Enter submits the look-up box; Shift+Enter makes a new line for a list.
  document.addEventListener("keydown", function (event) {
    if (event.target.id === "q" && event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      var form = event.target.form;
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }
  });
})();
