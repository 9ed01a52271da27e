"""Spellings of one place name that the match key does not fold: the third tier of matching.

The lists and GeoNames write some names differently in ways :func:`~citygraph.worldwide.
normalise.match_key` keeps apart, because folding them everywhere would merge different names.
Each rule here is bounded to the countries whose names it concerns, and a name found only
through it is still subject to the matcher's rules (one candidate, or a dominant one, or the
nearest within 30 km of the file's point). See docs/worldwide.md, *Spelling variants*.

- **Spaces**: "Hitachiōta" is GeoNames "Hitachi-ōta", "Purbach am Neusiedlersee" is "Purbach am
  Neusiedler See": the loose key has no spaces.
- **Transliteration** of Cyrillic names (Russia, Ukraine, Belarus, …): the lists follow
  Wikipedia ("Velykyi Bereznyi", "Koriukivka", "Strugi Krasnye"), GeoNames often BGN/PCGN
  ("Velykyy Bereznyy", "Koryukivka", "Strugi Krasnyye"): "iy", "yi", "yy" at a word's end,
  "yy", "ia"/"ya", "iu"/"yu", "ie"/"ye" fold together.
- **Greek** names in their demotic and katharevousa forms ("Ermoupoli"/"Ermoupolis",
  "Argostoli"/"Argostolion") and the two spellings of χ ("Haidari"/"Chaidari").
- **Arabic** transliterations (Palestine, Jordan, Lebanon, Libya, …): the lists write the
  popular English or French forms ("Beit Sahour", "Birzeit", "Deir Alla", "Awjila"), GeoNames
  the BGN/PCGN ones ("Bayt Sāḩūr", "Bīr Zayt", "Dayr \u2018Allā", "Awjilah"): "ei"/"ey" and "ay",
  "ou" and "u", "ia" and "ya", a final "-ah"/"-eh" and "-a", and the article ("al", "el",
  "az", "ash", …) fold together.
- **Japanese** long vowels written "ou"/"oo" or plain ("Ōtsu"), and the municipal word after the
  name ("Ikata-chō", "Rankoshi-machi"): dropped.
- **GeoNames names written as two** ("Bleiburg/Pliberk", "Rodengo - Rodeneck", "Mequinensa /
  Mequinenza", mostly two languages; "Bratislava - Vajnory", a town and its quarter): each part
  is a name of the place (a part that is another record's own name is found by that first).
- **German-language additions GeoNames keeps and the lists leave out**: a title before the name
  ("Ostseebad Binz", "Kurort Oybin") or a river, lake or landscape after it ("Breisach am Rhein",
  "Obernburg am Main"): the record is also found by the bare name. The other way round ("Zeil
  am Main" in the lists, "Zeil" in GeoNames) the addition is a qualifier, as in "Vernouillet,
  Yvelines": the bare name may be another town (``normalise.german_addition``).
"""

from __future__ import annotations

import difflib
import re

from citygraph.worldwide.normalise import (
    GERMAN_SPEAKING,
    REGION_WORDS,
    german_addition,
    match_key,
)

__all__ = [
    "ALIKE_SIMILARITY",
    "ARABIC",
    "CYRILLIC",
    "CYRILLIC_REGION_WORDS",
    "added",
    "alike",
    "cyrillic_region_key",
    "fold_key",
    "loose_key",
    "record_forms",
    "similarity",
    "subdivision_key",
]

#: Words that join a geographical addition to a town's name, in match-key form ("Aguilar de la
#: Frontera", "Lonato del Garda", "Hay-on-Wye", "Lomnice nad Popelkou", "Herzberg am Harz").
#: Conjunctions are not among them (two names joined are a merged municipality, not one of
#: its parts: "Bardsey cum Rigton", "Figline e Incisa Valdarno"), nor articles alone
#: ("Oron-la-Ville" is a former municipality of Oron), nor "upon" (the London borough
#: "Richmond upon Thames" is not the town Richmond).
_CONNECTIVE = (
    r"am|an der|an den|an|im|in der|in|bei|ob der|ob|auf der|auf|vor der|unter|"
    r"de|del|della|delle|dello|dei|degli|di|d|des|do|da|dos|das|du|sur|sous|en|aux|"
    r"sul|sulla|sull|al|nel|nella|on|by|nad|pod|u|na|pri"
)
#: A name and the same name with an addition after it: a connective and at least one word, or
#: a word that says what the town is ("Droitwich Spa", "Roncegno Terme", "Mukono Town").
_ADDITION = re.compile(rf"^(?P<base>.+?) (?:(?:{_CONNECTIVE}) \S.*|spa|terme|city|town)$")

#: Countries whose names the lists transliterate from Cyrillic.
CYRILLIC = frozenset({"RU", "UA", "BY", "KZ", "KG", "TJ", "BG", "MK", "MN"})

#: Countries whose names the lists and GeoNames transliterate from Arabic, each its own way.
ARABIC = frozenset(
    {"AE", "BH", "DZ", "EG", "IQ", "JO", "KW", "LB", "LY", "MA", "MR", "OM", "PS", "QA", "SA"}
    | {"SD", "SY", "TN", "YE"}
)

