// The /timeline/{key} page: a place's partnerships on a time axis, from our SPARQL endpoint.
// One row per partnership (start to end, or to today), agreements and events as marks.
"use strict";

(() => {
  const {
    config, select, value, taggedLabels, marked, key, docHref, year, text, cell,
  } = citygraph;
  const svgElement = document.getElementById("timeline");
  const caption = document.getElementById("timeline-caption");
  const table = document.getElementById("partnerships");
  document.getElementById("figure").hidden = false; // hidden for readers without JavaScript

  // The server checked the key against a strict pattern before writing these IRIs (frontend.py).
  const places = `VALUES ?place { ${config.places.map((iri) => `<${iri}>`).join(" ")} }`;

  const PARTNERSHIPS = `
SELECT ?place ?p ?partner ?type ?status ?start ?end WHERE {
  ${places}
  ?p a cg:Partnership ; cg:partner ?place, ?partner .
  FILTER (?partner != ?place)
  OPTIONAL { ?p cg:partnershipType ?type }
  OPTIONAL { ?p cg:status ?status }
  OPTIONAL { ?p cg:startDate ?start }
  OPTIONAL { ?p cg:endDate ?end }
}`;

  const MARKS = `
SELECT DISTINCT ?p ?thing ?kind ?date WHERE {
  ${places}
  ?p cg:partner ?place .
  { ?p cg:agreement ?thing . ?thing cg:signedOn ?date . BIND ("agreement" AS ?kind) }
  UNION
  { ?thing cg:inPartnership ?p ; a cg:Event ; cg:startDate ?date . BIND ("event" AS ?kind) }
}`;

  const LABELS = `
SELECT DISTINCT ?s ?label WHERE {
  ${places}
  ?p cg:partner ?place .
  { ?p cg:partner ?s }
  UNION { ?p cg:partnershipType|cg:status|cg:agreement ?s }
  UNION { ?s cg:inPartnership ?p }
  ?s rdfs:label|skos:prefLabel|dcterms:title ?label .
}`;

  const LEFT = 230;
  const WIDTH = 960;
  const ROW = 24;
  const TOP = 28;

  function draw(rows, marks, label) {
    const now = new Date().getFullYear() + new Date().getMonth() / 12;
    const starts = rows.map((r) => year(r.start)).filter((y) => y !== null);
    const first = Math.floor(Math.min(now - 10, ...starts) / 10) * 10;
    const last = Math.ceil(now);
    const x = (y) => LEFT + ((y - first) / (last - first)) * (WIDTH - LEFT - 10);
    const height = TOP + rows.length * ROW + 8;
    const svg = d3.select(svgElement).attr("viewBox", `0 0 ${WIDTH} ${height}`);
    svg.selectAll("*").remove();

    const axis = svg.append("g").attr("class", "axis");
    for (let y = first; y <= last; y += 10) {
      axis.append("line").attr("x1", x(y)).attr("x2", x(y)).attr("y1", TOP - 6).attr("y2", height);
      axis.append("text").attr("x", x(y)).attr("y", TOP - 10).attr("text-anchor", "middle").text(y);
    }

    rows.forEach((r, i) => {
      const top = TOP + i * ROW;
      const g = svg.append("g").attr("class", "row");
      g.append("a").attr("href", docHref(r.iri))
        .append("text").attr("class", "row-label").attr("x", 4).attr("y", top + ROW / 2 + 4)
        .text(label(r.partner));
      const start = year(r.start);
      if (start === null) return;
      // An ended partnership without an end date does not run to today: its bar stops at the
      // last date known of it (its latest agreement or event) and fades out (end unknown).
      const ended = key(r.status) === "ended";
      const known = marks.filter((m) => m.p === r.iri).map((m) => year(m.date)).filter((y) => y !== null);
      const unknownEnd = ended && year(r.end) === null;
      const end = year(r.end) ?? (unknownEnd ? Math.max(start, ...known) : now);
      const until = r.end || (unknownEnd ? text("end_unknown") : text("today"));
      g.append("rect").attr("class", `bar ${key(r.status)}`)
        .attr("x", x(start)).attr("y", top + 5)
        .attr("width", Math.max(2, x(end) - x(start))).attr("height", ROW - 10)
        .append("title")
        .text(`${label(r.partner)}: ${r.start} – ${until} · ${label(r.type)}`);
      if (unknownEnd) {
        g.append("line").attr("class", "end-unknown")
          .attr("x1", x(end)).attr("x2", x(Math.min(now, end + 5)))
          .attr("y1", top + ROW / 2).attr("y2", top + ROW / 2)
          .append("title").text(text("end_unknown"));
      }
      for (const m of marks.filter((mark) => mark.p === r.iri && year(mark.date) !== null)) {
        const link = g.append("a").attr("href", docHref(m.thing));
        const cx = x(year(m.date));
        const cy = top + ROW / 2;
        const shape = m.kind === "agreement"
          ? link.append("path").attr("d", `M${cx},${cy - 6}L${cx + 6},${cy}L${cx},${cy + 6}L${cx - 6},${cy}Z`)
          : link.append("circle").attr("cx", cx).attr("cy", cy).attr("r", 4);
        shape.attr("class", m.kind)
          .append("title").text(`${text(m.kind)} ${m.date}: ${label(m.thing)}`);
      }
    });
  }

  function fillTable(rows, named) {
    const body = table.tBodies[0];
    for (const r of rows) {
      const row = body.insertRow();
      cell(row, named(r.partner), docHref(r.iri));
      cell(row, named(r.type));
      cell(row, named(r.status));
      cell(row, r.start || text("undated"));
      cell(row, r.end);
    }
    table.hidden = false;
  }

  async function main() {
    const [partnershipRows, markRows, labelRows] = await Promise.all([
      select(PARTNERSHIPS), select(MARKS), select(LABELS),
    ]);
    const names = taggedLabels(labelRows);
    // a name as text (SVG titles, the heading), marked when in another language than the page's
    const label = (iri) => (names.has(iri) ? marked(names.get(iri)) : key(iri));
    // the same for a table cell, which marks it with lang and class="fallback"
    const named = (iri) => names.get(iri) || key(iri);
    const seen = new Set();
    const rows = [];
    for (const row of partnershipRows) {
      if (seen.has(value(row, "p"))) continue;
      seen.add(value(row, "p"));
      rows.push({
        iri: value(row, "p"), place: value(row, "place"), partner: value(row, "partner"),
        type: value(row, "type"), status: value(row, "status"),
        start: value(row, "start"), end: value(row, "end"),
      });
    }
    rows.sort((a, b) => (year(a.start) ?? 1e9) - (year(b.start) ?? 1e9));
    const marks = markRows.map((row) => ({
      p: value(row, "p"), thing: value(row, "thing"),
      kind: value(row, "kind"), date: value(row, "date"),
    }));
    if (rows.length) {
      const place = rows[0].place;
      document.getElementById("timeline-heading").textContent =
        `${text("timeline_title")}: ${label(place)}`;
      document.getElementById("place-page").href = docHref(place);
    }
    // Undated partnerships have no place on a time axis: listed apart, not as empty rows.
    const dated = rows.filter((r) => year(r.start) !== null);
    const undated = rows.filter((r) => year(r.start) === null);
    draw(dated, marks, label);
    const apart = document.getElementById("undated");
    for (const r of undated) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = docHref(r.iri);
      const name = named(r.partner);
      link.textContent = name.text ?? name;
      if (name.lang) {
        link.lang = name.lang;
        link.classList.add("fallback");
      }
      item.append(link);
      apart.querySelector("ul").append(item);
    }
    apart.hidden = undated.length === 0;
    svgElement.dataset.undated = String(undated.length);
    fillTable(rows, named);
    caption.textContent = text("shown", { n: rows.length });
    svgElement.dataset.rows = String(dated.length);
    svgElement.dataset.state = "ready";
  }

  main().catch((error) => {
    caption.textContent = `${text("failed")} (${error.message})`;
    svgElement.dataset.state = "failed";
  });
})();
