// The query UI: YASGUI (served from /assets/vendor, no CDN) against our own /sparql, the files
// of queries/ in a grouped, searchable menu, and a "Map" result view for results that carry
// coordinates.
"use strict";

(() => {
  const { config, docHref, text, select, taggedLabels } = citygraph;
  const Yasgui = window.Yasgui.default || window.Yasgui;

  // Coordinates in a result: ?lat/?long pairs sharing a prefix (?aLat ?aLong), or
  // geo:wktLiteral POINT(lon lat) values.
  const LAT = /^(.*?)(lat|latitude)$/i;
  const LON = /^(long|lon|lng|longitude)$/i;
  const POINT = /^\s*POINT\s*\(\s*(-?[\d.]+)\s+(-?[\d.]+)\s*\)\s*$/i;

  function coordinates(variables, rows) {
    const pairs = [];
    for (const v of variables) {
      const match = LAT.exec(v);
      const lon = match && variables.find((w) => w.startsWith(match[1])
        && LON.test(w.slice(match[1].length)));
      if (lon) pairs.push([v, lon]);
    }
    const wkt = variables.filter((v) => rows.some((r) => r[v] && /wktLiteral$/.test(r[v].datatype || "")));
    const rowPoints = rows.map((row) => {
      const terms = variables.map((v) => row[v]).filter(Boolean);
      const iri = terms.find((t) => t.type === "uri");
      // named by the row's words (a place's name), not by its numbers, points or IRIs
      const words = terms.filter((t) => t.type !== "uri" && !/^-?[\d.]+$/.test(t.value)
        && !/wktLiteral$/.test(t.datatype || "")).map((t) => t.value);
      const title = words.slice(0, 2).join(" · ") || (iri ? iri.value : "");
      const href = iri ? docHref(iri.value) : undefined;
      const points = pairs.filter(([lat, lon]) => row[lat] && row[lon])
        .map(([lat, lon]) => [Number(row[lon].value), Number(row[lat].value)]);
      for (const v of wkt) {
        const m = POINT.exec(row[v] ? row[v].value : "");
        if (m) points.push([Number(m[1]), Number(m[2])]);
      }
      // the same point twice (?lat ?long and its WKT) is one point
      const distinct = points.filter((p, i) => p.every(Number.isFinite)
        && points.findIndex((q) => q[0] === p[0] && q[1] === p[1]) === i);
      return { points: distinct, href, title };
    });
    return rowPoints.filter((r) => r.points.length);
  }

  class ResultsMap {
    constructor(yasr) {
      this.yasr = yasr;
      this.priority = 5;
      this.label = text("results_map");
    }

    rows() {
      const results = this.yasr.results;
      if (!results || !results.getBindings || !results.getBindings()) return [];
      return coordinates(results.getVariables(), results.getBindings());
    }

    canHandleResults() {
      return this.rows().length > 0;
    }

    async draw() {
      const holder = document.createElement("div");
      holder.id = "cg-results-map";
      const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("role", "group"); // its arcs and dots are links
      svg.setAttribute("aria-label", text("results_map"));
      // the map page's zoom buttons, which a keyboard reaches (wheel, drag and clusters too)
      const zoom = document.createElement("div");
      zoom.className = "zoom";
      zoom.setAttribute("role", "group");
      zoom.setAttribute("aria-label", text("zoom"));
      const buttons = [["+", "zoom_in"], ["−", "zoom_out"], [text("zoom_reset"), ""]].map(([shown, name]) => {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = shown;
        if (name) button.setAttribute("aria-label", text(name));
        zoom.append(button);
        return button;
      });
      holder.append(zoom, svg);
      this.yasr.resultsEl.append(holder);
      const map = await citygraphMap.create(svg);
      buttons[0].addEventListener("click", () => map.zoomBy(1.5));
      buttons[1].addEventListener("click", () => map.zoomBy(1 / 1.5));
      buttons[2].addEventListener("click", () => map.reset());
      const rows = this.rows();
      // Two points in a row (a partnership's two partners): an arc between them.
      map.drawArcs(rows.filter((r) => r.points.length === 2)
        .map((r) => ({ from: r.points[0], to: r.points[1], href: r.href, title: r.title })));
      map.drawPlaces(rows.flatMap((r) => r.points.map((at) => ({ at, href: r.href, title: r.title }))));
    }

    getIcon() {
      const icon = document.createElement("span");
      icon.textContent = "◍";
      return icon;
    }
  }

  Yasgui.Yasr.registerPlugin("citygraphMap", ResultsMap);
  // Arrays are set, not merged: YASGUI merges configuration objects index by index.
  Yasgui.Yasr.defaults.pluginOrder = ["table", "response", "citygraphMap"];
  // The "property" and "class" autocompleters ask lov.linkeddata.es: off, so the UI is offline.
  Yasgui.Yasqe.defaults.autocompleters = ["prefixes", "variables"];

  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: config.endpoint, method: "POST" },
    // IRIs in results as prefixed names (city:de-berlin, xsd:date) with every prefix of the
    // data, not only those the query declares (the query's own win).
    yasr: { prefixes: config.prefixes || {} },
    copyEndpointOnNewTab: true,
    persistenceId: null,
    autofocus: false,
    endpointCatalogueOptions: { getData: () => [{ endpoint: config.endpoint }] },
  });

  // The examples: a grouped menu (server-rendered <select> with <optgroup>s) and a filter,
  // instead of one YASGUI tab per file; choosing one puts it in the editor.
  const menu = document.getElementById("example-menu");
  const filter = document.getElementById("example-filter");
  const byFile = new Map(config.examples.map((e) => [e.file, e]));
  function choose(file) {
    const example = byFile.get(file);
    if (example) yasgui.getTab().setName(example.name).setQuery(example.query);
  }
  if (config.examples.length) {
    document.getElementById("examples").hidden = false;
    choose(menu.value);
    menu.addEventListener("change", () => choose(menu.value));
    filter.addEventListener("input", () => {
      const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      let firstShown = null;
      for (const option of menu.options) {
        const e = byFile.get(option.value);
        const haystack = `${e.name} ${e.description} ${e.file}`.toLowerCase();
        option.hidden = !words.every((w) => haystack.includes(w));
        if (!option.hidden && firstShown === null) firstShown = option;
      }
      for (const group of menu.querySelectorAll("optgroup")) {
        group.hidden = [...group.children].every((o) => o.hidden);
      }
      if (firstShown && menu.selectedOptions[0]?.hidden) {
        menu.value = firstShown.value;
        choose(menu.value);
      }
    });
  }
  // Accessibility (issue 13 §4, axe-core): the examples menu replaces the tab list (whose
  // "add tab" button is not a tab), the editor's input gets a name, and its scroll area can be
  // reached by keyboard.
  function accessible() {
    for (const list of document.querySelectorAll("#yasgui .tabsList")) list.remove();
    for (const area of document.querySelectorAll("#yasgui textarea:not([aria-label])")) {
      area.setAttribute("aria-label", text("query_editor"));
    }
    for (const scroll of document.querySelectorAll("#yasgui .CodeMirror-scroll:not([tabindex=\"0\"])")) {
      scroll.setAttribute("tabindex", "0");
    }
  }
  accessible();
  new MutationObserver(accessible).observe(document.getElementById("yasgui"), { childList: true, subtree: true });

  // IRIs in the results link to this server's pages (/doc/…) rather than to the canonical
  // addresses, which lead to the public deployment and not to the data being queried here; and
  // they read as names: the link shows the thing's label in the reader's language (marked when
  // it is in another one), its prefixed name beside it.
  const ids = `${config.baseIri}id/`;
  const named = new Map(); // IRI -> {text, lang} or null (asked, no label)

  function nameLinks() {
    for (const a of document.querySelectorAll(`#yasgui a.iri[href^="${ids}"]`)) {
      a.dataset.iri = a.getAttribute("href");
      a.href = docHref(a.dataset.iri);
    }
    const links = [...document.querySelectorAll("#yasgui td a.iri[data-iri]:not([data-named])")];
    const missing = [...new Set(links.map((a) => a.dataset.iri))].filter((iri) => !named.has(iri));
    for (const iri of missing) named.set(iri, null);
    const show = () => {
      for (const a of links) {
        const label = named.get(a.dataset.iri);
        if (!label || a.dataset.named) continue;
        a.dataset.named = "";
        const curie = document.createElement("span");
        curie.className = "curie";
        curie.textContent = a.textContent;
        a.textContent = label.text;
        if (label.lang) {
          a.lang = label.lang;
          a.classList.add("fallback");
        }
        a.after(curie);
      }
    };
    if (!missing.length) { show(); return; }
    const batches = [];
    for (let i = 0; i < missing.length; i += 400) batches.push(missing.slice(i, i + 400));
    Promise.all(batches.map((batch) => select(`SELECT ?s ?label WHERE {
  VALUES ?s { ${batch.map((iri) => `<${iri}>`).join(" ")} }
  ?s rdfs:label|skos:prefLabel ?label . }`))).then((answers) => {
      for (const rows of answers) for (const [iri, label] of taggedLabels(rows)) named.set(iri, label);
      show();
    }).catch(() => {}); // without names the prefixed names stay: nothing is lost
  }
  new MutationObserver(nameLinks).observe(document.getElementById("yasgui"), { childList: true, subtree: true });

  window.citygraphYasgui = yasgui;
})();
