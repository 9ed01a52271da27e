// The small map on a place's page (linked_data templates/thing.html): the place and its partners,
// joined by arcs, read from our SPARQL endpoint. It needs only the page's
// <div id="map" data-city="IRI" data-lat data-lon data-title data-endpoint="…/sparql"> and
// worldmap.js; without JavaScript the
// page's table says the same.
"use strict";

(() => {
  const holder = document.getElementById("map");
  if (!holder || !holder.dataset.city || !holder.dataset.endpoint || !holder.dataset.lat) return;
  const place = holder.dataset.city;
  const endpoint = holder.dataset.endpoint;
  const site = endpoint.replace(/sparql$/, "");
  const ids = place.slice(0, place.indexOf("/id/") + 4);
  const lang = document.documentElement.lang.startsWith("zh") ? "zh" : document.documentElement.lang;

  // The IRI comes from our own page (the server wrote it), so it is a proper IRI.
  const QUERY = `
PREFIX cg: <${ids.replace(/id\/$/, "ontology#")}>
PREFIX schema: <https://schema.org/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?p ?partner ?lat ?long ?pLat ?pLong (SAMPLE(?name) AS ?label) WHERE {
  ?p a cg:Partnership ; cg:partner <${place}>, ?partner .
  FILTER (?partner != <${place}>)
  <${place}> schema:latitude ?pLat ; schema:longitude ?pLong .
  ?partner schema:latitude ?lat ; schema:longitude ?long .
  OPTIONAL { ?partner rdfs:label ?name . FILTER (LANGMATCHES(LANG(?name), "${lang === "zh" ? "zh" : lang}")) }
} GROUP BY ?p ?partner ?lat ?long ?pLat ?pLong`;

  const href = (iri) => (iri.startsWith(ids) ? `${site}doc/${iri.slice(ids.length)}` : iri);

  async function main() {
    const response = await fetch(endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Accept: "application/sparql-results+json",
      },
      body: new URLSearchParams({ query: QUERY }),
    });
    if (!response.ok) throw new Error(String(response.status));
    const rows = (await response.json()).results.bindings;
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("role", "group"); // its arcs and dots are links
    holder.append(svg);
    const map = await citygraphMap.create(svg);
    // The place's own point comes from the page (a place without partners is drawn alone).
    const home = [Number(holder.dataset.lon), Number(holder.dataset.lat)];
    const name = (row) => (row.label ? row.label.value : row.partner.value.split("/").pop());
    map.drawArcs(rows.map((row) => ({
      from: home,
      to: [Number(row.long.value), Number(row.lat.value)],
      href: href(row.p.value),
      title: name(row),
    })));
    map.drawPlaces([
      { at: home, href: href(place), title: holder.dataset.title || "", chosen: true },
      ...rows.map((row) => ({
        at: [Number(row.long.value), Number(row.lat.value)],
        href: href(row.partner.value),
        title: name(row),
      })),
    ]);
    holder.dataset.state = "ready";
  }

  main().catch(() => { holder.dataset.state = "failed"; });
})();
