"""The support check on the kinds of paraphrase an LLM writes and the kinds of error it
makes (assistant/claims.py, assistant/grounding.py). The passages are FICTITIOUS, written for
this test in the style of a HAS text; none is HAS content."""

from __future__ import annotations

import pytest

from assistant.answer.grounding import AnswerSentence, GroundingChecker

LIST = (
    "Le référentiel fictif retient deux critères liés au numérique :\n"
    "- Un critère standard sur les outils sans finalité médicale pour organiser les soins ;\n"
    "- Un critère avancé sur les dispositifs médicaux numériques (DMN) à usage professionnel."
)
ACTORS = (
    "Dans le centre fictif de Brumes, la télé-expertise permet à un médecin généraliste de "
    "solliciter l'avis d'un dermatologue. Le dermatologue rend son avis dans un délai de "
    "sept jours."
)
TRIAGE = (
    "L'outil fictif propose un niveau de priorité, mais la décision de tri reste celle de "
    "l'infirmier d'accueil. Les propositions de l'outil sont comparées chaque mois aux "
    "décisions prises."
)
RULES = (
    "Le comité fictif impose une formation obligatoire de trois heures avant tout usage de "
    "l'intelligence artificielle générative. Les outils peuvent être utilisés pour rédiger "
    "des brouillons. Une solution sans marquage CE ne doit jamais être retenue."
)
WORK = (
    "Des travaux sont en cours visant à produire un guide fictif d'évaluation des outils de "
    "télésurveillance. Ce guide détaillera les critères de choix des établissements."
)


@pytest.fixture(scope="module")
def checker(e5) -> GroundingChecker:
    return GroundingChecker(e5)


def verdict(checker: GroundingChecker, sentence: str, passage: str):
    return checker.check_sentence(AnswerSentence(sentence, (1,)), {1: passage})


@pytest.mark.parametrize(
    ("sentence", "passage"),
    [
        # a list summarised in one sentence, counted by its items
        (
            "Le référentiel fictif compte deux critères : un critère standard sur les outils "
            "sans finalité médicale et un critère avancé sur les DMN.",
            LIST,
        ),
        # acronym ↔ expansion, hyphenation, derivation
        (
            "Un critère avancé porte sur les DMN à usage professionnel.",
            LIST,
        ),
        (
            "La téléexpertise permet à un médecin généraliste de solliciter l'avis d'un "
            "dermatologue dans le centre fictif de Brumes.",
            ACTORS,
        ),
        (
            "Le comité fictif impose une formation de trois heures avant d'utiliser l'IA "
            "générative.",
            RULES,
        ),
        # a passive turn changes the order of the actors, not the claim
        (
            "Le niveau de priorité est proposé par l'outil fictif, la décision de tri revenant "
            "à l'infirmier d'accueil.",
            TRIAGE,
        ),
        # a negation said another way (« sans » ↔ « dépourvue de », « ne … jamais »)
        (
            "Le comité fictif ne doit jamais retenir une solution dépourvue de marquage CE.",
            RULES,
        ),
    ],
)
def test_faithful_paraphrases_are_supported(checker, sentence, passage):
    v = verdict(checker, sentence, passage)
    assert v.supported, v


@pytest.mark.parametrize(
    ("sentence", "passage", "reason"),
    [
        # what the passage says of one item, said of the other
        (
            "Le critère avancé porte sur les outils sans finalité médicale.",
            LIST,
            "items",
        ),
        # the two actors swapped within one clause
        (
            "La télé-expertise permet à un dermatologue de solliciter l'avis d'un médecin "
            "généraliste dans le centre fictif de Brumes.",
            ACTORS,
            "actor",
        ),
        # one actor given another's action
        (
            "L'infirmier d'accueil propose un niveau de priorité, mais la décision de tri "
            "revient à l'outil fictif.",
            TRIAGE,
            "actor",
        ),
        # an antonym without any negation word
        (
            "Le comité fictif rend facultative la formation de trois heures avant tout usage "
            "de l'IA générative.",
            RULES,
            "opposite",
        ),
        # a negation dropped on the verb it applies to
        ("Une solution sans marquage CE peut être retenue.", RULES, "negation"),
        # « peuvent » said as « doivent »
        (
            "Les outils doivent être utilisés pour rédiger des brouillons.",
            RULES,
            "may",
        ),
        # work in progress said to be done
        (
            "Un guide fictif d'évaluation des outils de télésurveillance a été publié.",
            WORK,
            "done",
        ),
        # a frequency changed
        (
            "Les propositions de l'outil sont comparées chaque année aux décisions prises.",
            TRIAGE,
            "period",
        ),
        # a figure in words changed
        (
            "Le dermatologue rend son avis dans un délai de huit jours.",
            ACTORS,
            "number",
        ),
        # an added clause
        (
            "Le dermatologue rend son avis dans un délai de sept jours et facture chaque "
            "consultation au patient.",
            ACTORS,
            "",
        ),
        # a generalisation the passage does not make
        (
            "Le comité fictif impose une formation de trois heures avant tout usage de l'IA "
            "générative, quel que soit le métier.",
            RULES,
            "generalisation",
        ),
    ],
)
def test_errors_are_caught(checker, sentence, passage, reason):
    v = verdict(checker, sentence, passage)
    assert not v.supported, v
    assert reason in v.reason


def test_check_stays_fast_enough_to_run_on_every_answer(checker):
    """Not a timing assertion (the machine is shared): the check must not call the embedding
    model more than once per new passage unit — the passage's units are cached."""
    verdict(checker, "Le dermatologue rend son avis en sept jours.", ACTORS)
    cached = len(checker._vectors)
    verdict(checker, "Le dermatologue rend son avis sous sept jours.", ACTORS)
    assert len(checker._vectors) == cached