#: Two names are spelled alike (:func:`alike`) from this similarity on (difflib ratio of the
#: loose keys; "Marjina Horka" and "Mar'ina Gorka" 0.87, "Emmerting" and "Mehring" 0.75).
ALIKE_SIMILARITY = 0.8
#: Region words of the Cyrillic countries, dropped by the transliteration fold of regions.
CYRILLIC_REGION_WORDS = re.compile(r"\b(?:rayon|raion|district|oblast|region)\b")
_CYRILLIC_END = re.compile(r"(?:iy|yi|yy|ij|yj)\b")
_CYRILLIC_VOWELS = (("yy", "y"), ("ia", "ya"), ("iu", "yu"), ("ie", "ye"))
#: The Arabic article, with its assimilated forms, as a word of the match key ("al bireh",
#: "az zababidah", "ash shuyukh", "el mina").
_ARABIC_ARTICLE = re.compile(r"\b(?:[ae][lnrstdz]|[ae](?:sh|dh|th))\s")
_ARABIC_VOWELS = (("ei", "ay"), ("ey", "ay"), ("ou", "u"), ("ia", "ya"))
_ARABIC_END = re.compile(r"(?<=[a-z])[ae]h\b")
_GREEK_END = re.compile(r"(?:ion|is|os|as)\b")
_GREEK_CH = re.compile(r"\b[ck]h")
_JAPANESE_SUFFIX = re.compile(r" (?:cho|machi|mura|son|shi)$")
_JAPANESE_VOWELS = (("ou", "o"), ("oo", "o"), ("uu", "u"))

_GERMAN_TITLE = re.compile(
    r"^(?:Ostseebad|Nordseebad|Seebad|Kurort|Hansestadt|Lutherstadt|Schliemannstadt|"
    r"Reuterstadt|Fontanestadt|Barlachstadt|Klingenstadt|Universitätsstadt)\s+(?P<name>\S.*)$"
)
_TWO_LANGUAGES = re.compile(r"\s*/\s*|\s+-\s+")


def loose_key(name: str, iso: str) -> str:
    """The key of the third tier: the match key with the folds of country ``iso``, no spaces.

    >>> loose_key("Velykyi Bereznyi", "UA") == loose_key("Velykyy Bereznyy", "UA")
    True
    >>> loose_key("Koriukivka", "UA") == loose_key("Koryukivka", "UA")
    True
    >>> loose_key("Strugi Krasnye", "RU") == loose_key("Strugi Krasnyye", "RU")
    True
    >>> loose_key("Ermoupoli", "GR") == loose_key("Ermoupolis", "GR")
    True
    >>> loose_key("Haidari", "GR") == loose_key("Chaidari", "GR")
    True
    >>> loose_key("Hitachiōta", "JP") == loose_key("Hitachi-ōta", "JP")
    True
    >>> loose_key("Rankoshi", "JP") == loose_key("Rankoshi-machi", "JP")
    True
    >>> loose_key("Beit Sahour", "PS") == loose_key("Bayt Sāḩūr", "PS")
    True
    >>> loose_key("Deir Alla", "JO") == loose_key("Dayr \u2018Allā", "JO")
    True
    >>> loose_key("Beitunia", "PS"), loose_key("Az Zabābidah", "PS")
    ('baytunya', 'zababida')
    >>> loose_key("Purbach am Neusiedlersee", "AT")
    'purbachamneusiedlersee'

    The folds belong to their countries: "Maria" stays "maria" in Italy.

    >>> loose_key("Maria", "IT"), loose_key("Maria", "UA")
    ('maria', 'marya')
    """
    return fold_key(match_key(name), iso)


def fold_key(key: str, iso: str) -> str:
    """:func:`loose_key` of a name whose match key is ``key`` (computed once by the caller).

    >>> fold_key("velykyi bereznyi", "UA")
    'velykyberezny'
    """
    if iso in CYRILLIC:
        key = _CYRILLIC_END.sub("y", key)
        for old, new in _CYRILLIC_VOWELS:
            key = key.replace(old, new)
    elif iso in ARABIC:
        key = _ARABIC_ARTICLE.sub("", key)
        for old, new in _ARABIC_VOWELS:
            key = key.replace(old, new)
        key = _ARABIC_END.sub("a", key)
    elif iso in {"GR", "CY"}:
        key = _GREEK_CH.sub("h", key)
        key = _GREEK_END.sub(lambda m: m.group(0)[0], key)
    elif iso == "JP":
        key = _JAPANESE_SUFFIX.sub("", key)
        for old, new in _JAPANESE_VOWELS:
            key = key.replace(old, new)
    return key.replace(" ", "")


