"""Patient-data guard: synthetic French cases (fictitious), properties, and the pipeline."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.answer.privacy import nir_key_ok, redact

from privacy_cases import negatives, positives


def test_the_synthetic_set_is_large_enough():
    assert len(positives()) >= 100 and len(negatives()) >= 100


def test_detection_recall_and_false_positives():
    pos, neg = positives(), negatives()
    hits = [kind in redact(text).detected for text, kind in pos]
    false = [text for text in neg if redact(text).detected]
    recall = sum(hits) / len(hits)
    fp_rate = len(false) / len(neg)
    assert recall >= 0.95, [t for (t, _), h in zip(pos, hits, strict=True) if not h][:5]
    assert fp_rate <= 0.03, false[:5]


def test_nir_key_check():
    assert nir_key_ok("165037511234507")
    assert not nir_key_ok("165037511234512")
    # a wrong key (a typo in a real number) still identifies someone: redacted (red team)
    assert redact("NIR 1 65 03 75 112 345 12").detected == ("nir",)
    assert redact("NIR 1 65 03 75 112 345 07").detected == ("nir",)


def test_redacted_text_keeps_the_question_and_drops_the_data():
    r = redact("Mme Martin, née le 12/03/1965, joignable au 06 12 34 56 78 : quel outil ?")
    assert "Martin" not in r.text and "1965" not in r.text and "06 12" not in r.text
    assert r.text.startswith("Mme [NOM]") and r.text.endswith("quel outil ?")
    assert set(r.detected) == {"nom", "date_de_naissance", "telephone"}


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_redaction_is_idempotent_and_never_raises(text):
    once = redact(text)
    twice = redact(once.text)
    assert twice.text == once.text
    assert twice.detected == ()


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.sampled_from(positives()), st.text(alphabet="abcdefgh ,.?", max_size=40))
def test_detection_survives_surrounding_text(case, noise):
    text, kind = case
    assert kind in redact(f"{noise} {text} {noise}").detected


def test_pipeline_redacts_before_anything_else(bundled):
    answer = bundled.ask(
        "Quels sont les axes du cadre de confiance pour Mme Martin, joignable au 06 12 34 56 78 ?"
    )
    data = answer.to_json()
    assert data["privacy"]["detected"] == ["telephone", "nom"]
    assert "Martin" not in data["question"] and "06 12" not in data["question"]
    assert "Martin" not in str(data["retrieved"]) and "Martin" not in (data["prompt"] or "")
    assert any("Données patient retirées" in n for n in data["notices"])
    assert not answer.refused and answer.citations


def test_privacy_block_setting_refuses(bundled):
    from assistant.app import Assistant
    from assistant.settings import load_settings

    strict = Assistant(
        load_settings(home=bundled.settings.home, privacy_block=True), bundled.embedder
    )
    answer = strict.ask("Le patient Dupont, IPP 12345678, peut-il utiliser l'outil ?")
    assert answer.refused and answer.refusal_reason == "out_of_scope"
    assert "Dupont" not in answer.question and answer.privacy and answer.privacy.detected


@pytest.mark.parametrize(
    ("text", "kept"),
    [  # the red team's misses: each must lose every piece of the identifier
        ("Le NIR 185057800608436 est-il à saisir ?", "Le NIR [NIR] est-il à saisir ?"),
        ("NIR 1 85  05 78 006 084 36 du patient", "NIR [NIR] du patient"),
        ("Madame DUPONT Marie a 40 ans", "Madame [NOM] a 40 ans"),
        ("MME DUPONT est venue", "MME [NOM] est venue"),
        ("le patient DUPONT Jean refuse", "le patient [NOM] refuse"),
        ("Mme. Durand demande l'outil", "Mme. [NOM] demande l'outil"),
        ("M. Jean-Pierre Martin consulte", "M. [NOM] consulte"),
    ],
)
def test_red_team_identifiers_are_redacted_whole(text: str, kept: str):
    assert redact(text).text == kept


def test_acronyms_after_patient_are_not_names():
    for text in ("le dossier du patient DMP", "un patient IA", "le patient Il refuse"):
        assert redact(text).detected == ()
