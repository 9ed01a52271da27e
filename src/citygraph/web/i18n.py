"""The reader's language: ``?lang=`` or ``Accept-Language`` (de, en, zh), falling back to en.

Labels in the data are tagged ``de``, ``en``, ``zh-Hans`` (and sometimes ``zh-Hant``); ``zh``
prefers simplified, then traditional characters.

>>> choose_language("de", "zh-CN,zh;q=0.9,en;q=0.5")
'de'
>>> choose_language("fr", "zh-CN,zh;q=0.9,en;q=0.5")
'zh'
>>> choose_language(None, "fr, en;q=0.1")
'en'
>>> choose_language(None, "fr-CH, fr;q=0.9, de;q=0.7")
'de'
>>> pick({"de": "Peking", "en": "Beijing", "zh-hans": "北京"}, "zh")
'北京'
>>> pick({"de": "Peking"}, "en")
'Peking'
"""

from __future__ import annotations

from collections.abc import Mapping

from citygraph.web.ui_texts import UI as _UI

__all__ = [
    "DEFAULT",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "choose_language",
    "differs",
    "fallback_mark",
    "html_lang",
    "language_links",
    "pick",
    "pick_tagged",
    "texts",
    "ui",
]

LANGUAGES: tuple[str, ...] = ("en", "de", "zh")
DEFAULT = "en"

#: Names of the languages, each in itself (for the language switch).
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "de": "Deutsch", "zh": "中文"}

#: Language tags tried for each reader language, in order (lower case).
_TAGS: dict[str, tuple[str, ...]] = {
    "en": ("en",),
    "de": ("de",),
    "zh": ("zh-hans", "zh", "zh-cn", "zh-hant", "zh-tw"),
}


def choose_language(param: str | None, accept_language: str | None) -> str:
    """The page language: a valid ``?lang=`` wins, then ``Accept-Language`` (by ``q``), else en."""
    if param is not None and param.strip().lower() in LANGUAGES:
        return param.strip().lower()
    best, best_q = DEFAULT, 0.0
    for position, element in enumerate((accept_language or "").split(",")):
        tag, *params = element.strip().split(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        for item in params:
            name, _, value = item.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        # earlier elements win ties (RFC 9110 leaves it to us; browsers list best first)
        if primary in LANGUAGES and q > best_q and q > 0:
            best, best_q = primary, q - position * 1e-6
    return best


def pick(labels: Mapping[str, str], language: str, *, fallback: str = "") -> str:
    """The label for ``language`` (tags lower case), else English, else any, else ``fallback``."""
    return pick_tagged(labels, language, fallback=fallback)[0]


def pick_tagged(labels: Mapping[str, str], language: str, *, fallback: str = "") -> tuple[str, str]:
    """Like :func:`pick`, with the language tag of the label chosen (``""``: none or unknown).

    >>> pick_tagged({"en": "Beijing", "zh-hans": "北京"}, "de")
    ('Beijing', 'en')
    """
    for tag in (*_TAGS.get(language, (language,)), "en", ""):
        if tag in labels:
            return labels[tag], tag
    for tag in sorted(labels):
        return labels[tag], tag
    return fallback, ""


def differs(tag: str, language: str) -> str:
    """``tag`` as an HTML ``lang`` value when it is not the page's language, else ``""``.

    >>> differs("en", "zh"), differs("zh-hans", "zh"), differs("", "de")
    ('en', '', '')
    """
    if not tag or tag.split("-")[0] == language:
        return ""
    return "zh-Hans" if tag == "zh-hans" else "zh-Hant" if tag == "zh-hant" else tag


def fallback_mark(tag: str, language: str) -> str:
    """What follows a name shown in ``tag``'s language on a page in ``language`` because the
    data has none in ``language`` ("" when it needs none): where no markup can carry the mark
    (``<option>``, an SVG ``<title>``); elsewhere the style sheet writes the same after
    ``class="fallback"``.

    >>> fallback_mark("en", "de"), fallback_mark("zh-Hans", "de"), fallback_mark("de", "de")
    (' (englisch)', ' (chinesisch)', '')
    >>> fallback_mark("fr", "en")
    ' (FR)'
    """
    primary = tag.split("-")[0].lower()
    if not primary or primary == language:
        return ""
    key = "in_" + primary
    return ui(key, language) if key in _UI else f" ({primary.upper()})"


def html_lang(language: str) -> str:
    """The ``lang`` attribute of a page in ``language``."""
    return "zh-Hans" if language == "zh" else language


def language_links(url: str) -> list[dict[str, str]]:
    """The page at ``url`` in each language, for the language switch of every page: ``code``,
    ``name`` (in itself), ``hreflang`` and ``href`` (``url`` with its ``lang`` parameter
    replaced, the other parameters kept as they were sent).

    >>> [link["href"] for link in language_links("/places?page=2&lang=de")]
    ['/places?page=2&lang=en', '/places?page=2&lang=de', '/places?page=2&lang=zh']
    >>> language_links("http://h/map")[2]
    {'code': 'zh', 'name': '中文', 'hreflang': 'zh-Hans', 'href': 'http://h/map?lang=zh'}
    """
    base, _, query = url.partition("?")
    kept = [part for part in query.split("&") if part and part.partition("=")[0] != "lang"]
    return [
        {
            "code": code,
            "name": LANGUAGE_NAMES[code],
            "hreflang": html_lang(code),
            "href": base + "?" + "&".join([*kept, "lang=" + code]),
        }
        for code in LANGUAGES
    ]


def ui(key: str, language: str) -> str:
    """An interface string in ``language`` (English when missing)."""
    texts = _UI.get(key, {})
    return texts.get(language) or texts.get(DEFAULT) or key


def texts(language: str) -> dict[str, str]:
    """Every interface string in ``language`` (English when missing), by key: what pages whose
    templates and scripts read texts as a table (``t.map_title``) get."""
    return {key: ui(key, language) for key in _UI}
