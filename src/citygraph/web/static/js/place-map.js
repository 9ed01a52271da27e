// The small map on a place's page (linked_data templates/thing.html): the place and its partners,
// joined by arcs, read from our SPARQL endpoint (common.js). It needs only the page's
// <div id="map" data-city="IRI" data-lat data-lon data-title> and worldmap.js; without
// JavaScript the page's table says the same. Partners are named in the reader's language, or
// in the one the data has, marked as such.
"use strict";

(() => {
  const holder = document.getElementById("map");
  if (!holder || !holder.dataset.city || !holder.dataset.lat) return;
  const { select, taggedLabels, marked, key, docHref } = citygraph;
  const place = holder.dataset.city;

  // The IRI comes from our own page (the server wrote it), so it is a proper IRI.
  const PARTNERS = `
SELECT DISTINCT ?p ?partner ?lat ?long WHERE {
  ?p a cg:Partnership ; cg:partner <${place}>, ?partner .
  FILTER (?partner != <${place}>)
  ?partner schema:latitude ?lat ; schema:longitude ?long .
}`;

  async function main() {
    const rows = await select(PARTNERS);
    const partners = [...new Set(rows.map((row) => row.partner.value))];
    const names = partners.length ? taggedLabels(await select(`SELECT ?s ?label WHERE {
  VALUES ?s { ${partners.map((iri) => `<${iri}>`).join(" ")} } ?s rdfs:label ?label . }`))
      : new Map();
    const name = (iri) => (names.has(iri) ? marked(names.get(iri)) : key(iri));
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("role", "group"); // its arcs and dots are links
    holder.append(svg);
    const map = await citygraphMap.create(svg);
    // The place's own point comes from the page (a place without partners is drawn alone).
    const home = [Number(holder.dataset.lon), Number(holder.dataset.lat)];
    map.drawArcs(rows.map((row) => ({
      from: home,
      to: [Number(row.long.value), Number(row.lat.value)],
      href: docHref(row.p.value),
      title: name(row.partner.value),
    })));
    map.drawPlaces([
      { at: home, href: docHref(place), title: holder.dataset.title || "", chosen: true },
      ...rows.map((row) => ({
        at: [Number(row.long.value), Number(row.lat.value)],
        href: docHref(row.partner.value),
        title: name(row.partner.value),
      })),
    ]);
    holder.dataset.state = "ready";
  }

  main().catch(() => { holder.dataset.state = "failed"; });
})();
