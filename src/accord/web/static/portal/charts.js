// Accord portal: charts of counts per day, drawn with uPlot (vendor/uplot) from
// {"days": ["YYYY-MM-DD", ...], "NAME": [counts...]}: in a page's JSON block
// (<div data-chart="ID-OF-JSON-BLOCK" data-series="NAME">), or in the element itself
// (data-chart-json='{...}'), as a fragment swapped in by htmx must carry it: htmx removes
// a fragment's <script> elements (allowScriptTags is off). The same numbers are on the page as a
// table (in a <details> that is open without JavaScript, and closed once a chart is drawn).
// No inline code anywhere: the page's CSP allows only this node's scripts.
(function () {
  "use strict";

  var HEIGHT = 160;
  var drawn = [];
  // Counts are whole numbers: the y axis steps by 1, 2, 5, 10, 20, 50, ...
  var STEPS = [];
  for (var power = 1; power <= 1e9; power *= 10) STEPS.push(power, 2 * power, 5 * power);
  var numbers = new Intl.NumberFormat(document.documentElement.lang || undefined, {
    notation: "compact", maximumFractionDigits: 1
  });
  // The days under the chart in the page's language (uPlot's own names are English).
  var DAY = 86400;
  var DAY_STEPS = [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY, 91 * DAY, 365 * DAY];
  var days = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    day: "numeric", month: "short", timeZone: "UTC"
  });

  function colour(name, fallback) {
    var found = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return found || fallback;
  }

  function draw(box) {
    var inline = box.getAttribute("data-chart-json");
    var source = inline === null ? document.getElementById(box.getAttribute("data-chart")) : null;
    if (inline === null && !source) return;
    var data = JSON.parse(inline === null ? source.textContent : inline);
    var counts = data[box.getAttribute("data-series")];
    if (!data.days || !data.days.length || !counts) return;
    // Days are UTC days: at midnight UTC, and labelled in UTC whatever the reader's zone.
    var figure = box.closest("figure");
    if (figure) figure.classList.add("shown"); // shown before it is measured
    var xs = data.days.map(function (day) { return Date.parse(day + "T00:00:00Z") / 1000; });
    var stroke = colour("--accent", "#0b5cad");
    var options = {
      width: Math.max(box.clientWidth, 240),
      height: HEIGHT,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } }
      },
      axes: [{
        incrs: DAY_STEPS,
        values: function (u, splits) { return splits.map(function (v) { return days.format(new Date(v * 1000)); }); }
      }, {
        size: 56,
        incrs: STEPS,
        values: function (u, splits) { return splits.map(function (v) { return numbers.format(v); }); }
      }],
      series: [
        {},
        {
          stroke: stroke,
          fill: stroke + "55",
          width: 1,
          paths: uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.9, 12] }) : undefined,
          points: { show: false }
        }
      ]
    };
    var chart = new uPlot(options, [xs, counts], box);
    box.setAttribute("data-drawn", "true");
    drawn.push({ box: box, chart: chart });
  }

  function drawAll(root) {
    if (typeof window.uPlot !== "function") return; // no library: the tables stay open
    var boxes = root.querySelectorAll("[data-chart]:not([data-drawn]), [data-chart-json]:not([data-drawn])");
    Array.prototype.forEach.call(boxes, function (box) {
      try { draw(box); } catch (error) { /* a chart that cannot be drawn leaves its table */ }
    });
    Array.prototype.forEach.call(root.querySelectorAll("details.chart-table:not([data-closed])"), function (details) {
      if (details.parentNode.querySelector("[data-drawn]")) {
        details.open = false;
        details.setAttribute("data-closed", "true"); // once: a reader may open it again
      }
    });
  }

  function resize() {
    drawn = drawn.filter(function (item) { return document.body.contains(item.box); });
    drawn.forEach(function (item) {
      item.chart.setSize({ width: Math.max(item.box.clientWidth, 240), height: HEIGHT });
    });
  }

  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(resize, 150);
  });
  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  // Content swapped in by htmx (a look-up's answer card) brings its own charts.
  document.addEventListener("htmx:load", function () { drawAll(document); });
})();
