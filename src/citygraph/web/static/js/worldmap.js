// A small world map in SVG with d3-geo and world-atlas (Natural Earth 1:110m), no tiles and no
// network beyond this server: countries, great-circle arcs between partners, and places.
// Used by the /map page and by the query UI's "Map" result view.
"use strict";

window.citygraphMap = (() => {
  const WIDTH = 960;
  const HEIGHT = 500;
  // The atlas sits next to this script (/assets/js/ → /assets/vendor/), so any page can use it.
  const ATLAS = new URL("../vendor/countries-110m.json", document.currentScript.src).href;
  let atlas = null;

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
      .attr("fill", "#e3e8ee").attr("stroke", "#fff").attr("stroke-width", 0.5);
    const arcLayer = svg.append("g").attr("class", "arcs")
      .attr("fill", "none").attr("stroke", "#c0392b").attr("stroke-width", 1.4)
      .attr("stroke-opacity", 0.75);
    const placeLayer = svg.append("g").attr("class", "places")
      .attr("stroke", "#fff").attr("stroke-width", 0.7);

    // arcs: [{from: [lon, lat], to: [lon, lat], href, title}], one <a><path class="arc"> each.
    function drawArcs(arcs) {
      const links = arcLayer.selectAll("a").data(arcs).join((enter) => {
        const a = enter.append("a");
        a.append("path").attr("class", "arc").append("title");
        return a;
      });
      links.attr("href", (d) => d.href);
      links.select("path")
        .attr("d", (d) => path({ type: "LineString", coordinates: [d.from, d.to] }))
        .select("title").text((d) => d.title);
    }

    // places: [{at: [lon, lat], href, title, chosen}], one <a><circle class="place"> each.
    function drawPlaces(places) {
      const links = placeLayer.selectAll("a").data(places).join((enter) => {
        const a = enter.append("a");
        // An invisible disc around each dot: a tap target of at least 24 CSS pixels
        // (WCAG 2.5.8) at whatever size the map is drawn.
        a.append("circle").attr("class", "hit").attr("fill", "transparent").attr("stroke", "none");
        a.append("circle").attr("class", "place").append("title");
        return a;
      });
      links.attr("href", (d) => d.href).attr("aria-label", (d) => d.title || null);
      const drawn = svgElement.getBoundingClientRect().width || WIDTH;
      const hit = Math.max(3, 12 * (WIDTH / drawn));
      links.select("circle.hit")
        .attr("cx", (d) => projection(d.at)[0])
        .attr("cy", (d) => projection(d.at)[1])
        .attr("r", hit);
      links.select("circle.place")
        .attr("cx", (d) => projection(d.at)[0])
        .attr("cy", (d) => projection(d.at)[1])
        .attr("r", (d) => (d.chosen ? 4.5 : 3))
        .attr("fill", (d) => (d.chosen ? "#c0392b" : "#1b1f24"))
        .classed("chosen", (d) => Boolean(d.chosen))
        .select("title").text((d) => d.title);
      // The place's name on hover and on keyboard focus (a <title> shows on hover only).
      links.on("mouseenter focus", (event, d) => showName(d))
        .on("mouseleave blur", () => nameLayer.selectAll("*").remove());
    }

    const nameLayer = svg.append("g").attr("class", "names").attr("pointer-events", "none");
    function showName(d) {
      nameLayer.selectAll("*").remove();
      if (!d.title) return;
      const [x, y] = projection(d.at);
      const scale = WIDTH / (svgElement.getBoundingClientRect().width || WIDTH);
      const label = nameLayer.append("text").attr("x", x + 6 * scale).attr("y", y - 6 * scale)
        .attr("font-size", 13 * scale).attr("fill", "#1b1f24")
        .attr("stroke", "#fff").attr("stroke-width", 3 * scale).attr("paint-order", "stroke")
        .text(d.title);
      if (x > WIDTH * 0.75) label.attr("text-anchor", "end").attr("x", x - 6 * scale);
    }

    // Pan and zoom by changing the viewBox: wheel (or pinch) zooms around the pointer, dragging
    // pans, double-click zooms in; the map page's +, − and reset buttons call zoomBy/reset.
    let view = { x: 0, y: 0, w: WIDTH, h: HEIGHT };
    function setView(next) {
      const w = Math.min(WIDTH, Math.max(WIDTH / 16, next.w));
      const h = w * (HEIGHT / WIDTH);
      const x = Math.min(WIDTH - w, Math.max(0, next.x));
      const y = Math.min(HEIGHT - h, Math.max(0, next.y));
      view = { x, y, w, h };
      svg.attr("viewBox", `${x} ${y} ${w} ${h}`);
      svgElement.dataset.zoom = (WIDTH / w).toFixed(2);
    }
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
      if (event.target.closest("a")) return; // a dot or an arc: a link to follow
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