def record_forms(name: str, iso: str) -> list[str]:
    """The names a GeoNames record is also known by, besides its own: the parts of a name in
    two languages, and for German-speaking countries the name without its title or addition.

    >>> record_forms("Bleiburg/Pliberk", "AT")
    ['Bleiburg', 'Pliberk']
    >>> record_forms("Rodengo - Rodeneck", "IT")
    ['Rodengo', 'Rodeneck']
    >>> record_forms("Breisach am Rhein", "DE"), record_forms("Ostseebad Binz", "DE")
    (['Breisach'], ['Binz'])
    >>> record_forms("Breisach am Rhein", "FR"), record_forms("Zürich (Kreis 7) / Witikon", "CH")
    ([], ['Witikon'])
    """
    forms: list[str] = []
    parts = [p for p in _TWO_LANGUAGES.split(name) if p]
    if len(parts) > 1:
        forms += [p for p in parts if len(p) >= 3 and "(" not in p and ")" not in p]
    if iso in GERMAN_SPEAKING:
        title = _GERMAN_TITLE.match(name)
        if title is not None:
            forms.append(title.group("name"))
        addition = german_addition(name, iso)
        if addition is not None:
            forms.append(addition[0])
    return forms


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def subdivision_key(key: str, iso: str) -> str:
    """A match key without its region words, folded as :func:`fold_key` (the namesake test)."""
    return fold_key(" ".join(REGION_WORDS.sub(" ", key).split()), iso)


def cyrillic_region_key(key: str, iso: str) -> str:
    """The key of a Cyrillic country's region without its region word, folded to a fixed
    point (the folds of one pass make new pairs: "kolomyia" gives "kolomyya", then "kolomya").

    >>> cyrillic_region_key("kolomyia raion", "UA") == cyrillic_region_key("kolomyya", "UA")
    True
    >>> cyrillic_region_key("yeysky district", "RU") == cyrillic_region_key("yeyskiy rayon", "RU")
    True
    """
    key = " ".join(CYRILLIC_REGION_WORDS.sub(" ", key).split())
    folded = fold_key(key, iso)
    while (again := fold_key(folded, iso)) != folded:
        folded = again
    return folded


def added(name: str, record: str, iso: str) -> bool:
    """Whether one name is the other with a geographical addition after it: "Aguilar de la
    Frontera" is *Aguilar*, "Lonato del Garda" *Lonato*, "Droitwich Spa" *Droitwich*, "Hay-on-Wye"
    *Hay*, "Mukono Town" *Mukono*; "Lomnice" is *Lomnice nad Popelkou*, "Birchington"
    *Birchington-on-Sea*. A conjunction ("and", "cum", "e", "et") is no connective: two names
    joined are a merged municipality, not one of its parts ("Bardsey cum Rigton" is the parish,
    not the village *Bardsey*). In France only when GeoNames has the longer name: a French name
    longer than its record is mostly a *commune nouvelle* (2015 to 2019) named after its seat,
    whose record is the former commune ("Beaupréau-en-Mauges" is not *Beaupréau*,
    "Carentan-les-Marais" not *Carentan*).

    >>> added("Aguilar de la Frontera", "Aguilar", "ES")
    True
    >>> added("Lomnice", "Lomnice nad Popelkou", "CZ")
    True
    >>> added("Beaupréau-en-Mauges", "Beaupréau", "FR"), added("Oissel", "Oissel-sur-Seine", "FR")
    (False, True)
    >>> added("Bardsey cum Rigton", "Bardsey", "GB"), added("Oron", "Oron-la-Ville", "CH")
    (False, False)
    """
    a, b = match_key(name), match_key(record)
    if (lists := _ADDITION.match(a)) is not None and lists.group("base") == b:
        return iso != "FR"
    return (geonames := _ADDITION.match(b)) is not None and geonames.group("base") == a


def alike(name: str, record: str, iso: str) -> bool:
    """Whether two names are spellings of one name: their loose keys (:func:`loose_key`) at
    least :data:`ALIKE_SIMILARITY` alike, and neither is the other with words added ("Bad
    Großpertholz" is not *Grosspertholz*, "Figline e Incisa
    Valdarno" not *Figline Valdarno*: merged or renamed municipalities and their old parts)
    or letters added ("Clutha" is not *Balclutha*, "Kimitoön" not *Kimito*, "Sikyona" not
    *Sikyón*: a municipality and its main village; this also loses *Bouloupari* for
    "Boulouparis").

    >>> alike("Heligoland", "Helgoland", "DE"), alike("Veria", "Véroia", "GR")
    (True, True)
    >>> alike("Bad Großpertholz", "Grosspertholz", "AT"), alike("Clutha", "Balclutha", "NZ")
    (False, False)
    >>> alike("Kimitoön", "Kimito", "FI"), alike("Emmerting", "Mehring", "DE")
    (False, False)
    """
    a, b = match_key(name), match_key(record)
    words_a, words_b = set(a.split()), set(b.split())
    if words_a != words_b and (words_a <= words_b or words_b <= words_a):
        return False
    loose_a, loose_b = fold_key(a, iso), fold_key(b, iso)
    short, long = sorted((loose_a, loose_b), key=len)
    if short != long and short in long:
        return False
    return similarity(loose_a, loose_b) >= ALIKE_SIMILARITY
