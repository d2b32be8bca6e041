"""Does a quoted passage answer the question, or only talk about its topic?
(assistant/answerability.py, and end to end on the bundled page). The sentences built here are
FICTITIOUS, written for the test; only the bundled corpus is real HAS text."""

from __future__ import annotations

import pytest

from assistant.answer.answerability import answers, expectation


@pytest.mark.parametrize(
    ("question", "language", "kind"),
    [
        ("Combien de critères le comité retient-il ?", "fr", "count"),
        ("Combien coûte la formation ?", "fr", "amount"),
        ("Quel est le budget du plan fictif ?", "fr", "amount"),
        ("En quelle année le guide a-t-il été publié ?", "fr", "date"),
        ("À partir de quand le référentiel s'applique-t-il ?", "fr", "date"),
        ("Combien de temps dure l'essai ?", "fr", "duration"),
        ("Dans quel délai faut-il déclarer un incident ?", "fr", "duration"),
        ("À quelle fréquence le comité se réunit-il ?", "fr", "frequency"),
        ("Qui rédige la fiche d'évaluation ?", "fr", "person"),
        ("Quel organisme mène l'expérimentation ?", "fr", "person"),
        ("Quel est le nom de l'outil autorisé ?", "fr", "name"),
        ("Quels sont les deux services pilotes ?", "fr", "list"),
        ("How many professionals took the training?", "en", "count"),
        ("When was the guide adopted?", "en", "date"),
        ("How often is the drill held?", "en", "frequency"),
        # a frame « quand … , » is not what is asked
        ("Quand un examen est lu à distance, l'alerte suit-elle l'examen ?", "fr", "any"),
        ("Que doit faire un établissement quand il utilise ces outils ?", "fr", "any"),
        ("Qu'est-ce qu'un DMN ?", "fr", "any"),
    ],
)
def test_expected_answer_type(question, language, kind):
    assert expectation(question, language).kind == kind


@pytest.mark.parametrize(
    ("question", "passage", "expected"),
    [
        # counts: a number before the counted thing, not any number
        ("Combien de membres compte la commission fictive ?",
         "La commission fictive se réunit deux fois par an.", False),
        ("Combien de membres compte la commission fictive ?",
         "La commission fictive compte douze membres.", True),
        ("Combien de critères le comité fictif retient-il ?",
         "En 2031, le comité fictif a revu ses critères.", False),  # a year is not a count
        # amounts
        ("Combien coûte la formation de trois heures ?",
         "Chaque professionnel suit une formation de trois heures.", False),
        ("Combien coûte la formation de trois heures ?",
         "La formation de trois heures coûte 150 euros par professionnel.", True),
        # dates, absolute or relative, about the focus
        ("Quand l'essai de douze semaines doit-il commencer ?",
         "L'essai fictif dure douze semaines dans deux services.", False),
        ("Quand l'essai fictif doit-il commencer ?",
         "L'essai fictif commence en septembre 2031.", True),
        ("Depuis quand la formation des équipes doit-elle dater au plus tard ?",
         "La formation des équipes date au plus tard des vingt-quatre derniers mois.", True),
        # names: a name the question does not give, next to the thing named
        ("Quel est le nom du référent numérique ?",
         "Le référent numérique du service rédige la fiche.", False),
        ("Quel est le nom de l'outil autorisé au centre fictif de Brumes ?",
         "Au centre fictif de Brumes, la formation dure deux demi-journées.", False),
        # who: someone named, and the question's action
        ("Qui préside la commission fictive des équipements ?",
         "La décision finale revient à la commission fictive des équipements.", False),
        ("Qui rédige la fiche d'évaluation ?",
         "Le référent numérique du service rédige la fiche d'évaluation.", True),
        # a labelled member, not one inside an enumeration
        ("Que recouvre le niveau C ?",
         "Le référentiel fictif distingue quatre niveaux A, B, C et D.", False),
        ("Que recouvre le niveau C ?",
         "Niveau C : le critère n'est pas satisfait.", True),
        ("Que doit préciser le plan pour un critère évalué au niveau B ?",
         "Le plan reprend les critères évalués au niveau B et précise l'action prévue.", True),
        # a list of a stated size
        ("Quels sont les deux services pilotes retenus ?",
         "L'essai fictif se déroule dans deux services pilotes.", False),
        ("Quels sont les deux services pilotes retenus ?",
         "Les services pilotes retenus sont la cardiologie et la néphrologie.", True),
    ],
)  # fmt: skip
def test_a_unit_answers_only_with_a_value_of_the_expected_type(question, passage, expected):
    assert answers(passage, expectation(question), question) is expected


def test_a_lead_in_with_its_items_answers_a_list_question():
    unit = "Le cadre fictif s'articule autour de 3 axes :\n- Guider ;\n- Accompagner ;\n- Évaluer."
    question = "Quels sont les trois axes du cadre fictif ?"
    assert answers(unit, expectation(question), question)


# ---------------------------------------------------------------- end to end, bundled page


@pytest.mark.parametrize(
    "question",
    [
        "Combien coûte le guide d'aide au choix publié par la HAS ?",
        "Combien d'établissements participent à l'expérimentation pilote avec la CNAM ?",
        "Quel est le nom du responsable du guide d'analyse économique ?",
    ],
)
def test_near_miss_questions_are_refused_on_the_bundled_page(bundled, question):
    """The topic is on the page; the asked-for value is not."""
    answer = bundled.ask(question)
    assert answer.refused and answer.refusal_reason == "no_evidence", answer.answer


def test_a_multi_part_question_says_which_part_is_not_answered(bundled):
    answer = bundled.ask(
        "En quelle année la HAS a-t-elle initié le cadre de confiance, et combien coûte "
        "le guide d'aide au choix ?"
    )
    assert not answer.refused and "2022" in answer.answer
    assert any("« combien coûte le guide d'aide au choix »" in n for n in answer.notices), (
        answer.notices
    )
