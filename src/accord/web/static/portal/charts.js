// Accord portal: charts of counts per day, drawn with uPlot (vendor/uplot) from a page's
// JSON block: <div data-chart="ID-OF-JSON-BLOCK" data-series="NAME">, where the block holds
// {"days": ["YYYY-MM-DD", ...], "NAME": [counts...]}. The same numbers are on the page as a
// table (in a <details> that is open without JavaScript, and closed once a chart is drawn).
// No inline code anywhere: the page's CSP allows only this node's scripts.
(function () {
  "use strict";

  var HEIGHT = 160;
  var drawn = [];

  function colour(name, fallback) {
    var found = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return found || fallback;
  }

  function draw(box) {
    var source = document.getElementById(box.getAttribute("data-chart"));
    if (!source) return;
    var data = JSON.parse(source.textContent);
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
      axes: [{}, { size: 50 }],
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
    var boxes = root.querySelectorAll ? root.querySelectorAll("[data-chart]:not([data-drawn])") : [];
    Array.prototype.forEach.call(boxes, function (box) {
      try { draw(box); } catch (error) { /* a chart that cannot be drawn leaves its table */ }
    });
    Array.prototype.forEach.call(root.querySelectorAll ? root.querySelectorAll("details.chart-table") : [], function (details) {
      if (details.parentNode.querySelector("[data-chart][data-drawn]")) details.open = false;
    });
  }

  function resize() {
    drawn.forEach(function (item) {
      if (document.body.contains(item.box)) {
        item.chart.setSize({ width: Math.max(item.box.clientWidth, 240), height: HEIGHT });
      }
    });
  }

  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(resize, 150);
  });
  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  // Content swapped in by htmx (a look-up's answer card) brings its own charts.
  document.addEventListener("htmx:load", function (event) { drawAll(event.target); });
})();
