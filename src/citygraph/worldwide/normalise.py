"""Normalising the names and countries of the Wikipedia twin-town lists.

Pure functions, no I/O: a country cell becomes an ISO 3166-1 alpha-2 code (plus the qualifier it
carried), a place cell becomes a :class:`PlaceName` (a city, a city district or a region), and
every name gets a matching key and a slug for its IRI. See docs/worldwide.md for the rules and
the examples they were written from.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "CONSTITUENT_COUNTRIES",
    "EN_DASH",
    "GERMAN_SPEAKING",
    "Country",
    "PlaceKind",
    "PlaceName",
    "clean",
    "german_addition",
    "match_key",
    "parse_country",
    "parse_place",
    "region_forms",
    "slugify",
]

#: Constituent countries of the United Kingdom, as the lists write them ("Wales, United Kingdom").
CONSTITUENT_COUNTRIES: Mapping[str, str] = {
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
}

#: Country spellings of the lists that are not GeoNames country names (lower case → ISO code).
#: Typos are kept as found in the 2026 files ("Grece", "Japa", "Kazakhstah", "in Italy").
COUNTRY_ALIASES: Mapping[str, str] = {
    "bosnia and hercegovina": "BA",
    "cape verde": "CV",
    "congo": "CG",
    "czech republic": "CZ",
    "east timor": "TL",
    "timor-leste": "TL",
    "federated states of micronesia": "FM",
    "georgia (country)": "GE",
    "grece": "GR",
    "island": "IS",  # "Norðurþing, Island": the German/Scandinavian name of Iceland
    "japa": "JP",
    "kazakhstah": "KZ",
    "madagaskar": "MG",
    "moldavia": "MD",
    "netherlands": "NL",
    # GeoNames files the places of Northern Cyprus under CY; the lists keep a separate page.
    "northern cyprus": "CY",
    "palestine": "PS",
    "west bank": "PS",
    "republic of ireland": "IE",
    "surinam": "SR",
    "são tomé and príncipe": "ST",
    "sao tome and principe": "ST",
    "in italy": "IT",
    "united states of america": "US",
    "usa": "US",
    "uk": "GB",
    "russian federation": "RU",
    "türkiye": "TR",
    "turkiye": "TR",
    "czechia": "CZ",
    "ivory coast": "CI",
    "côte d'ivoire": "CI",
    "vatican city": "VA",
    "the gambia": "GM",
    "the bahamas": "BS",
}

#: Overseas parts of a country that GeoNames (and ISO 3166) code as countries of their own.
OVERSEAS: Mapping[tuple[str, str], str] = {
    ("réunion", "FR"): "RE",
    ("guadeloupe", "FR"): "GP",
    ("martinique", "FR"): "MQ",
    ("french guiana", "FR"): "GF",
    ("mayotte", "FR"): "YT",
    ("åland islands", "FI"): "AX",
}

#: Words that make a name a region rather than a city ("Forchheim (district)", "Kyiv Oblast").
REGION_WORDS = re.compile(
    r"\b(region|province|prefecture|county|oblast|krai|kraj|voivodeship|governorate|"
    r"department|d[ée]partement|district|communaut[ée]|microregion|autonomous community|"
    r"raion|rayon|okrug|state)\b",
    re.IGNORECASE,
)

#: A parenthesis that says the name is a region ("Forchheim (district)"); other parentheses
#: qualify a town ("Doksy (Česká Lípa District)", "Halle (Saale)", "Kłodzko (rural gmina)").
REGION_QUALIFIERS = frozenset(
    {"district", "microregion", "communauté", "region", "county", "province", "municipality"}
)

#: A parenthesis naming a unit other than the town of the same name ("Kłodzko (rural gmina)").
OTHER_ENTITY = re.compile(r"gmina|parish|commune|rural|urban", re.IGNORECASE)


class PlaceKind(Enum):
    """What a place cell names."""

    CITY = "city"
    DISTRICT = "district"
    REGION = "region"


@dataclass(frozen=True)
class Country:
    """A parsed country cell: the ISO code (``None`` if unknown) and what else it said."""

    iso: str | None
    qualifier: str | None = None  # "Algarve" in "Algarve, Portugal"
    constituent: str | None = None  # "Wales" in "Wales, United Kingdom"


@dataclass(frozen=True)
class PlaceName:
    """A parsed place cell.

    ``name`` is the place's own name (``"Tempelhof-Schöneberg"``), ``parent`` the city a district
    belongs to (``"Berlin"``), ``qualifier`` what distinguishes places of the same name
    (``"Algarve"`` in ``"Lagoa, Algarve"``), ``display`` the cleaned full form used as label.
    """

    kind: PlaceKind
    name: str
    display: str
    parent: str | None = None
    qualifier: str | None = None


#: Countries where German-language names carry additions ("am Main", "in der Oberpfalz").
GERMAN_SPEAKING = frozenset({"DE", "AT", "CH", "LI", "LU"})
#: "am Main", "an der Donau", "im Allgäu", "in der Oberpfalz", "bei Berlin", "ob der Enns".
_GERMAN_ADDITION = re.compile(
    r"^(?P<name>.+?)\s+(?:am|an der|an den|an|im|in der|in|bei|ob der|ob|unter|auf der|auf|"
    r"vor der)\s+(?P<what>\S.*)$"
)

EN_DASH = "\u2013"
_DASHES = re.compile("\\s+[-\u2013\u2014]\\s+")
_SPACES = re.compile(r"\s+")
_FOOTNOTE = re.compile(r"\[[^\]]*\]")
_PAREN = re.compile(r"^(?P<name>.+?)\s*\((?P<inner>[^()]+)\)$")
#: The city before the dash: "Vienna 5" (- Margareten), "Budapest XIX" (- Kispest).
_NUMBERED = re.compile(r"^(?P<city>.+?)\s+(?P<number>\d+|[IVXL]+)\.?$")
_SAINTS = {"st": "saint", "ste": "sainte", "sankt": "saint"}
_SAINTS_RE = re.compile(r"\b(?:st|ste|sankt)\b", re.IGNORECASE)
_TRANSLIT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue", "æ": "ae"}
)
_TRANSLIT_MORE = str.maketrans(
    {"ø": "o", "đ": "d", "ł": "l", "\u0131": "i", "þ": "th", "ð": "d", "œ": "oe", "ħ": "h"}
)


def clean(text: str) -> str:
    """Return ``text`` in NFC with single spaces, en dashes between parts and no footnotes.

    >>> clean("  Berlin - Mitte [3] ") == "Berlin \u2013 Mitte"
    True
    """
    text = unicodedata.normalize("NFC", text)
    text = _FOOTNOTE.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    return _DASHES.sub(f" {EN_DASH} ", text)


class _FoldTable(dict[int, str]):
    """``str.translate`` table folding case and accents, filled one character at a time."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        folded = char.casefold().translate(_TRANSLIT_MORE)
        folded = "".join(
            c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c)
        )
        if _APOSTROPHES.fullmatch(char):
            folded = ""
        elif not folded.isalnum():
            folded = " "
        self[code] = folded
        return folded


