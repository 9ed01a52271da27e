// What the citygraph pages share: the page's configuration (written by the server into
// <script id="cg-config">), SPARQL SELECT against our own endpoint, labels in the reader's
// language, links to the server-rendered pages, and dates of mixed precision.
"use strict";

window.citygraph = (() => {
  const config = JSON.parse(document.getElementById("cg-config").textContent);
  const base = config.baseIri || "https://w3id.org/citygraph/";

  const prefixes = [
    `PREFIX cg: <${base}ontology#>`,
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>",
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>",
    "PREFIX dcterms: <http://purl.org/dc/terms/>",
    "PREFIX schema: <https://schema.org/>",
    "",
  ].join("\n");

  // SPARQL 1.1 Protocol, query via POST (§2.1.2): long queries do not hit URL limits.
  // Resolves to an array of rows, each {variable: {type, value, "xml:lang"?, datatype?}}.
  async function select(query) {
    const response = await fetch(config.endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Accept: "application/sparql-results+json",
      },
      body: new URLSearchParams({ query: prefixes + query }),
    });
    if (!response.ok) {
      throw new Error(`${response.status} ${await response.text()}`);
    }
    return (await response.json()).results.bindings;
  }

  function value(row, name) {
    return row[name] ? row[name].value : "";
  }

  // Language tags to try for the reader's language, best first (as web/i18n.py).
  const tags = {
    en: ["en"],
    de: ["de"],
    zh: ["zh-hans", "zh", "zh-cn", "zh-hant", "zh-tw"],
  }[config.lang] || ["en"];

  // From rows of ?s ?label, the best label per IRI with its language tag ({text, lang}): the
  // reader's language, English, then any. `lang` is "" when it is the reader's language, else
  // the tag to mark the name with (lang="en" class="fallback": the style sheet says so).
  function taggedLabels(rows) {
    const found = new Map();
    for (const row of rows) {
      const iri = value(row, "s");
      const lang = (row.label["xml:lang"] || "").toLowerCase();
      if (!found.has(iri)) found.set(iri, {});
      found.get(iri)[lang] = row.label.value;
    }
    const best = new Map();
    for (const [iri, byLang] of found) {
      const tag = [...tags, "en", ""].find((t) => t in byLang) || Object.keys(byLang).sort()[0];
      const own = tags.includes(tag) || tag === "";
      const shown = tag === "zh-hans" ? "zh-Hans" : tag === "zh-hant" ? "zh-Hant" : tag;
      best.set(iri, { text: byLang[tag], lang: own ? "" : shown });
    }
    return best;
  }

  // The best label per IRI, as text (see taggedLabels).
  function labels(rows) {
    return new Map([...taggedLabels(rows)].map(([iri, label]) => [iri, label.text]));
  }

  // A label of taggedLabels as text, followed by its language when it is not the reader's (for
  // an SVG <title> or an <option>, which carry no markup; as web/i18n.py fallback_mark).
  function marked(label) {
    if (!label.lang) return label.text;
    const primary = label.lang.split("-")[0].toLowerCase();
    return label.text + (config.text[`in_${primary}`] || ` (${primary.toUpperCase()})`);
  }

  // The last path segment of an IRI: "de-berlin" of .../id/city/de-berlin.
  function key(iri) {
    return iri.slice(Math.max(iri.lastIndexOf("/"), iri.lastIndexOf("#")) + 1);
  }

  // Where a thing's page is on this server (its IRI /id/… has its document at /doc/…).
  function docHref(iri) {
    const ids = base + "id/";
    if (!iri.startsWith(ids)) return iri;
    return `${config.site}doc/${iri.slice(ids.length)}?lang=${config.lang}`;
  }

  // A date of any precision ("1994-04-05", "1994-04", "1994") as a fractional year.
  function year(date) {
    const match = /^(-?\d{4})(?:-(\d{2}))?(?:-(\d{2}))?/.exec(date || "");
    if (!match) return null;
    const month = match[2] ? Number(match[2]) - 1 : 0;
    const day = match[3] ? Number(match[3]) - 1 : 0;
    return Number(match[1]) + month / 12 + day / 365;
  }

  function text(name, values = {}) {
    const template = config.text[name] || name;
    return template.replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));
  }

  // A table cell holding a link (or plain text when there is no href), named by its column's
  // header (data-label: the style sheet shows it when a phone reflows the table). `label` is
  // text or a label of taggedLabels, marked (lang, class="fallback") when in another language.
  function cell(row, label, href) {
    const { text: shown, lang } = label && typeof label === "object" ? label : { text: label, lang: "" };
    const td = row.insertCell();
    const header = row.closest("table")?.tHead?.rows[0]?.cells[td.cellIndex];
    if (header) td.dataset.label = header.textContent.trim();
    const holder = href ? document.createElement("a") : td;
    if (href) {
      holder.href = href;
      td.append(holder);
    }
    holder.textContent = shown ?? "";
    if (lang) {
      holder.lang = lang;
      holder.classList.add("fallback");
    }
    return td;
  }

  return {
    config, select, value, labels, taggedLabels, marked, key, docHref, year, text, cell,
  };
})();
