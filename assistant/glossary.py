"""A small English → French glossary of the field, shared by retrieval (BM25 also searches
the French words of an English question) and by the answer stage (the focus of an English
question)."""

from __future__ import annotations

import re

from assistant.text import normalize_for_match

# English words of questions about digital tools in care → French words of the texts (for the
# lexical side of retrieval and for the focus of an English question: the e5 model alone is
# only moderately cross-lingual). General vocabulary of the field, not tuned to any question.
EN_FR: dict[str, str] = {
    "guide": "guide", "guidance": "guide recommandation", "committee": "comite commission",
    "board": "college conseil comite", "body": "organisme instance agence comite",
    "agency": "agence", "authority": "autorite", "level": "niveau", "levels": "niveau",
    "step": "etape", "steps": "etape", "stage": "etape phase", "criterion": "critere",
    "criteria": "critere", "axis": "axe", "pillar": "axe", "pillars": "axe",
    "framework": "cadre referentiel", "trust": "confiance", "telemonitoring":
    "telesurveillance telesuivi", "remote": "distance telesuivi", "monitoring":
    "surveillance suivi", "follow": "suivi", "teleexpertise": "teleexpertise",
    "teleconsultation": "teleconsultation", "drill": "exercice", "exercise": "exercice",
    "failure": "panne defaillance", "outage": "panne", "incident": "incident",
    "incidents": "incident", "report": "rapport declarer signaler", "reported": "declare signale",
    "training": "formation", "trained": "forme formation", "hours": "heures", "days": "jours",
    "weeks": "semaines", "months": "mois", "years": "ans annees", "year": "annee an",
    "drafted": "redige", "written": "redige", "wrote": "redige", "draft": "brouillon rediger",
    "adopted": "adopte", "published": "publie", "revised": "revise", "review": "revision revue",
    "reviewed": "revu revise", "tool": "outil", "tools": "outil", "device": "dispositif",
    "devices": "dispositifs", "medical": "medical", "digital": "numerique", "software":
    "logiciel", "data": "donnees", "patient": "patient", "patients": "patient",
    "nurse": "infirmier", "nurses": "infirmier", "doctor": "medecin", "physician": "medecin",
    "radiologist": "radiologue", "radiologists": "radiologue", "staff": "professionnel equipe",
    "professionals": "professionnel", "professional": "professionnel", "team": "equipe",
    "hospital": "hopital etablissement centre", "hospitals": "etablissement",
    "facility": "etablissement", "unit": "service", "units": "service", "ward": "service",
    "department": "service", "pilot": "pilote", "trial": "essai", "test": "essai test",
    "evaluation": "evaluation", "assessment": "evaluation", "certification": "certification",
    "certified": "certification certifie", "visit": "visite", "alert": "alerte",
    "alerts": "alerte", "triage": "tri", "imaging": "imagerie", "scan": "examen",
    "exam": "examen", "charter": "charte", "generative": "generative", "ai": "ia",
    "artificial": "artificielle", "intelligence": "intelligence", "cost": "cout",
    "price": "prix cout", "budget": "budget", "decision": "decision", "choose": "choix choisir",
    "choice": "choix", "selection": "selection", "purchase": "achat", "security": "securite",
    "safety": "securite", "privacy": "confidentialite", "consent": "consentement",
    "information": "information", "inform": "informer", "informed": "informe",
    "identify": "identifier", "identifying": "identifier", "name": "nom", "deadline":
    "delai date", "within": "delai", "target": "cible objectif", "rate": "taux",
    "share": "part taux", "threshold": "seuil", "indicator": "indicateur", "indicators":
    "indicateur", "quality": "qualite", "control": "controle", "check": "verifier controle",
    "verify": "verifier", "validated": "valide", "validate": "valider", "reread": "relire",
    "proofread": "relire relecture", "phone": "telephone", "smartphone": "telephone",
    "personal": "personnel", "use": "usage utiliser", "used": "utilise", "usage": "usage",
    "allowed": "autorise", "forbidden": "interdit", "must": "doit", "required": "exige requis",
    "mandatory": "obligatoire", "optional": "facultatif", "scope": "perimetre",
    "economic": "economique", "financial": "financier", "legal": "legal juridique",
    "regulatory": "reglementaire", "recommendations": "recommandations",
    "recommendation": "recommandation", "practices": "pratiques", "good": "bon bonne",
    "first": "premier", "keys": "cles", "category": "categorie", "categories": "categorie",
    "meet": "reunit reunion", "meets": "reunit", "often": "frequence", "revision": "revision",
}  # fmt: skip


def french_glosses(text: str) -> str:
    """The French words of :data:`EN_FR` for the English words of ``text``."""
    words = re.findall(r"[a-z]+", normalize_for_match(text))
    return " ".join(EN_FR[w] for w in words if w in EN_FR)