_APOSTROPHES = re.compile("[\u2019'`\u02bb\u02bc]")
_FOLD = _FoldTable()


def match_key(text: str) -> str:
    """Return the key two spellings of one name share: case, accents and punctuation folded.

    "St." and "Saint" are the same word, "-" and " " too.

    >>> match_key("Saint-Étienne") == match_key("St. Etienne")
    True
    >>> match_key("Tempelhof-Schöneberg (Berlin)")
    'tempelhof schoneberg berlin'
    """
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    words = text.translate(_FOLD).split()
    if _SAINTS_RE.search(text):
        words = [_SAINTS.get(word, word) for word in words]
    return " ".join(words)


@functools.lru_cache(maxsize=65536)
def slugify(text: str) -> str:
    """Return the IRI slug of a name: lower case ASCII, German umlauts as ae/oe/ue, hyphens.

    >>> slugify("Tempelhof-Schöneberg")
    'tempelhof-schoeneberg'
    >>> slugify("Saint-Étienne")
    'saint-etienne'
    """
    text = clean(text).translate(_TRANSLIT).casefold().translate(_TRANSLIT_MORE)
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def german_addition(name: str, iso: str) -> tuple[str, str] | None:
    """A German-language name of country ``iso`` split into the bare name and its addition
    (a river, lake, landscape or subdivision), or ``None``.

    >>> german_addition("Weiden in der Oberpfalz", "DE")
    ('Weiden', 'Oberpfalz')
    >>> german_addition("Hattersheim am Main", "DE")
    ('Hattersheim', 'Main')
    >>> german_addition("Castiglione in Teverina", "IT") is None
    True
    """
    if iso not in GERMAN_SPEAKING:
        return None
    match = _GERMAN_ADDITION.match(name)
    if match is None:
        return None
    return match.group("name"), match.group("what")


