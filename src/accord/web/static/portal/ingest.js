// Accord portal, the ingest review: buttons to keep all, none or the unflagged values, and
// a count of those kept. The review works without them (each row has its own box).
(function () {
  "use strict";

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll('.review input[name="keep"]'));
  }

  function count() {
    var shown = document.querySelector("[data-keep-count]");
    if (!shown) return;
    var all = boxes();
    var kept = all.filter(function (box) { return box.checked; }).length;
    shown.textContent = shown.getAttribute("data-template")
      .replace("{kept}", String(kept)).replace("{total}", String(all.length));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var tools = document.querySelector(".keep-tools");
    if (!tools) return;
    tools.hidden = false;
    count();
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-keep]");
    if (!button) return;
    var which = button.getAttribute("data-keep");
    boxes().forEach(function (box) {
      box.checked = which === "all" || (which === "unflagged" && !box.hasAttribute("data-flagged"));
    });
    count();
  });
  document.addEventListener("change", function (event) {
    if (event.target.name === "keep") count();
  });
})();
