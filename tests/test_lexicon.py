"""French lexical resources (assistant/lexicon.py) and numbers in words (assistant/text.py):
the forms under which a paraphrase's words are found in its source. Every sentence here is
written for the test; none is HAS text."""

from __future__ import annotations

import pytest

from assistant.answer.lexicon import (
    SYNONYM_GROUPS,
    content_words,
    defined_acronyms,
    derived,
    forms_of,
    matches,
    negated_keys,
    opposed,
    stem,
)
from assistant.text import has_negation, negations, numbers_in


def found(word: str, text: str) -> bool:
    """Is (the first content word of) ``word`` found in ``text`` under some form?"""
    w = content_words(word)[0]
    return matches(w, forms_of(text), [x.key for x in content_words(text)])


@pytest.mark.parametrize(
    ("word", "text"),
    [
        ("évaluation", "les outils sont évalués chaque année"),  # noun ↔ participle
        ("sélectionner", "la sélection des outils"),  # verb ↔ noun (derivation)
        ("télé-surveillance", "un service de télésurveillance"),  # hyphenation
        ("télésurveillance", "un service de télé-surveillance"),
        ("vise", "le comité a pour but de réduire les délais"),  # synonym group
        ("IA", "un outil d'intelligence artificielle"),  # acronym → expansion
        ("artificielle", "un outil d'IA"),  # expansion → acronym
        ("SVT", "le système de veille technologique (SVT) du centre fictif"),
        ("applique", "le référentiel est applicable en 2031"),
    ],
)
def test_a_word_is_found_under_its_forms(word, text):
    assert found(word, text)


@pytest.mark.parametrize(
    ("word", "text"),
    [
        ("information", "un outil informatique"),  # same prefix, not the same family
        ("patient", "les médecins du service"),
        ("facultatif", "une formation obligatoire"),
    ],
)
def test_a_word_is_not_found_in_an_unrelated_text(word, text):
    assert not found(word, text)


def test_derivation_needs_a_derivational_suffix():
    assert derived("select", "selection")
    assert not derived("inform", "informat")
    assert not derived("tel", "telesurveil")  # a stem too short to carry a family


def test_acronyms_defined_in_a_text_are_read():
    text = "les dispositifs médicaux numériques (DMN) et le dossier patient informatisé (DPI)"
    assert set(defined_acronyms(text)) == {"dmn", "dpi"}


def test_antonyms_and_negative_prefixes():
    obligatory, optional = (w.key for w in content_words("obligatoire facultatif"))
    assert opposed(obligatory, optional)
    assert opposed("inutil", "util")
    assert not opposed("util", "utilis")


@pytest.mark.parametrize(
    ("text", "figures"),
    [
        ("vingt-trois critères", {"23"}),
        ("en deux mille trente et un", {"2031"}),
        ("douze millions d'euros", {"12000000"}),
        ("12 millions d'euros", {"12000000"}),
        ("la moitié des incidents", {"1/2"}),
        ("avant le 15 mai 2032", {"15", "m05", "2032"}),
        ("le 15 mars 2032", {"15", "m03", "2032"}),
        ("un guide et une charte", set()),  # articles are not numbers
        # French thousands separators (space, no-break, narrow no-break) group one figure
        ("1 200 établissements", {"1200"}),
        ("12\u00a0000 patients", {"12000"}),
        ("12\u202f000 patients", {"12000"}),
        ("3 000,5 euros", {"3000.5"}),
        ("mille deux cents établissements", {"1200"}),
        ("en 2022 et 2023", {"2022", "2023"}),  # two years stay two numbers
        ("les 3 axes et 120 critères", {"3", "120"}),
    ],
)
def test_numbers_in_words_are_figures(text, figures):
    assert numbers_in(text) == figures


def test_negation_includes_sans_interdit_and_counts():
    assert has_negation("utilisés sans être évalués")
    assert has_negation("il est interdit d'y saisir des données")
    assert not has_negation("qu'ils aient ou non le statut")  # a disjunction, not a negation
    assert not has_negation("les outils sont évalués avant usage")
    assert negations("une solution sans marquage ne doit jamais être retenue") == 2


def test_negation_scope_stops_at_the_agent():
    keys = negated_keys("ne doit jamais être retenue par le comité")
    assert stem("retenu") in keys or stem("reten") in keys
    assert not {w.key for w in content_words("comité")} & keys
    assert negated_keys("non conformes disposent d'un délai") == {
        w.key for w in content_words("conformes")
    }


def test_synonym_groups_do_not_collide_once_stemmed():
    """A stem in two groups would silently join them (« application » was once both a piece
    of software and the act of applying)."""
    owner: dict[str, str] = {}
    for group in SYNONYM_GROUPS:
        for word in group:
            assert owner.setdefault(stem(word), group[0]) == group[0], word