def parse_country(text: str, country_names: Mapping[str, str]) -> Country:
    """Parse a country cell; ``country_names`` maps lower-case GeoNames names to ISO codes.

    >>> names = {"united kingdom": "GB", "portugal": "PT", "germany": "DE"}
    >>> parse_country("Wales, United Kingdom", names)
    Country(iso='GB', qualifier=None, constituent='Wales')
    >>> parse_country("Algarve, Portugal", names)
    Country(iso='PT', qualifier='Algarve', constituent=None)
    >>> parse_country("Atlantis", names).iso is None
    True
    """
    text = clean(text)
    if not text:
        return Country(None)
    whole = _lookup_country(text, country_names)
    if whole is not None:
        constituent = text if text.casefold() in CONSTITUENT_COUNTRIES else None
        return Country(whole, constituent=constituent)
    head, _, tail = text.rpartition(",")
    head, tail = head.strip(), tail.strip()
    if not head:
        return Country(None)
    iso = _lookup_country(tail, country_names)
    if iso is None:
        return Country(None)
    if head.casefold() in CONSTITUENT_COUNTRIES:
        return Country(iso, constituent=head)
    overseas = OVERSEAS.get((head.casefold(), iso))
    if overseas is not None:
        return Country(overseas)
    return Country(iso, qualifier=head)


def _lookup_country(text: str, country_names: Mapping[str, str]) -> str | None:
    key = text.casefold()
    return country_names.get(key) or COUNTRY_ALIASES.get(key) or CONSTITUENT_COUNTRIES.get(key)


