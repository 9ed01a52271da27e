// The /map page: partnerships from our SPARQL endpoint as arcs between the partners, filtered by
// city, country, type, status and period; each arc, place and table row links to its page.
// City, country, type and status narrow the query itself: the worldwide import holds tens of
// thousands of partnerships, too many to fetch at once. Without a city or a country the map shows
// the curated graph only.
"use strict";

(() => {
  const {
    config, select, value, taggedLabels, marked, key, docHref, year, text, cell,
  } = citygraph;
  const base = config.baseIri;
  const form = document.getElementById("filters");
  const svg = document.getElementById("worldmap");
  const caption = document.getElementById("map-caption");
  const table = document.getElementById("partnerships");
  // Hidden in the HTML: without JavaScript they would be an empty form and an empty map.
  form.hidden = false;
  document.getElementById("figure").hidden = false;

  // Only keys of this shape reach a query (they become IRIs: <…/id/city/KEY>).
  const KEY = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

  function filters() {
    const data = new FormData(form);
    const keyOf = (name) => {
      const v = String(data.get(name) || "").trim().toLowerCase();
      return KEY.test(v) ? v : "";
    };
    const number = (name) => (/^\d{1,4}$/.test(data.get(name) || "") ? Number(data.get(name)) : null);
    return {
      city: keyOf("city"), country: keyOf("country"), type: keyOf("type"),
      status: keyOf("status"), from: number("from"), to: number("to"),
    };
  }

  function partnershipsQuery(f) {
    const lines = [];
    if (f.city) {
      const places = ["city", "region", "district"].map((kind) => `<${base}id/${kind}/${f.city}>`);
      lines.push(`VALUES ?place { ${places.join(" ")} }`, "?p cg:partner ?place .");
    }
    if (f.country) lines.push(`?p cg:partner/cg:country <${base}id/country/${f.country}> .`);
    if (!f.city && !f.country) lines.push(`GRAPH <${base}graph/curated> { ?p a cg:Partnership }`);
    if (f.type) lines.push(`?p cg:partnershipType <${base}vocab/partnership-type/${f.type}> .`);
    if (f.status) lines.push(`?p cg:status <${base}vocab/status/${f.status}> .`);
    return `
SELECT ?p ?a ?b ?type ?status ?start ?end ?aLat ?aLong ?bLat ?bLong WHERE {
  ${lines.join("\n  ")}
  ?p a cg:Partnership ; cg:partner ?a, ?b .
  FILTER (STR(?a) < STR(?b))
  OPTIONAL { ?p cg:partnershipType ?type }
  OPTIONAL { ?p cg:status ?status }
  OPTIONAL { ?p cg:startDate ?start }
  OPTIONAL { ?p cg:endDate ?end }
  OPTIONAL { ?a schema:latitude ?aLat ; schema:longitude ?aLong }
  OPTIONAL { ?b schema:latitude ?bLat ; schema:longitude ?bLong }
}`;
  }

  // Labels of the IRIs in a result (they come from our endpoint, so they are proper IRIs).
  function labelsQuery(iris) {
    return `SELECT ?s ?label WHERE {
  VALUES ?s { ${iris.map((iri) => `<${iri}>`).join(" ")} }
  ?s rdfs:label|skos:prefLabel ?label .
}`;
  }

  // The labels of many IRIs (a country's worldwide partnerships name thousands of places), a few
  // hundred per query so that each stays far below the endpoint's limit on query length.
  async function labelsOf(iris) {
    const names = new Map();
    for (let i = 0; i < iris.length; i += 400) {
      const batch = taggedLabels(await select(labelsQuery(iris.slice(i, i + 400))));
      for (const [iri, name] of batch) names.set(iri, name);
    }
    return names;
  }

  const OPTIONS = {
    city: `SELECT DISTINCT ?s ?label WHERE {
  GRAPH <${base}graph/curated> { [] cg:partner ?s } ?s rdfs:label ?label . }`,
    country: `SELECT DISTINCT ?s ?label WHERE {
  { SELECT DISTINCT ?s WHERE { [] cg:country ?s } } ?s rdfs:label ?label . }`,
    type: `SELECT ?s ?label WHERE {
  ?s skos:inScheme <${base}vocab/partnership-type> ; skos:prefLabel ?label . }`,
    status: `SELECT ?s ?label WHERE {
  ?s skos:inScheme <${base}vocab/status> ; skos:prefLabel ?label . }`,
  };

  // The city filter: the reader sees and types names, the query and the address use keys.
  const cityName = document.getElementById("city-name");
  const cityList = document.getElementById("cities");
  const cityKeys = new Map(); // name as offered -> key
  const PLACE_CLASSES = ["City", "Region", "District"].map((c) => `${base}ontology#${c}`);

  function offerCity(name, cityKey) {
    const shown = cityKeys.has(name) && cityKeys.get(name) !== cityKey ? `${name} (${cityKey})` : name;
    if (cityKeys.has(shown)) return;
    cityKeys.set(shown, cityKey);
    cityList.append(new Option(shown, shown));
  }

  // Places whose names start like `q`, in any language and in the worldwide layer (/search).
  async function searchPlaces(q, limit) {
    const url = new URL(`${config.site}search`);
    url.search = new URLSearchParams({ q, format: "json", limit: String(limit), lang: config.lang });
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) return [];
    return (await response.json()).results.filter((r) => PLACE_CLASSES.includes(r.kind));
  }

  let typing = 0;
  cityName.addEventListener("input", () => {
    clearTimeout(typing);
    const q = cityName.value.trim();
    if (!q || cityKeys.has(cityName.value)) return;
    typing = setTimeout(async () => {
      for (const r of await searchPlaces(q, 8)) offerCity(r.label, key(r.iri));
    }, 150);
  });

  // The key for what is in the name box: an offered name, a key typed as such, or the first
  // place that /search finds for the text ("" when the box is empty or nothing is found).
  async function resolveCity() {
    const typed = cityName.value.trim();
    if (!typed) return "";
    if (cityKeys.has(typed)) return cityKeys.get(typed);
    if (KEY.test(typed) && /^[a-z]{2}-/.test(typed)) return typed;
    const [first] = await searchPlaces(typed, 1);
    return first ? key(first.iri) : "";
  }

  async function fillOptions() {
    await Promise.all(Object.entries(OPTIONS).map(async ([name, query]) => {
      const names = new Map([...taggedLabels(await select(query))]
        .map(([iri, label]) => [iri, marked(label)]));
      const sorted = [...names].sort((x, y) => x[1].localeCompare(y[1], config.lang));
      if (name === "city") {
        for (const [iri, label] of sorted) offerCity(label, key(iri));
        const chosen = form.elements.city.value;
        const offered = [...cityKeys].find(([, k]) => k === chosen);
        if (offered) cityName.value = offered[0];
        return;
      }
      const element = form.elements[name];
      for (const [iri, label] of sorted) element.append(new Option(label, key(iri)));
      element.value = element.dataset.value || "";
    }));
  }

  // One record per partnership (one with two start dates would give two rows: keep one).
  function records(rows) {
    const byIri = new Map();
    for (const row of rows) {
      const iri = value(row, "p");
      if (byIri.has(iri)) continue;
      const point = (lat, lon) => (row[lat] && row[lon]
        ? [Number(value(row, lon)), Number(value(row, lat))] : null);
      byIri.set(iri, {
        iri,
        partners: [value(row, "a"), value(row, "b")],
        points: [point("aLat", "aLong"), point("bLat", "bLong")],
        type: value(row, "type"), status: value(row, "status"),
        start: value(row, "start"), end: value(row, "end"),
      });
    }
    return [...byIri.values()];
  }

  // The period is checked here, on dates of any precision. Undated partnerships stay in any
  // period: nothing says they fall outside it.
  function inPeriod(r, f) {
    const start = year(r.start);
    const end = year(r.end);
    if (f.to !== null && start !== null && start >= f.to + 1) return false;
    if (f.from !== null && end !== null && end < f.from) return false;
    return true;
  }

  function show(shown, label, named, f, map) {
    const drawable = shown.filter((r) => r.points[0] && r.points[1]);
    map.drawArcs(drawable.map((r) => ({
      from: r.points[0], to: r.points[1], href: docHref(r.iri),
      title: `${label(r.partners[0])} – ${label(r.partners[1])}`,
    })));
    const places = new Map();
    for (const r of drawable) {
      r.partners.forEach((p, i) => places.set(p, {
        at: r.points[i], href: docHref(p), title: label(p), chosen: key(p) === f.city,
      }));
    }
    map.drawPlaces([...places.values()]);

    const missing = shown.length - drawable.length;
    caption.textContent = text("shown", { n: shown.length })
      + (missing ? ` (${missing} ${text("not_on_map")})` : "")
      + (!f.city && !f.country ? `. ${text("scope_curated")}` : "");
    const timeline = document.getElementById("timeline-link");
    timeline.hidden = !f.city;
    if (f.city) {
      const name = label(shown.flatMap((r) => r.partners).find((p) => key(p) === f.city) || f.city);
      timeline.firstElementChild.href = `${config.site}timeline/${f.city}?lang=${config.lang}`;
      timeline.firstElementChild.textContent = `${text("timeline")}: ${name}`;
    }
    const body = table.tBodies[0];
    body.replaceChildren();
    for (const r of shown) {
      const row = body.insertRow();
      cell(row, named(r.partners[0]), docHref(r.partners[0]));
      cell(row, named(r.partners[1]), docHref(r.partners[1]));
      cell(row, named(r.type), docHref(r.iri));
      cell(row, named(r.status));
      cell(row, r.start || text("undated"));
      cell(row, r.end);
    }
    table.hidden = false;
    svg.dataset.arcs = String(drawable.length);
    svg.dataset.state = "ready";
  }

  let latest = 0;

  async function update(map) {
    const mine = ++latest;
    svg.dataset.state = "loading";
    caption.textContent = text("loading");
    const f = filters();
    const shown = records(await select(partnershipsQuery(f))).filter((r) => inPeriod(r, f));
    const iris = new Set(shown.flatMap((r) => [...r.partners, r.type, r.status].filter(Boolean)));
    const names = await labelsOf([...iris]);
    if (mine !== latest) return; // a newer choice of filters is on its way
    // text for titles (marked when in another language), and the label for table cells
    const named = (iri) => names.get(iri) || key(iri);
    show(shown, (iri) => (names.has(iri) ? marked(names.get(iri)) : key(iri)), named, f, map);
  }

  function remember() {
    const params = new URLSearchParams();
    for (const [name, v] of new FormData(form)) if (v) params.set(name, v);
    history.replaceState(null, "", `${location.pathname}?${params}`);
  }

  function fail(error) {
    caption.textContent = `${text("failed")} (${error.message})`;
    svg.dataset.state = "failed";
  }

  async function main() {
    const [map] = await Promise.all([citygraphMap.create(svg), fillOptions()]);
    document.getElementById("zoom-in").addEventListener("click", () => map.zoomBy(1.5));
    document.getElementById("zoom-out").addEventListener("click", () => map.zoomBy(1 / 1.5));
    document.getElementById("zoom-reset").addEventListener("click", () => map.reset());
    const refresh = async () => {
      form.elements.city.value = await resolveCity();
      remember();
      await update(map);
    };
    form.addEventListener("change", () => refresh().catch(fail));
    form.addEventListener("submit", (event) => { event.preventDefault(); refresh().catch(fail); });
    await update(map);
  }

  main().catch(fail);
})();
