// Accord portal: the object page's relationship graph (cytoscape.js) and its "Copy JSON"
// button. The page reads fully without them: the graph's nodes are listed in the table
// below it, and the JSON has its own links.
//
// The graph starts from the page's own object (its /objects/{id}/graph.json, named by the
// container's data-source); clicking a node asks for that node's graph.json and adds what
// is new, clicking it again opens its page. Only what the server sent is drawn: it answers
// only objects the reader may see.
(function () {
  "use strict";

  // TLP 2.0 colours (https://www.first.org/tlp/), as the badges: the colour on black.
  var TLP_COLOURS = { clear: "#ffffff", green: "#33ff00", amber: "#ffc000", red: "#ff2b2b" };
  var TLP_CLASSES = {
    "TLP:CLEAR": "clear", "TLP:GREEN": "green", "TLP:AMBER": "amber",
    "TLP:AMBER+STRICT": "amber", "TLP:RED": "red"
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

  // Colour and shape by class, not by data mappers: cytoscape styles plain values for a
  // class much faster than it maps each element's data (a third of a 500-node graph's time).
  function nodeElement(node) {
    var data = Object.assign({}, node.data);
    data.short = shortLabel(data.name || data.type);
    var classes = "tlp-" + (TLP_CLASSES[data.tlp] || "clear") + " shape-" + (SHAPES[data.type] || "ellipse");
    return { group: "nodes", data: data, classes: classes };
  }

  function edgeElement(edge) {
    return { group: "edges", data: Object.assign({}, edge.data) };
  }

  // Past SMALL nodes, only the objects opened so far and the one under the pointer are
  // named, and the edges lose their labels, arrows and curves: at that size none can be
  // read anyway, and measuring and drawing them is most of the cost. The list below the
  // graph names every one, and says which way each relationship goes.
  function styles(big) {
    var label = {
      label: "data(short)", "font-size": 10, color: "#1b1f24", "text-valign": "bottom",
      "text-margin-y": 3, "min-zoomed-font-size": 7
    };
    var node = {
      "background-color": "#0d1b2a", "border-width": 3, "border-color": TLP_COLOURS.clear,
      shape: "ellipse", width: 22, height: 22
    };
    var edge = {
      width: 1.2, "line-color": "#8c959f", "target-arrow-color": "#8c959f",
      "target-arrow-shape": big ? "none" : "triangle", "curve-style": big ? "straight" : "bezier"
    };
    if (!big) {
      Object.assign(node, label);
      Object.assign(edge, {
        label: "data(label)", "font-size": 8, color: "#57606a", "text-rotation": "autorotate",
        "min-zoomed-font-size": 8
      });
    }
    var found = [{ selector: "node", style: node }];
    Object.keys(TLP_COLOURS).forEach(function (name) {
      found.push({ selector: "node.tlp-" + name, style: { "border-color": TLP_COLOURS[name] } });
    });
    var shapes = {};
    Object.keys(SHAPES).forEach(function (kind) { shapes[SHAPES[kind]] = true; });
    Object.keys(shapes).forEach(function (shape) {
      found.push({ selector: "node.shape-" + shape, style: { shape: shape } });
    });
    return found.concat([
      { selector: "node[?center], node.expanded, node.pointed", style: label },
      { selector: "node[?center]", style: { width: 34, height: 34, "border-width": 5, "font-weight": "bold" } },
      { selector: "node.expanded", style: { "border-style": "double", "border-width": 6 } },
      { selector: "node:selected", style: { "overlay-color": "#0b5cad", "overlay-opacity": 0.2, "overlay-padding": 6 } },
      { selector: "edge", style: edge }
    ]);
  }

  // The layout. A force-directed one (cose, built into cytoscape) reads best, but its cost
  // grows with the square of the nodes: seconds past a hundred, and cytoscape's rings
  // (breadthfirst, concentric) spend most of a second on 500 nodes or draw one huge circle.
  // Beyond SMALL nodes the objects are placed here, in linear time: the page's object in
  // the middle, then one band per hop from it, each object at the angle of the object it
  // was reached from (so an expanded object's neighbours sit beside it), spread over as
  // many rings within the band as keep them apart.
  var SMALL = 40;
  var SPACING = 30; // pixels between two objects, at zoom 1

  function ringPositions(cy, root) {
    var depthOf = {};
    var parentOf = {};
    var levels = [];
    cy.elements().bfs({
      roots: cy.getElementById(root),
      directed: false,
      visit: function (node, edge, previous, index, depth) {
        depthOf[node.id()] = depth;
        parentOf[node.id()] = previous ? previous.id() : null;
        (levels[depth] = levels[depth] || []).push(node.id());
      }
    });
    var apart = cy.nodes().filter(function (node) { return depthOf[node.id()] === undefined; });
    if (apart.length) levels.push(apart.map(function (node) { return node.id(); }));
    var angleOf = {};
    var positions = {};
    var radius = 4 * SPACING;
    levels.forEach(function (ids, depth) {
      if (depth === 0) {
        ids.forEach(function (id) { angleOf[id] = 0; positions[id] = { x: 0, y: 0 }; });
        return;
      }
      ids.sort(function (a, b) { return (angleOf[parentOf[a]] || 0) - (angleOf[parentOf[b]] || 0); });
      var rings = Math.max(1, Math.ceil((ids.length * SPACING) / (2 * Math.PI * radius)));
      ids.forEach(function (id, index) {
        var angle = (2 * Math.PI * index) / ids.length;
        var r = radius + (index % rings) * SPACING;
        angleOf[id] = angle;
        positions[id] = { x: r * Math.cos(angle), y: r * Math.sin(angle) };
      });
      radius += (rings + 3) * SPACING;
    });
    return positions;
  }

  function layoutOptions(cy, root) {
    if (cy.nodes().length <= SMALL) {
      return {
        name: "cose", animate: false, randomize: false, fit: true, padding: 24,
        nodeRepulsion: function () { return 8000; }, idealEdgeLength: function () { return 60; },
        numIter: 1000
      };
    }
    var positions = ringPositions(cy, root);
    return {
      name: "preset", animate: false, fit: true, padding: 24,
      positions: function (node) { return positions[node.id()]; }
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
    var elements = graph.nodes.map(nodeElement).concat(graph.edges.map(edgeElement));
    if (count <= SMALL) {
      // cose starts from where the nodes are (randomize: false): a ring around the object.
      elements.forEach(function (element, index) {
        if (element.group !== "nodes") return;
        var angle = (2 * Math.PI * index) / count;
        var radius = element.data.center ? 0 : 120;
        element.position = { x: radius * Math.cos(angle), y: radius * Math.sin(angle) };
      });
    }
    var cy = cytoscape({
      container: container,
      elements: elements,
      style: styles(count > SMALL),
      minZoom: 0.1,
      maxZoom: 4
    });
    cy.getElementById(graph.center).addClass("expanded");
    cy.scratch("accordRoot", graph.center);
    cy.layout(layoutOptions(cy, graph.center)).run();
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
          if (cy.nodes().length > SMALL) cy.style(styles(true));
          cy.layout(layoutOptions(cy, cy.scratch("accordRoot"))).run();
          settle(cy);
        }
        container.setAttribute("data-nodes", String(cy.nodes().length));
      })
      .catch(function () { node.addClass("expanded"); })
      .then(function () { container.removeAttribute("aria-busy"); });
  }

  function start() {
    var container = document.getElementById("graph");
    if (!container || typeof cytoscape !== "function") return;
    fetch(container.getAttribute("data-source"), {
      credentials: "same-origin", headers: { Accept: "application/json" }
    })
      .then(function (answer) {
        if (!answer.ok) throw new Error(String(answer.status));
        return answer.json();
      })
      .then(function (graph) { show(container, graph); })
      .catch(function () { /* the list below the graph says it all */ });
  }

  function show(container, graph) {
    container.hidden = false;
    var help = document.getElementById("graph-help");
    if (help) help.hidden = false;
    var cy = mount(container, graph);
    window.AccordGraph.instance = cy; // for the browser tests and the console
    container.setAttribute("data-nodes", String(cy.nodes().length));
    cy.on("mouseover", "node", function (event) { event.target.addClass("pointed"); });
    cy.on("mouseout", "node", function (event) { event.target.removeClass("pointed"); });
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

  // On paper the graph is left out (object.css): the whole list of neighbours is printed.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.neighbour-list").forEach(function (d) { d.open = true; });
  });

  window.AccordGraph = { mount: mount, layoutOptions: layoutOptions };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { start(); copyButton(); });
  } else {
    start();
    copyButton();
  }
})();
