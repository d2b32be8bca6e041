"""The grounding check on hand-made (sentence, passage) cases, with the real e5 model."""

from __future__ import annotations

import pytest

from assistant.answer.grounding import AnswerSentence, GroundingChecker, parse_answer

PASSAGES = {
    1: "Face à ce constat, la HAS a initié en 2022 un cadre de confiance pour les technologies "
    "numériques. Le cadre de confiance à construire s’articule autour de 3 axes :\n"
    "- Guider la sélection des professionnels ;\n- Accompagner les usages.",
    2: "Il n’a pas pour vocation d’apporter des réponses spécifiques pour évaluer un DMN "
    "particulier ou d’établir un score.",
}


@pytest.fixture(scope="module")
def checker(e5):
    return GroundingChecker(e5)


@pytest.mark.parametrize(
    ("sentence", "supported", "reason"),
    [
        ("La HAS a initié en 2022 un cadre de confiance [1].", True, ""),
        ("Le cadre de confiance s'articule autour de trois axes [1].", True, ""),
        ("La HAS a initié en 2024 un cadre de confiance [1].", False, "2024"),
        ("Le cadre de confiance s'articule autour de quatre axes [1].", False, "4"),
        ("La CNAM a initié en 2022 un cadre de confiance [1].", False, "CNAM"),
        ("Le guide permet d'établir un score pour un DMN [2].", False, "negation"),
        ("Il n'a pas pour vocation d'établir un score [2].", True, ""),
        ("La HAS a initié en 2022 un cadre de confiance.", False, "no citation"),
        ("La HAS a initié en 2022 un cadre de confiance [7].", False, "unknown citation"),
        ("Les hôpitaux doivent acheter des logiciels certifiés [1].", False, "not in the cited"),
    ],
)
def test_verdicts(checker, sentence, supported, reason):
    verdict = checker.check_text(sentence, PASSAGES).verdicts[0]
    assert verdict.supported is supported, verdict
    assert reason in verdict.reason


def test_parse_answer_keeps_markers_written_after_the_period():
    parsed = parse_answer(
        "Intro :\n« Première phrase. » [1] Deuxième phrase [2][3].\n"
        "- un item [1]\nPhrase sans marqueur."
    )
    assert parsed == [
        AnswerSentence("Intro :", ()),
        AnswerSentence("Première phrase.", (1,)),
        AnswerSentence("Deuxième phrase.", (2, 3)),
        AnswerSentence("un item", (1,)),
        AnswerSentence("Phrase sans marqueur.", ()),
    ]


def test_report_counts_and_serialises(checker):
    report = checker.check_text(
        "La HAS a initié en 2022 un cadre de confiance [1]. Elle a 9 axes [1].", PASSAGES
    )
    data = report.model_dump(mode="json", by_alias=True)
    assert (data["supported"], data["total"], data["score"]) == (1, 2, 0.5)
    assert data["unsupported"] == ["Elle a 9 axes."]
    assert data["sentences"][1]["reason"].startswith("number or date")


def test_without_embedder_only_lexical_signals(tmp_path):
    plain = GroundingChecker(None)
    verdict = plain.check_text("Le cadre compte trois axes [1].", PASSAGES).verdicts[0]
    assert verdict.similarity is None


@pytest.mark.parametrize(
    ("sentence", "reason"),
    [
        ("Seuls les hôpitaux publics sont concernés par le cadre de confiance [1].", "qualifier"),
        ("Le cadre de confiance s'adresse aux patients [1].", "actor"),
        ("Les trois axes sont toujours évalués [1].", "qualifier"),
    ],
)
def test_qualifiers_and_actors_absent_from_the_passage(checker, sentence, reason):
    verdict = checker.check_text(sentence, PASSAGES).verdicts[0]
    assert not verdict.supported and reason in verdict.reason


@pytest.mark.parametrize(
    ("sentence", "supported"),
    [
        ("L'outil fictif équipe mille deux cents établissements [1].", True),
        ("L'outil fictif équipe 1200 établissements [1].", True),
        ("Il a servi à douze mille patients [1].", True),
        ("L'outil fictif équipe 1 300 établissements [1].", False),
        ("Il a servi à douze cents patients [1].", False),
    ],
)
def test_figures_with_french_thousands_separators(sentence, supported):
    """« 1 200 » (space, no-break or narrow no-break space) is one figure, not 1 and 200: a
    faithful « mille deux cents » or « 1200 » is supported, another figure is not."""
    passage = {1: "L'outil fictif équipe 1 200 établissements et a servi à 12\u202f000 patients."}
    verdict = GroundingChecker(None).check_text(sentence, passage).verdicts[0]
    assert verdict.supported is supported, verdict.reason


def test_a_list_item_is_read_with_its_lead_in(checker):
    verdict = checker.check_text(
        "Le cadre de confiance s'articule notamment autour de l'accompagnement des usages [1].",
        PASSAGES,
    ).verdicts[0]
    assert verdict.supported, verdict


def test_shipped_grounding_pairs_are_balanced_and_cover_each_kind_of_change():
    import json
    from pathlib import Path

    pairs = [json.loads(x) for x in Path("eval/grounding_pairs.jsonl").read_text().splitlines()]
    assert len(pairs) >= 80
    assert {p["change"] for p in pairs if not p["supported"]} >= {
        "number",
        "date",
        "negation",
        "actor",
        "scope",
    }
    assert 0.4 <= sum(p["supported"] for p in pairs) / len(pairs) <= 0.6