def parse_place(
    text: str,
    iso: str,
    *,
    qualifier: str | None = None,
    is_city: Callable[[str, str], bool],
    is_region: Callable[[str, str], bool] = lambda name, iso: False,
) -> PlaceName:
    """Parse a place cell of country ``iso``.

    ``qualifier`` comes from the country cell ("Algarve, Portugal"); ``is_city(name, iso)`` says
    whether GeoNames knows a city of that name in the country (it decides whether "X (Berlin)" is
    a district of Berlin and whether "Madrid" is the city rather than the region);
    ``is_region(name, iso)`` whether it knows a subdivision of that name ("Calabria").

    >>> known = lambda name, iso: name in {"Berlin", "Vienna"}
    >>> parse_place("Tempelhof-Schöneberg (Berlin)", "DE", is_city=known)
    PlaceName(kind=<PlaceKind.DISTRICT: 'district'>, name='Tempelhof-Schöneberg', display='Tempelhof-Schöneberg (Berlin)', parent='Berlin', qualifier=None)
    >>> parse_place("Vienna 5 \u2013 Margareten", "AT", is_city=known).parent
    'Vienna'
    >>> parse_place("Calabria", "IT", is_city=known, is_region=lambda n, i: n == "Calabria").kind
    <PlaceKind.REGION: 'region'>
    >>> parse_place("Kyiv Oblast", "UA", is_city=known).kind
    <PlaceKind.REGION: 'region'>
    """  # noqa: E501
    display = clean(text)
    name = display
    inner_qualifier: str | None = None
    paren = _PAREN.match(display)
    if paren is not None:
        inner = paren.group("inner").strip()
        base = paren.group("name").strip()
        if is_city(inner, iso) and match_key(inner) != match_key(base):
            # "Prague 6 (Prague)" is the district "6" of Prague, as "Prague 6" is.
            numbered = _NUMBERED.match(base)
            if numbered and match_key(numbered.group("city")) == match_key(inner):
                base = numbered.group("number")
            return PlaceName(PlaceKind.DISTRICT, base, display, parent=inner)
        if inner.casefold() in REGION_QUALIFIERS:
            # "Forchheim (district)": the district (Landkreis) itself, not the town.
            return PlaceName(PlaceKind.REGION, base, display)
        inner_qualifier = inner
        if not OTHER_ENTITY.search(inner):
            # "Doksy (Česká Lípa District)" is the town Doksy; "Kłodzko (rural gmina)" is not
            # the town Kłodzko, so it keeps its full name.
            name = base
    elif f" {EN_DASH} " in display:
        head, _, tail = display.partition(f" {EN_DASH} ")
        numbered = _NUMBERED.match(head)
        city = numbered.group("city") if numbered else head
        if is_city(city, iso):
            return PlaceName(PlaceKind.DISTRICT, tail, display, parent=city)
    elif "," in display:
        head, _, tail = display.partition(",")
        name, inner_qualifier = head.strip(), tail.strip()
    elif (
        (numbered := _NUMBERED.match(display))
        and not is_city(display, iso)
        and is_city(numbered.group("city"), iso)
    ):
        # "Prague 6", "Budapest XV": a numbered district of a city.
        city = numbered.group("city")
        return PlaceName(PlaceKind.DISTRICT, numbered.group("number"), display, parent=city)
    if not is_city(display, iso) and _is_region(name, iso, is_city, is_region):
        return PlaceName(PlaceKind.REGION, name, display)
    if inner_qualifier is None and qualifier is not None:
        inner_qualifier = qualifier
        display = f"{display}, {qualifier}"
    if inner_qualifier is None and (addition := german_addition(name, iso)) is not None:
        # "Zeil am Main", "Weiden in der Oberpfalz": the addition qualifies the bare name.
        name, inner_qualifier = addition
    return PlaceName(PlaceKind.CITY, name, display, qualifier=inner_qualifier)


def _is_region(
    name: str,
    iso: str,
    is_city: Callable[[str, str], bool],
    is_region: Callable[[str, str], bool],
) -> bool:
    if is_city(name, iso):
        return False
    return REGION_WORDS.search(name) is not None or is_region(name, iso)


def region_forms(place: PlaceName) -> list[tuple[str, str | None]]:
    """The names a region may have in GeoNames, with the region word each one dropped.

    The full forms first ("Teramo Province", "County Clare"), then the name without its region
    word ("Teramo", "Clare"); the word says which kind of subdivision the shorter form must be.

    >>> region_forms(PlaceName(PlaceKind.REGION, "County Clare", "County Clare"))
    [('County Clare', None), ('Clare', 'county')]
    >>> region_forms(PlaceName(PlaceKind.REGION, "Forchheim", "Forchheim (district)"))
    [('Forchheim (district)', None), ('Forchheim', 'district')]
    """
    forms: dict[str, str | None] = {place.display: None}
    paren = _PAREN.match(place.display)
    if paren is not None and paren.group("inner").casefold() in REGION_QUALIFIERS:
        forms.setdefault(paren.group("name").strip(), paren.group("inner").casefold())
    words = list(REGION_WORDS.finditer(place.name))
    if len(words) == 1:
        word = words[0]
        rest = (place.name[: word.start()] + place.name[word.end() :]).strip(" -,")
        if rest:
            forms.setdefault(_SPACES.sub(" ", rest), word.group(0).casefold())
    else:
        forms.setdefault(place.name, None)
    return list(forms.items())
