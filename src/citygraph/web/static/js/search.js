// Suggestions for every page's search box (templates/search_form.html): as one types, the first
// names that /search finds (JSON) fill a <datalist>; choosing one opens its page. Without
// JavaScript the box is a plain GET form to /search.
"use strict";

(() => {
  const WAIT_MS = 150; // typing pause before asking (one request per pause, not per key)
  for (const input of document.querySelectorAll("input[data-suggest]")) {
    const list = document.createElement("datalist");
    list.id = `${input.id}-suggestions`;
    input.after(list);
    input.setAttribute("list", list.id);
    const pages = new Map(); // suggestion text -> page
    let timer = 0;
    let asked = "";

    async function suggest() {
      const q = input.value.trim();
      if (!q || q === asked || pages.has(q)) return;
      asked = q;
      const url = new URL(input.dataset.suggest);
      url.search = new URLSearchParams({ q, format: "json", limit: "8", lang: document.documentElement.lang.slice(0, 2) });
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok || input.value.trim() !== q) return;
      const { results } = await response.json();
      list.replaceChildren();
      pages.clear();
      for (const r of results) {
        const text = r.kind_label ? `${r.label} (${r.kind_label})` : r.label;
        pages.set(text, r.href);
        const option = document.createElement("option");
        option.value = text;
        if (r.matched) option.label = r.matched;
        list.append(option);
      }
    }

    input.addEventListener("input", () => {
      const page = pages.get(input.value);
      if (page) {
        window.location.assign(page);
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(() => suggest().catch(() => {}), WAIT_MS);
    });
  }
})();
