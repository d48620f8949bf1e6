// Accord portal: the object page's relationship graph (cytoscape.js) and its "Copy JSON"
// button. The page reads fully without them: the graph's nodes are listed in the table
// below it, and the JSON has its own links.
//
// The graph starts from the page's own neighbourhood (<script id="graph-data">, what
// /objects/{id}/graph.json answers); clicking a node asks for that node's graph.json and
// adds what is new, clicking it again opens its page. Only what the server sent is drawn:
// it answers only objects the reader may see.
(function () {
  "use strict";

  // TLP 2.0 colours (https://www.first.org/tlp/), as the badges: the colour on black.
  var TLP_COLOURS = {
    clear: "#ffffff", green: "#33ff00", amber: "#ffc000", "amber-strict": "#ffc000",
    red: "#ff2b2b", unknown: "#ffffff"
  };
  // A shape per kind of object, so that colour is not the only thing that tells them apart.
  var SHAPES = {
    indicator: "diamond", malware: "hexagon", tool: "hexagon", "intrusion-set": "star",
    "threat-actor": "star", campaign: "pentagon", "attack-pattern": "triangle",
    report: "rectangle", grouping: "rectangle", note: "rectangle", opinion: "rectangle",
    identity: "ellipse", sighting: "tag", "observed-data": "round-rectangle",
    vulnerability: "vee", infrastructure: "octagon", location: "barrel"
  };
  var MAX_LABEL = 28;

  function shortLabel(text) {
    text = String(text || "");
    return text.length > MAX_LABEL ? text.slice(0, MAX_LABEL - 1) + "…" : text;
  }

  function nodeElement(node) {
    var data = Object.assign({}, node.data);
    data.colour = TLP_COLOURS[data.tlp_class] || TLP_COLOURS.unknown;
    data.shape = SHAPES[data.type] || "ellipse";
    data.short = shortLabel(data.label);
    return { group: "nodes", data: data };
  }

  function edgeElement(edge) {
    return { group: "edges", data: Object.assign({}, edge.data) };
  }

  function styles() {
    return [
      { selector: "node", style: {
        "background-color": "#0d1b2a", "border-width": 3, "border-color": "data(colour)",
        shape: "data(shape)", width: 22, height: 22, label: "data(short)", "font-size": 10,
        color: "#1b1f24", "text-valign": "bottom", "text-margin-y": 3,
        "text-background-color": "#ffffff", "text-background-opacity": 0.8,
        "text-background-padding": 1, "min-zoomed-font-size": 6
      } },
      { selector: "node[?center]", style: { width: 34, height: 34, "border-width": 5, "font-weight": "bold" } },
      { selector: "node.expanded", style: { "border-style": "double", "border-width": 6 } },
      { selector: "node:selected", style: { "overlay-color": "#0b5cad", "overlay-opacity": 0.2, "overlay-padding": 6 } },
      { selector: "edge", style: {
        width: 1.2, "line-color": "#8c959f", "target-arrow-color": "#8c959f",
        "target-arrow-shape": "triangle", "curve-style": "bezier", label: "data(label)",
        "font-size": 8, color: "#57606a", "text-rotation": "autorotate",
        "min-zoomed-font-size": 8
      } }
    ];
  }

  // The layout: force-directed (cose, built into cytoscape) for a readable picture, without
  // animation; bench/web_graph.py times it on 500 nodes in headless Chromium.
  function layoutOptions(count) {
    return {
      name: "cose", animate: false, randomize: false, fit: true, padding: 24,
      nodeRepulsion: function () { return 8000; }, idealEdgeLength: function () { return 60; },
      numIter: count > 300 ? 400 : 1000, nodeDimensionsIncludeLabels: false
    };
  }

  // A small graph fitted to the box would be drawn huge: no closer than life size.
  function settle(cy) {
    if (cy.zoom() > 1.2) {
      cy.zoom(1.2);
      cy.center();
    }
  }

  function addElements(cy, graph, around) {
    var fresh = [];
    graph.nodes.forEach(function (node) {
      if (cy.getElementById(node.data.id).empty()) fresh.push(nodeElement(node));
    });
    var edges = [];
    graph.edges.forEach(function (edge) {
      if (cy.getElementById(edge.data.id).empty()) edges.push(edgeElement(edge));
    });
    if (around) {
      // New nodes start in a ring around the node they came from, so that the layout
      // (randomize: false) settles them beside it.
      var centre = around.position();
      fresh.forEach(function (element, index) {
        var angle = (2 * Math.PI * index) / Math.max(fresh.length, 1);
        element.position = { x: centre.x + 80 * Math.cos(angle), y: centre.y + 80 * Math.sin(angle) };
      });
    }
    cy.add(fresh.concat(edges));
    return fresh.length + edges.length;
  }

  function mount(container, graph) {
    var started = performance.now();
    var count = graph.nodes.length;
    var cy = cytoscape({
      container: container,
      elements: [],
      style: styles(),
      minZoom: 0.1,
      maxZoom: 4
    });
    addElements(cy, graph, null);
    cy.nodes().forEach(function (node, index) {
      var angle = (2 * Math.PI * index) / Math.max(count, 1);
      var radius = node.data("center") ? 0 : 40 + 6 * Math.sqrt(count) * 10;
      node.position({ x: radius * Math.cos(angle), y: radius * Math.sin(angle) });
    });
    cy.getElementById(graph.center).addClass("expanded");
    cy.layout(layoutOptions(count)).run();
    settle(cy);
    container.setAttribute("data-layout-ms", String(Math.round(performance.now() - started)));
    return cy;
  }

  function expand(cy, node, container) {
    container.setAttribute("aria-busy", "true");
    var url = "/objects/" + encodeURIComponent(node.id()) + "/graph.json";
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        if (!answer.ok) throw new Error(String(answer.status));
        return answer.json();
      })
      .then(function (graph) {
        node.addClass("expanded");
        if (addElements(cy, graph, node)) {
          cy.layout(layoutOptions(cy.nodes().length)).run();
          settle(cy);
        }
        container.setAttribute("data-nodes", String(cy.nodes().length));
      })
      .catch(function () { node.addClass("expanded"); })
      .then(function () { container.removeAttribute("aria-busy"); });
  }

  function start() {
    var container = document.getElementById("graph");
    var source = document.getElementById("graph-data");
    if (!container || !source || typeof cytoscape !== "function") return;
    var graph = JSON.parse(source.textContent);
    container.hidden = false;
    var help = document.getElementById("graph-help");
    if (help) help.hidden = false;
    var cy = mount(container, graph);
    container.setAttribute("data-nodes", String(cy.nodes().length));
    cy.on("tap", "node", function (event) {
      var node = event.target;
      if (node.hasClass("expanded")) {
        window.location.assign("/objects/" + encodeURIComponent(node.id()));
      } else {
        expand(cy, node, container);
      }
    });
  }

  function copyButton() {
    var button = document.getElementById("copy-json");
    var status = document.getElementById("copy-status");
    if (!button || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      // The clipboard takes a promise of the text, so the copy stays within the click.
      var text = fetch(button.getAttribute("data-source"), { credentials: "same-origin" })
        .then(function (answer) { return answer.text(); });
      var done = window.ClipboardItem
        ? navigator.clipboard.write([new ClipboardItem({ "text/plain": text.then(function (t) { return new Blob([t], { type: "text/plain" }); }) })])
        : text.then(function (t) { return navigator.clipboard.writeText(t); });
      done.then(
        function () { status.textContent = button.getAttribute("data-copied"); },
        function () { status.textContent = button.getAttribute("data-failed"); }
      );
    });
  }

  window.AccordGraph = { mount: mount, layoutOptions: layoutOptions };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { start(); copyButton(); });
  } else {
    start();
    copyButton();
  }
})();
