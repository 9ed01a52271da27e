"""What a document about a thing contains (citygraph.documents), on the real data."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from tests.backends import every_backend

from citygraph import documents, indexes
from citygraph.namespaces import CG, PREFIXES

pytestmark = [every_backend, pytest.mark.virtuoso]

ID = "https://w3id.org/citygraph/id/"
BERLIN = ID + "city/de-berlin"
BEIJING = ID + "city/cn-beijing"
BERLIN_BEIJING = ID + "partnership/cn-beijing--de-berlin"
RDFS_LABEL = PREFIXES["rdfs"] + "label"
PROV_FROM = PREFIXES["prov"] + "wasDerivedFrom"


def _has(triples: list[ox.Triple], s: str, p: str, o: str | None = None) -> bool:
    return any(
        t.subject == ox.NamedNode(s)
        and t.predicate == ox.NamedNode(p)
        and (o is None or getattr(t.object, "value", None) == o)
        for t in triples
    )


def test_a_city_document_has_its_own_statements_and_incoming_partner_links(
    store: ox.Store,
) -> None:
    triples = documents.describe(store, BERLIN)
    assert _has(triples, BERLIN, RDFS_LABEL, "Berlin")
    assert _has(triples, BERLIN, CG + "country", ID + "country/de")
    # incoming: the partnership where Berlin is a partner, with its key facts
    assert _has(triples, BERLIN_BEIJING, CG + "partner", BERLIN)
    assert _has(triples, BERLIN_BEIJING, CG + "startDate", "1994-04-05")
    # labels of what the key facts point to (the other partner's name)
    assert _has(triples, BEIJING, RDFS_LABEL)
    # the symmetric shortcut, both ways
    assert _has(triples, BEIJING, CG + "twinnedWith", BERLIN)
    assert _has(triples, BERLIN, CG + "twinnedWith", BEIJING)


def test_a_partnership_document_has_its_sources_and_its_predecessors_agreements(
    store: ox.Store,
) -> None:
    triples = documents.describe(store, BERLIN_BEIJING)
    source = ID + "source/berlin-de-beijing-de"
    assert _has(triples, BERLIN_BEIJING, PROV_FROM, source)
    assert _has(triples, source, PREFIXES["dcterms"] + "publisher")
    agreement_1988 = ID + "agreement/cn-beijing--de-east-berlin-1988-05-05-agreement"
    assert _has(triples, agreement_1988, CG + "signedOn", "1988-05-05")
    assert _has(triples, agreement_1988, PROV_FROM, source)


def test_a_document_does_not_contain_unrelated_things(store: ox.Store) -> None:
    triples = documents.describe(store, BERLIN_BEIJING)
    subjects = {t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)}
    assert ID + "city/de-wuppertal" not in subjects


def test_an_unknown_thing_has_an_empty_document(store: ox.Store) -> None:
    assert documents.describe(store, ID + "city/xx-nowhere") == []
    assert not documents.exists(store, ID + "city/xx-nowhere")
    assert documents.exists(store, BERLIN)


@pytest.mark.parametrize(
    "bad", ["not an iri", "https://x/a> <b", ""], ids=["words", "quote", "empty"]
)
def test_values_are_bound_never_pasted(store: ox.Store, bad: str) -> None:
    with pytest.raises(ValueError, match=r"IRI|scheme"):
        documents.describe(store, bad)


def test_partnership_listing_and_filters(store: ox.Store) -> None:
    rows = indexes.list_partnerships(store)
    berlin = indexes.filter_partnerships(rows, place=BERLIN)
    assert BERLIN_BEIJING in {r.iri for r in berlin}
    assert all(BERLIN in r.partners for r in berlin)
    in_1994 = indexes.filter_partnerships(rows, place=BERLIN, since=1994, until=1994)
    assert {r.start[:4] for r in in_1994} == {"1994"}
    chinese = indexes.filter_partnerships(rows, country=ID + "country/cn")
    assert chinese
    assert all(ID + "country/cn" in r.countries for r in chinese)


def test_places_and_sources_listings(store: ox.Store) -> None:
    places = {r.iri: r for r in indexes.list_places(store)}
    assert places[BERLIN].partnerships >= 10
    sources = {r.iri: r for r in indexes.list_sources(store)}
    assert sources[ID + "source/berlin-de-beijing-de"].facts > 0
