"""The interface texts of every page, in each language (:mod:`citygraph.web.i18n` reads them).

A table, not code: each key maps the languages (en, de, zh) to the text; a missing language
falls back to English in :func:`citygraph.web.i18n.ui`.
"""

# The Chinese texts use full-width punctuation on purpose: it is not confusable there.
# ruff: noqa: RUF001

from __future__ import annotations

__all__ = ["UI"]

UI: dict[str, dict[str, str]] = {
    "site": {"en": "citygraph", "de": "citygraph", "zh": "citygraph"},
    "tagline": {
        "en": "Municipal partnerships (twin towns) as linked open data",
        "de": "Städtepartnerschaften als Linked Open Data",
        "zh": "友好城市关系 · 关联开放数据",
    },
    "partnerships": {"en": "Partnerships", "de": "Partnerschaften", "zh": "伙伴关系"},
    "places": {"en": "Places", "de": "Orte", "zh": "地点"},
    "sources": {"en": "Sources", "de": "Quellen", "zh": "来源"},
    "query": {"en": "Query", "de": "Abfrage", "zh": "查询"},
    "map": {"en": "Map", "de": "Karte", "zh": "地图"},
    "language": {"en": "Language", "de": "Sprache", "zh": "语言"},
    "main_nav": {"en": "Main", "de": "Hauptnavigation", "zh": "主导航"},
    "skip": {"en": "Skip to content", "de": "Zum Inhalt", "zh": "跳到内容"},
    "partner": {"en": "Partner", "de": "Partner", "zh": "伙伴"},
    "type": {"en": "Type", "de": "Art", "zh": "类型"},
    "status": {"en": "Status", "de": "Status", "zh": "状态"},
    "since": {"en": "Since", "de": "Seit", "zh": "起始"},
    "until": {"en": "Until", "de": "Bis", "zh": "截止"},
    "country": {"en": "Country", "de": "Land", "zh": "国家"},
    "kind": {"en": "Kind", "de": "Art", "zh": "种类"},
    "date": {"en": "Date", "de": "Datum", "zh": "日期"},
    "what": {"en": "What", "de": "Was", "zh": "内容"},
    "source": {"en": "Source", "de": "Quelle", "zh": "来源"},
    "facts": {"en": "Statements", "de": "Aussagen", "zh": "陈述"},
    "property": {"en": "Property", "de": "Eigenschaft", "zh": "属性"},
    "value": {"en": "Value", "de": "Wert", "zh": "值"},
    "timeline": {"en": "Timeline", "de": "Zeitleiste", "zh": "时间线"},
    "linked_from": {"en": "Linked from", "de": "Verweise hierher", "zh": "引用此处"},
    "derived_from": {
        "en": "What the graph took from it",
        "de": "Was der Graph daraus übernahm",
        "zh": "图谱从中采用的内容",
    },
    "tagged": {
        "en": "Tagged with this concept",
        "de": "Mit diesem Begriff verschlagwortet",
        "zh": "使用此概念标注",
    },
    "other_formats": {"en": "This document as", "de": "Dieses Dokument als", "zh": "本文档格式"},
    "filter": {"en": "Filter", "de": "Filtern", "zh": "筛选"},
    "any": {"en": "any", "de": "alle", "zh": "全部"},
    "apply": {"en": "Apply", "de": "Anwenden", "zh": "应用"},
    "from_year": {"en": "From year", "de": "Ab Jahr", "zh": "起始年份"},
    "to_year": {"en": "To year", "de": "Bis Jahr", "zh": "截止年份"},
    "count": {"en": "Count", "de": "Anzahl", "zh": "数量"},
    "next": {"en": "Next page", "de": "Nächste Seite", "zh": "下一页"},
    "previous": {"en": "Previous page", "de": "Vorige Seite", "zh": "上一页"},
    "none_found": {"en": "Nothing found.", "de": "Nichts gefunden.", "zh": "未找到。"},
    "not_found": {"en": "Not found", "de": "Nicht gefunden", "zh": "未找到"},
    "not_found_text": {
        "en": "citygraph knows nothing under this address.",
        "de": "Unter dieser Adresse kennt citygraph nichts.",
        "zh": "citygraph 在此地址下没有任何内容。",
    },
    "dataset": {"en": "Dataset description", "de": "Datensatzbeschreibung", "zh": "数据集描述"},
    "ontology": {"en": "Ontology", "de": "Ontologie", "zh": "本体"},
    "shapes": {"en": "Shapes", "de": "Shapes", "zh": "形状"},
    "vocabularies": {"en": "Vocabularies", "de": "Vokabulare", "zh": "词表"},
    "dumps": {"en": "Downloads", "de": "Downloads", "zh": "下载"},
    "sources_of": {"en": "Sources", "de": "Quellen", "zh": "来源"},
    "agreements": {"en": "Agreements", "de": "Vereinbarungen", "zh": "协议"},
    "events": {"en": "Events", "de": "Veranstaltungen", "zh": "活动"},
    "participations": {"en": "Participations", "de": "Beteiligungen", "zh": "参与"},
    "claims": {"en": "Claims of the sources", "de": "Angaben der Quellen", "zh": "来源的说法"},
    "undated": {"en": "undated", "de": "ohne Datum", "zh": "无日期"},
    "map_alt": {
        "en": "Map of the partner places (drawn by JavaScript; the table lists them all).",
        "de": "Karte der Partnerorte (mit JavaScript; die Tabelle nennt alle).",
        "zh": "伙伴地点地图（需 JavaScript；表格列出全部）。",
    },
    "iri": {"en": "IRI", "de": "IRI", "zh": "IRI"},
    "statistics": {"en": "Statistics", "de": "Statistik", "zh": "统计"},
    "classes": {"en": "Classes", "de": "Klassen", "zh": "类"},
    "object-properties": {"en": "Object properties", "de": "Objekteigenschaften", "zh": "对象属性"},
    "datatype-properties": {
        "en": "Datatype properties",
        "de": "Datentypeigenschaften",
        "zh": "数据类型属性",
    },
    "annotation-properties": {
        "en": "Annotation properties",
        "de": "Annotationseigenschaften",
        "zh": "注释属性",
    },
    "graphs": {"en": "Named graphs", "de": "Benannte Graphen", "zh": "命名图"},
    "graph": {"en": "Graph", "de": "Graph", "zh": "图"},
    "triples": {"en": "Triples", "de": "Tripel", "zh": "三元组"},
    "link_sets": {"en": "Link sets", "de": "Linksets", "zh": "链接集"},
    "link_set": {"en": "Link set", "de": "Linkset", "zh": "链接集"},
    "links": {"en": "Links", "de": "Links", "zh": "链接"},
    "publisher": {"en": "Publisher", "de": "Herausgeber", "zh": "发布者"},
    "search": {"en": "Search", "de": "Suchen", "zh": "搜索"},
    "search_placeholder": {
        "en": "Place, partnership, source…",
        "de": "Ort, Partnerschaft, Quelle…",
        "zh": "地点、伙伴关系、来源…",
    },
    "search_instead": {
        "en": "Search the graph",
        "de": "Im Graphen suchen",
        "zh": "在图谱中搜索",
    },
    "coordinates": {"en": "Coordinates", "de": "Koordinaten", "zh": "坐标"},
    "identifiers": {"en": "Identifiers", "de": "Kennungen", "zh": "标识符"},
    "identifiers_intro": {
        "en": "The same thing in other registries:",
        "de": "Dasselbe in anderen Verzeichnissen:",
        "zh": "其他登记库中的同一事物：",
    },
    "other_registry": {"en": "Elsewhere", "de": "Anderswo", "zh": "其他"},
    "home_lead": {
        "en": "Which cities, regions and districts are twinned, since when, on which agreements, "
        "and who says so: every fact with its source, as pages and as linked open data.",
        "de": "Welche Städte, Regionen und Bezirke verpartnert sind, seit wann, auf Grund welcher "
        "Vereinbarungen, und wer das sagt: jede Angabe mit Quelle, als Seiten und als Linked "
        "Open Data.",
        "zh": "哪些城市、地区和城区结为伙伴，始于何时，依据哪些协议，出自何处：每条事实都附有来源，"
        "以网页和关联开放数据提供。",
    },
    "layer_curated": {
        "en": "Curated graph (researched, with sources)",
        "de": "Kuratierter Graph (recherchiert, mit Quellen)",
        "zh": "人工整理的图谱（经研究，附来源）",
    },
    "layer_worldwide": {
        "en": "Worldwide layer (imported twin-town lists)",
        "de": "Weltweite Ebene (importierte Partnerstadtlisten)",
        "zh": "全球数据层（导入的友好城市列表）",
    },
    "countries": {"en": "countries", "de": "Länder", "zh": "个国家"},
    "where_to_go": {"en": "Where to go", "de": "Wohin", "zh": "从这里开始"},
    "go_partnerships": {
        "en": "every partnership, filtered by place, country, type, status and years",
        "de": "alle Partnerschaften, gefiltert nach Ort, Land, Art, Status und Jahren",
        "zh": "所有伙伴关系，可按地点、国家、类型、状态和年份筛选",
    },
    "go_map": {
        "en": "the partnerships on a world map",
        "de": "die Partnerschaften auf einer Weltkarte",
        "zh": "世界地图上的伙伴关系",
    },
    "go_query": {
        "en": "ask your own questions, starting from examples",
        "de": "eigene Fragen stellen, ausgehend von Beispielen",
        "zh": "从示例出发提出自己的问题",
    },
    "go_examples": {"en": "For example", "de": "Zum Beispiel", "zh": "例如"},
    "partner_places": {
        "en": "Partner places",
        "de": "Partnerorte",
        "zh": "伙伴地点",
    },
    "other_places": {
        "en": "Other places: venues and seats",
        "de": "Weitere Orte: Veranstaltungsorte und Sitze",
        "zh": "其他地点：活动地点和所在地",
    },
    "other_places_text": {
        "en": "These places have no partnership in the graph; it names them as the venue of an "
        "event, the seat of an organisation or where an agreement was signed.",
        "de": "Diese Orte haben im Graphen keine Partnerschaft; er nennt sie als Ort einer "
        "Veranstaltung, Sitz einer Organisation oder Ort einer Unterzeichnung.",
        "zh": "这些地点在图谱中没有伙伴关系；它们是活动举办地、组织所在地或协议签署地。",
    },
    "agreements_here": {
        "en": "Agreements signed here",
        "de": "Hier unterzeichnete Vereinbarungen",
        "zh": "在此签署的协议",
    },
    "events_here": {"en": "Events here", "de": "Veranstaltungen hier", "zh": "在此的活动"},
    "organisations_here": {
        "en": "Organisations here",
        "de": "Organisationen hier",
        "zh": "在此的组织",
    },
    # The mark after a name the data lacks in the reader's language, shown in the language it
    # has (issue 13 §3): by the language of the name (the primary subtag of its tag).
    "in_en": {"en": " (English)", "de": " (englisch)", "zh": "（英文）"},
    "in_de": {"en": " (German)", "de": " (deutsch)", "zh": "（德文）"},
    "in_zh": {"en": " (Chinese)", "de": " (chinesisch)", "zh": "（中文）"},
    "fallback_note": {
        "en": "Names and texts the data has only in another language are shown in it, with the "
        "language after them: (German), (Chinese).",
        "de": "Namen und Texte, die die Daten nur in einer anderen Sprache haben, stehen in "
        "dieser, mit der Sprache dahinter: (englisch), (chinesisch).",
        "zh": "数据中仅有其他语言的名称和文字以该语言显示，并在其后注明语言：（英文）、（德文）。",
    },
    "signed_by": {"en": "signed by", "de": "unterzeichnet von", "zh": "签署方"},
    "undated_items": {
        "en": "Without a date",
        "de": "Ohne Datum",
        "zh": "无日期",
    },
    "found_n": {"en": "{n} found", "de": "{n} gefunden", "zh": "找到 {n} 项"},
    "also_named": {"en": "also", "de": "auch", "zh": "又名"},
    "error_400": {"en": "Bad request", "de": "Ungültige Anfrage", "zh": "请求无效"},
    "error_404": {"en": "Not found", "de": "Nicht gefunden", "zh": "未找到"},
    "error_406": {"en": "Not acceptable", "de": "Nicht annehmbar", "zh": "无法接受"},
    "error_401": {"en": "Unauthorized", "de": "Nicht autorisiert", "zh": "未授权"},
    "error_403": {"en": "Forbidden", "de": "Verboten", "zh": "禁止访问"},
    "error_405": {"en": "Method not allowed", "de": "Methode nicht erlaubt", "zh": "不允许的方法"},
    "error_409": {"en": "Conflict", "de": "Konflikt", "zh": "冲突"},
    "error_413": {"en": "Content too large", "de": "Inhalt zu groß", "zh": "内容过大"},
    "error_415": {
        "en": "Unsupported media type",
        "de": "Nicht unterstützter Medientyp",
        "zh": "不支持的媒体类型",
    },
    "error_500": {
        "en": "Internal server error",
        "de": "Interner Serverfehler",
        "zh": "服务器内部错误",
    },
    "error_503": {"en": "Service unavailable", "de": "Dienst nicht verfügbar", "zh": "服务不可用"},
    "error_text": {
        "en": "The address is not one this page can answer. What was wrong:",
        "de": "Diese Adresse kann die Seite nicht beantworten. Was nicht stimmte:",
        "zh": "此页面无法响应该地址。问题如下：",
    },
    # the query UI, the map and the timeline (web/frontend.py)
    "query_title": {
        "en": "Query citygraph with SPARQL",
        "de": "citygraph mit SPARQL abfragen",
        "zh": "用 SPARQL 查询 citygraph",
    },
    "query_intro": {
        "en": "Choose one of the example queries, edit it or run it as it is.",
        "de": "Eine der Beispielabfragen wählen, ändern oder so ausführen.",
        "zh": "选择一个示例查询，可编辑或直接运行。",
    },
    "examples": {"en": "Examples", "de": "Beispiele", "zh": "示例"},
    "query_editor": {"en": "SPARQL query", "de": "SPARQL-Abfrage", "zh": "SPARQL 查询"},
    "filter_examples": {
        "en": "Filter the examples",
        "de": "Beispiele filtern",
        "zh": "筛选示例",
    },
    "group_places": {
        "en": "Places and their partners",
        "de": "Orte und ihre Partner",
        "zh": "地点及其伙伴",
    },
    "group_partnerships": {"en": "Partnerships", "de": "Partnerschaften", "zh": "伙伴关系"},
    "group_events": {
        "en": "Agreements, events, institutions",
        "de": "Vereinbarungen, Veranstaltungen, Einrichtungen",
        "zh": "协议、活动、机构",
    },
    "group_sources": {
        "en": "Sources and their quality",
        "de": "Quellen und ihre Güte",
        "zh": "来源及其质量",
    },
    "group_other": {"en": "Other", "de": "Weitere", "zh": "其他"},
    "map_title": {
        "en": "World map of partnerships",
        "de": "Weltkarte der Partnerschaften",
        "zh": "伙伴关系世界地图",
    },
    "map_intro": {
        "en": "Each arc joins two partners; follow it to the partnership's page.",
        "de": "Jeder Bogen verbindet zwei Partner und führt zur Seite der Partnerschaft.",
        "zh": "每条弧线连接两个伙伴，点击可打开该伙伴关系的页面。",
    },
    "timeline_title": {
        "en": "Timeline of partnerships",
        "de": "Zeitleiste der Partnerschaften",
        "zh": "伙伴关系时间线",
    },
    "timeline_intro": {
        "en": "One row per partnership, from its start to its end (or today); marks are "
        "agreements and events.",
        "de": "Eine Zeile je Partnerschaft, vom Beginn bis zum Ende (oder heute); Marken sind "
        "Vereinbarungen und Veranstaltungen.",
        "zh": "每行一个伙伴关系，从开始到结束（或今天）；标记为协议和活动。",
    },
    "city": {"en": "City", "de": "Stadt", "zh": "城市"},
    "period": {"en": "Period", "de": "Zeitraum", "zh": "时期"},
    "shown": {
        "en": "{n} partnerships shown",
        "de": "{n} Partnerschaften angezeigt",
        "zh": "显示 {n} 个伙伴关系",
    },
    "not_on_map": {
        "en": "without coordinates, not on the map",
        "de": "ohne Koordinaten, nicht auf der Karte",
        "zh": "无坐标，未显示在地图上",
    },
    "scope_curated": {
        "en": "Curated partnerships only; choose a city or a country to include the worldwide "
        "import.",
        "de": "Nur kuratierte Partnerschaften; eine Stadt oder ein Land wählen, um den weltweiten "
        "Import einzuschließen.",
        "zh": "仅显示人工整理的伙伴关系；选择城市或国家以包含全球导入数据。",
    },
    "today": {"en": "today", "de": "heute", "zh": "今天"},
    "zoom": {"en": "Zoom", "de": "Zoom", "zh": "缩放"},
    "zoom_in": {"en": "Zoom in", "de": "Vergrößern", "zh": "放大"},
    "zoom_out": {"en": "Zoom out", "de": "Verkleinern", "zh": "缩小"},
    "zoom_reset": {"en": "Whole world", "de": "Ganze Welt", "zh": "全球"},
    "end_unknown": {
        "en": "ended, end date unknown",
        "de": "beendet, Enddatum unbekannt",
        "zh": "已结束，结束日期不详",
    },
    "undated_partnerships": {
        "en": "Partnerships without a known start",
        "de": "Partnerschaften ohne bekannten Beginn",
        "zh": "开始日期不详的伙伴关系",
    },
    "legend": {"en": "Legend", "de": "Legende", "zh": "图例"},
    "legend_active": {"en": "active", "de": "aktiv", "zh": "有效"},
    "legend_dormant": {"en": "dormant", "de": "ruhend", "zh": "暂停"},
    "legend_ended": {"en": "ended", "de": "beendet", "zh": "已结束"},
    "legend_arc": {
        "en": "a partnership between two places",
        "de": "eine Partnerschaft zweier Orte",
        "zh": "两地之间的伙伴关系",
    },
    "legend_place": {"en": "a place", "de": "ein Ort", "zh": "地点"},
    "legend_chosen": {"en": "the chosen place", "de": "der gewählte Ort", "zh": "所选地点"},
    "legend_cluster": {
        "en": "places close together; choose to zoom in",
        "de": "nahe beieinander liegende Orte; zum Vergrößern wählen",
        "zh": "相邻的多个地点，点击放大",
    },
    "cluster_places": {
        "en": "{n} places: {names}",
        "de": "{n} Orte: {names}",
        "zh": "{n} 个地点：{names}",
    },
    "agreement": {"en": "Agreement", "de": "Vereinbarung", "zh": "协议"},
    "event": {"en": "Event", "de": "Veranstaltung", "zh": "活动"},
    "loading": {"en": "Loading…", "de": "Wird geladen…", "zh": "加载中…"},
    "failed": {
        "en": "The data could not be loaded from the SPARQL endpoint.",
        "de": "Die Daten konnten nicht vom SPARQL-Endpunkt geladen werden.",
        "zh": "无法从 SPARQL 端点加载数据。",
    },
    "results_map": {"en": "Map", "de": "Karte", "zh": "地图"},
    "noscript": {
        "en": "This page draws with JavaScript, which is off. The same data is on the "
        "server-rendered pages:",
        "de": "Diese Seite zeichnet mit JavaScript, das ausgeschaltet ist. Dieselben Daten "
        "stehen auf den serverseitig erzeugten Seiten:",
        "zh": "本页面需要 JavaScript 绘制，但 JavaScript 已关闭。相同数据见服务器生成的页面：",
    },
    "noscript_query": {
        "en": "The query editor needs JavaScript. Without it, send a query with this form or "
        "open an example:",
        "de": "Der Abfrage-Editor braucht JavaScript. Ohne: Abfrage mit diesem Formular senden "
        "oder ein Beispiel öffnen:",
        "zh": "查询编辑器需要 JavaScript。没有它时，可用此表单提交查询或打开示例：",
    },
    "run": {"en": "Run", "de": "Ausführen", "zh": "运行"},
    "format": {"en": "Result format", "de": "Ergebnisformat", "zh": "结果格式"},
    "service_description": {
        "en": "Service description (Turtle)",
        "de": "Dienstbeschreibung (Turtle)",
        "zh": "服务描述（Turtle）",
    },
    "city_page": {"en": "The place's page", "de": "Seite des Ortes", "zh": "该地点的页面"},
}
