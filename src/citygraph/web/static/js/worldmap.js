// A small world map in SVG with d3-geo and world-atlas (Natural Earth 1:110m), no tiles and no
// network beyond this server: countries, great-circle arcs between partners, and places.
// Used by the /map page and by the query UI's "Map" result view.
"use strict";

window.citygraphMap = (() => {
  const WIDTH = 960;
  const HEIGHT = 500;
  // Places closer than this many CSS pixels at the current zoom merge into one cluster.
  const CLUSTER = 34;
  // The closest zoom; there, places still in a cluster are spread on a ring instead.
  const MAX_ZOOM = 64;
  // The atlas sits next to this script (/assets/js/ → /assets/vendor/), so any page can use it.
  const ATLAS = new URL("../vendor/countries-110m.json", document.currentScript.src).href;
  let atlas = null;
  // Interface texts from the page's configuration (common.js), English when a page has none.
  const ENGLISH = { cluster_places: "{n} places: {names}" };
  function say(name, values) {
    const template = window.citygraph?.config?.text?.[name] || ENGLISH[name];
    return template.replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));
  }

  function countries() {
    if (!atlas) {
      atlas = fetch(ATLAS)
        .then((response) => response.json())
        .then((topology) => topojson.feature(topology, topology.objects.countries).features);
    }
    return atlas;
  }

  // Draws the base map into `svgElement` and resolves to {drawArcs, drawPlaces}.
  async function create(svgElement) {
    const svg = d3.select(svgElement).attr("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
    const projection = d3.geoEqualEarth().fitExtent(
      [[4, 4], [WIDTH - 4, HEIGHT - 4]],
      { type: "Sphere" },
    );
    const path = d3.geoPath(projection);
    // Presentation attributes, not CSS: the map looks right on any page, and a page's
    // style sheet still wins over them.
    svg.append("path").attr("class", "sphere").attr("d", path({ type: "Sphere" }))
      .attr("fill", "#f8fafc").attr("stroke", "#d5d9de");
    svg.append("g").attr("class", "countries")
      .selectAll("path")
      .data(await countries())
      .join("path")
      .attr("class", "country")
      .attr("d", path)
      .attr("fill", "#e3e8ee").attr("stroke", "#fff").attr("stroke-width", 0.5)
      .attr("vector-effect", "non-scaling-stroke");
    const arcLayer = svg.append("g").attr("class", "arcs")
      .attr("fill", "none").attr("stroke", "#c0392b").attr("stroke-width", 1.4)
      .attr("stroke-opacity", 0.75);
    const placeLayer = svg.append("g").attr("class", "places")
      .attr("stroke", "#fff").attr("stroke-width", 0.7);

    // arcs: [{from: [lon, lat], to: [lon, lat], href, title}], one <a><path class="arc"> each.
    function drawArcs(arcs) {
      const links = arcLayer.selectAll("a").data(arcs).join((enter) => {
        const a = enter.append("a");
        // a hairline at any zoom (vector-effect is not inherited from the group)
        a.append("path").attr("class", "arc").attr("vector-effect", "non-scaling-stroke")
          .append("title");
        return a;
      });
      links.attr("href", (d) => d.href);
      links.select("path")
        .attr("d", (d) => path({ type: "LineString", coordinates: [d.from, d.to] }))
        .select("title").text((d) => d.title);
    }

    // places: [{at: [lon, lat], href, title, chosen}]. Each is a link, <a><circle class="place">,
    // unless it lies within CLUSTER css pixels of others at the current zoom: then they share
    // one <g class="cluster"> (a disc with their number) that names them on hover and focus and
    // zooms in on them when clicked (or Enter). Chosen places are never merged. Clusters are
    // made here, in the browser, from the points already drawn: no request, no tiles.
    // Places at the same spot (Berlin and East Berlin) are one unit: they never merge with each
    // other into a cluster, but sit around their spot on a small ring when shown one by one.
    let units = [];
    function drawPlaces(places) {
      const bySpot = new Map();
      for (const d of places) {
        const xy = projection(d.at);
        if (!xy || !xy.every(Number.isFinite)) continue;
        const spot = `${xy[0].toFixed(1)},${xy[1].toFixed(1)}`;
        if (!bySpot.has(spot)) bySpot.set(spot, { xy, members: [], chosen: false });
        const u = bySpot.get(spot);
        u.members.push({ ...d, xy });
        u.chosen = u.chosen || Boolean(d.chosen);
      }
      units = [...bySpot.values()];
      renderPlaces();
    }

    // Map units per CSS pixel at the current zoom (the SVG scales with its box).
    function unit() {
      return view.w / (svgElement.getBoundingClientRect().width || WIDTH);
    }

    // Greedy grouping of units on a grid of `radius`: each joins the first group whose first
    // unit is within `radius`, else starts one; linear in the number of places. A unit with a
    // chosen place stays alone.
    function cluster(radius) {
      const groups = [];
      const grid = new Map();
      for (const u of units) {
        const [cx, cy] = [Math.floor(u.xy[0] / radius), Math.floor(u.xy[1] / radius)];
        let home = null;
        for (let i = -1; i <= 1 && !home && !u.chosen; i += 1) {
          for (let j = -1; j <= 1 && !home; j += 1) {
            home = (grid.get(`${cx + i},${cy + j}`) || [])
              .find((g) => Math.hypot(g.xy[0] - u.xy[0], g.xy[1] - u.xy[1]) <= radius) || null;
          }
        }
        if (home) {
          home.units.push(u);
        } else {
          const g = { xy: u.xy, units: [u] };
          groups.push(g);
          if (!u.chosen) grid.set(`${cx},${cy}`, [...(grid.get(`${cx},${cy}`) || []), g]);
        }
      }
      for (const g of groups) {
        g.members = g.units.flatMap((u) => u.members);
        g.x = g.members.reduce((sum, d) => sum + d.xy[0], 0) / g.members.length;
        g.y = g.members.reduce((sum, d) => sum + d.xy[1], 0) / g.members.length;
      }
      return groups;
    }

    function clusterName(g) {
      const names = [...new Set(g.members.map((d) => d.title).filter(Boolean))]
        .sort((a, b) => a.localeCompare(b));
      const shown = names.slice(0, 4).join(", ") + (names.length > 4 ? ", …" : "");
      return say("cluster_places", { n: g.members.length, names: shown });
    }

    function renderPlaces() {
      const k = unit();
      const groups = cluster(CLUSTER * k);
      const closest = view.w <= WIDTH / MAX_ZOOM + 1e-9; // no zooming further: spread them
      const clusters = closest ? [] : groups.filter((g) => g.units.length > 1);
      const spread = closest ? groups : groups.filter((g) => g.units.length === 1);
      const singles = spread.flatMap((g) => g.members);
      for (const g of spread) {
        g.members.forEach((d, i) => { // around their common spot when there are several
          const angle = (2 * Math.PI * i) / g.members.length - Math.PI / 2;
          const ring = g.members.length > 1 ? 8 * k * Math.max(1, g.members.length / 5) : 0;
          d.shown = [g.x + ring * Math.cos(angle), g.y + ring * Math.sin(angle)];
        });
      }
      nameLayer.selectAll("*").remove();

      const links = placeLayer.selectAll("a").data(singles).join((enter) => {
        const a = enter.append("a");
        // An invisible disc around each dot: a tap target of at least 24 CSS pixels
        // (WCAG 2.5.8) at whatever size and zoom the map is drawn.
        a.append("circle").attr("class", "hit").attr("fill", "transparent").attr("stroke", "none");
        a.append("circle").attr("class", "place").append("title");
        return a;
      });
      links.attr("href", (d) => d.href).attr("aria-label", (d) => d.title || null);
      links.select("circle.hit").attr("cx", (d) => d.shown[0]).attr("cy", (d) => d.shown[1])
        .attr("r", 12 * k);
      links.select("circle.place")
        .attr("cx", (d) => d.shown[0])
        .attr("cy", (d) => d.shown[1])
        .attr("r", (d) => (d.chosen ? 5 : 3.5) * k)
        .attr("stroke-width", 0.8 * k)
        .attr("fill", (d) => (d.chosen ? "#c0392b" : "#1b1f24"))
        .classed("chosen", (d) => Boolean(d.chosen))
        .select("title").text((d) => d.title);
      // The place's name on hover and on keyboard focus (a <title> shows on hover only).
      links.on("mouseenter focus", (event, d) => showName(d.shown, d.title))
        .on("mouseleave blur", () => nameLayer.selectAll("*").remove());
      links.raise(); // chosen and single places above the clusters

      const discs = clusterLayer.selectAll("g.cluster").data(clusters).join((enter) => {
        const g = enter.append("g").attr("class", "cluster").attr("role", "button")
          .attr("tabindex", 0);
        g.append("circle").attr("fill", "#1f5f99").attr("stroke", "#fff");
        g.append("text").attr("text-anchor", "middle").attr("dominant-baseline", "central")
          .attr("fill", "#fff").attr("font-weight", 700).attr("pointer-events", "none");
        g.append("title");
        return g;
      });
      discs.attr("data-count", (g) => g.members.length)
        .attr("aria-label", (g) => clusterName(g))
        .style("cursor", "zoom-in");
      discs.select("circle").attr("cx", (g) => g.x).attr("cy", (g) => g.y)
        .attr("r", (g) => Math.min(18, 11 + Math.log2(g.members.length)) * k) // ≥ 24 px across
        .attr("stroke-width", 1.5 * k);
      discs.select("text").attr("x", (g) => g.x).attr("y", (g) => g.y)
        .attr("font-size", (g) => (g.members.length < 1000 ? 11 : 9) * k).text((g) => g.members.length);
      discs.select("title").text((g) => clusterName(g));
      discs.on("mouseenter focus", (event, g) => showName([g.x, g.y], clusterName(g)))
        .on("mouseleave blur", () => nameLayer.selectAll("*").remove())
        .on("click", (event, g) => open(g))
        .on("keydown", (event, g) => {
          if (event.key === "Enter" || event.key === " ") { event.preventDefault(); open(g); }
        });
      svgElement.dataset.clusters = String(clusters.length);
      svgElement.dataset.places = String(groups.reduce((n, g) => n + g.members.length, 0));
    }

    // Zoom to the members of a cluster (at least twice as close), so that they come apart.
    function open(g) {
      const xs = g.members.map((d) => d.xy[0]);
      const ys = g.members.map((d) => d.xy[1]);
      const pad = 30 * unit();
      const span = Math.max(Math.max(...xs) - Math.min(...xs) + 2 * pad,
        (Math.max(...ys) - Math.min(...ys) + 2 * pad) * (WIDTH / HEIGHT));
      const w = Math.min(view.w / 2, span);
      const cx = (Math.max(...xs) + Math.min(...xs)) / 2;
      const cy = (Math.max(...ys) + Math.min(...ys)) / 2;
      setView({ x: cx - w / 2, y: cy - (w * HEIGHT / WIDTH) / 2, w });
    }

    const clusterLayer = svg.append("g").attr("class", "clusters");
    placeLayer.raise();
    const nameLayer = svg.append("g").attr("class", "names").attr("pointer-events", "none");
    function showName([x, y], title) {
      nameLayer.selectAll("*").remove();
      if (!title) return;
      const k = unit();
      const label = nameLayer.append("text").attr("x", x + 8 * k).attr("y", y - 8 * k)
        .attr("font-size", 13 * k).attr("fill", "#1b1f24")
        .attr("stroke", "#fff").attr("stroke-width", 3 * k).attr("paint-order", "stroke")
        .text(title);
      if (x > view.x + view.w * 0.6) label.attr("text-anchor", "end").attr("x", x - 8 * k);
    }

    // Pan and zoom by changing the viewBox: wheel (or pinch) zooms around the pointer, dragging
    // pans, double-click zooms in; the map page's +, − and reset buttons call zoomBy/reset.
    let view = { x: 0, y: 0, w: WIDTH, h: HEIGHT };
    function setView(next) {
      const w = Math.min(WIDTH, Math.max(WIDTH / MAX_ZOOM, next.w));
      const h = w * (HEIGHT / WIDTH);
      const x = Math.min(WIDTH - w, Math.max(0, next.x));
      const y = Math.min(HEIGHT - h, Math.max(0, next.y));
      view = { x, y, w, h };
      svg.attr("viewBox", `${x} ${y} ${w} ${h}`);
      svgElement.dataset.zoom = (WIDTH / w).toFixed(2);
      if (!rendering) {
        rendering = true;
        requestAnimationFrame(() => { rendering = false; renderPlaces(); });
      }
    }
    let rendering = false;
    function toMap(event) {
      const box = svgElement.getBoundingClientRect();
      return [view.x + ((event.clientX - box.left) / box.width) * view.w,
        view.y + ((event.clientY - box.top) / box.height) * view.h];
    }
    function zoomBy(factor, at = [view.x + view.w / 2, view.y + view.h / 2]) {
      const w = view.w / factor;
      const h = w * (HEIGHT / WIDTH);
      setView({ x: at[0] - ((at[0] - view.x) / view.w) * w, y: at[1] - ((at[1] - view.y) / view.h) * h, w });
    }
    svgElement.addEventListener("wheel", (event) => {
      event.preventDefault();
      zoomBy(event.deltaY < 0 ? 1.25 : 0.8, toMap(event));
    }, { passive: false });
    svgElement.addEventListener("dblclick", (event) => zoomBy(2, toMap(event)));
    let drag = null;
    svgElement.addEventListener("pointerdown", (event) => {
      if (event.target.closest("a, .cluster")) return; // a dot, an arc or a cluster to open
      drag = { start: toMap(event), view };
    });
    svgElement.addEventListener("pointermove", (event) => {
      if (!drag) return;
      const box = svgElement.getBoundingClientRect();
      const dx = ((event.movementX || 0) / box.width) * view.w;
      const dy = ((event.movementY || 0) / box.height) * view.h;
      setView({ x: view.x - dx, y: view.y - dy, w: view.w });
    });
    for (const end of ["pointerup", "pointerleave", "pointercancel"]) {
      svgElement.addEventListener(end, () => { drag = null; });
    }

    return { drawArcs, drawPlaces, zoomBy, reset: () => setView({ x: 0, y: 0, w: WIDTH }) };
  }

  return { create };
})();
