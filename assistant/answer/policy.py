"""What the assistant refuses to do, and why.

- ``unsafe_request``: attempts to make it drop its rules (ignore its instructions, reveal its
  prompt, answer without sources, assert something on command).
- ``out_of_scope``: a decision about a specific patient (diagnosis, dosage, treatment), or a
  topic unrelated to digital tools and AI in care.
- ``no_evidence`` is decided after retrieval, by the answerer (the publications do not answer).
"""

from __future__ import annotations

import re

from assistant.contract import RefusalReason
from assistant.text import normalize_for_match

_UNSAFE = [
    r"\b(ignore|ignorez|oublie|oubliez|forget|disregard|neglige)\b.{0,40}\b(instructions?|"
    r"consignes?|regles?|rules?|prompt|directives?|contraintes?)\b",
    r"\b(affiche|affichez|revele|revelez|montre|montrez|donne|donnez|repete|repetez|"
    r"reveal|show|print|display|repeat|leak|dump)\b.{0,40}\b(prompt|instructions? (systeme|"
    r"cachees?|initiales?)|system (prompt|message)|hidden instructions?|consignes? (systeme|"
    r"cachees?)|your instructions)\b",
    r"\b(developer mode|mode developpeur|jailbreak|dan mode|sans restrictions?|without "
    r"restrictions?|no (rules|restrictions))\b",
    r"\b(reponds|repondez|ecris|ecrivez|answer|reply|respond)\b.{0,30}\b(sans|without)\b.{0,20}"
    r"\b(citer|citation|sources?|references?|preuves?|citing|citations?)\b",
    r"^\s*(affirme|affirmez|dis|dites|ecris|ecrivez|pretends|pretendez|certifie|certifiez|"
    r"say|state|claim|pretend|assert|write)\b.{0,20}\b(que|qu'|that)\b",
    r"\b(tu es|you are) (maintenant|desormais|now)\b",
    r"\b(invente|inventez|make up|fabricate)\b",
]
_PATIENT = (
    r"\b(mon|ma|mes|ce|cette|ces|notre|nos|un|une)\s+(patient|patiente|patients|patientes|"
    r"malade|malades|residente?)\b|\bpatient(e)? (de|d'|age|agee) \d+|\b(m\.|mme|mlle|monsieur|"
    r"madame)\s+[a-z]\b|\b\d+\s*(kg|ans|years? old)\b|\b(my|this|a|our) patient\b"
)
_CLINICAL_DECISION = (
    r"\b(dose|doses|dosage|posologie|mg|prescrire|prescris|prescription|prescribe|antibiotiques?|"
    r"anticoagulants?|antibiotics?|traitement|traiter|treatment|treat|diagnostic|diagnostiquer|"
    r"diagnosis|diagnose|operer|chirurgie|surgery|arreter|stop|hospitaliser|perfusion|"
    r"injection|vaccin)\b"
)
_DECISION_ALONE = (
    r"\b(quelle dose|quel dosage|quelle posologie|combien de mg|what dose|which dose|"
    r"quel traitement (donner|prescrire)|what treatment should)\b"
)
# words that place a question inside the mission (digital tools and AI in care, the HAS)
_DOMAIN = (
    r"\b(numeriques?|digital|ia|ai|intelligence artificielle|artificial intelligence|dmn|"
    r"dispositifs?|devices?|technologies?|technology|logiciels?|software|outils?|tools?|"
    r"algorithmes?|algorithms?|applis?|applications?|has|haute autorite|certification|certified|"
    r"etablissements?|hopita(l|ux)|hospitals?|sante|health|soins?|care|evaluations?|evaluation|"
    r"teles\w+|telesurveillance|donnees|data|sia|generative|chatbot|llm|cnam|cnil|"
    r"professionnels?|professionals?|medica(l|ux)|medical|reglement|regulation|guides?|"
    r"qualite|quality|securite|safety|patients?|"
    # the vocabulary of care organisations and their tools, in French and English
    r"referentiels?|criteres?|criteri(?:on|a)|chartes?|charters?|comites?|committees?|"
    r"commissions?|incidents?|pannes?|failures?|outages?|drills?|formations?|training|"
    r"telesuivi|telemonitoring|telehealth|telemedicine|teleexpertise|monitoring|triage|"
    r"imagerie|imaging|radiolog\w*|alertes?|alerts?|infirmi\w+|nurses?|medecins?|"
    r"physicians?|doctors?|clinicians?|cliniques?|clinics?|services? (?:pilotes?|de soins)|"
    r"pilot units?|wards?|staff|soignants?|referent|protocoles?|protocols?|"
    r"confidentialite|privacy|rgpd|gdpr|cybersecurite|cybersecurity)\b"
)


def unsafe_request(question: str) -> bool:
    q = normalize_for_match(question)
    return any(re.search(p, q) for p in _UNSAFE)


def patient_decision(question: str) -> bool:
    """A request for a clinical decision about a specific patient (or a dose)."""
    q = normalize_for_match(question)
    if re.search(_DECISION_ALONE, q):
        return True
    return bool(re.search(_PATIENT, q) and re.search(_CLINICAL_DECISION, q))


def in_domain(question: str) -> bool:
    """Does the question mention digital tools, AI, care or the HAS at all?"""
    return bool(re.search(_DOMAIN, normalize_for_match(question)))


def screen(question: str) -> RefusalReason | None:
    """Refusal decided from the question alone (before retrieval), or None."""
    if unsafe_request(question):
        return "unsafe_request"
    if patient_decision(question):
        return "out_of_scope"
    return None


def off_topic(
    question: str,
    best_lexical_score: float,
    best_dense_score: float = 0.0,
    min_lexical: float = 1.0,
    min_dense: float = 0.80,
    language: str = "fr",
) -> bool:
    """Unrelated to the mission: no domain word, the corpus shares (almost) no term with it
    (best BM25 score below ``min_lexical``) and — for an English question, which shares no
    term with French text — no passage is close in meaning (best e5 similarity below
    ``min_dense``)."""
    close = language == "en" and best_dense_score >= min_dense
    return not in_domain(question) and best_lexical_score < min_lexical and not close
