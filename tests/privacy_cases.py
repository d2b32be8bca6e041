"""A synthetic French set for the patient-data guard: FICTITIOUS people and numbers only.

Built from templates so that formats vary (spaces, dots, dashes, +33, Corsican NIR, names
with civilities or after "patient"…). Negatives are HAS-like sentences full of dates, years
and numbers, and everyday uses of "patient" without a name."""

from __future__ import annotations

import itertools

from assistant.answer.privacy import nir_key_ok

NAMES = ["Dupont", "Martin", "Le Goff", "Nguyen", "Ben Salah", "Lefèvre", "Da Silva", "Roux"]
FIRST = ["Jean", "Marie", "Ahmed", "Chloé", "Luc"]


def _nir(body: str) -> str:
    key = 97 - int(body.replace("2A", "19").replace("2B", "18")) % 97
    if "2A" in body:
        key = 97 - (int(body.replace("2A", "19")) - 1000000) % 97
    if "2B" in body:
        key = 97 - (int(body.replace("2B", "18")) - 2000000) % 97
    nir = f"{body}{key:02d}"
    assert nir_key_ok(nir)
    return nir


def _spaced(nir: str, sep: str) -> str:
    parts = [nir[0], nir[1:3], nir[3:5], nir[5:7], nir[7:10], nir[10:13], nir[13:]]
    return sep.join(parts)


def positives() -> list[tuple[str, str]]:
    """(question, kind that must be detected)."""
    cases: list[tuple[str, str]] = []
    bodies = [
        "1650375112345",
        "2801269123456",
        "1920531555123",
        "2751099001002",
        "189052A123456",
        "200052B987654",
    ]
    for body, sep in itertools.product(bodies, [" ", "", "."]):
        cases.append((f"Mon patient a le NIR {_spaced(_nir(body), sep)}, que faire ?", "nir"))
    phones = [
        "06 12 34 56 78",
        "0612345678",
        "06.12.34.56.78",
        "+33 6 12 34 56 78",
        "+33612345678",
        "01-45-67-89-10",
        "0033 1 45 67 89 10",
        "04 91 00 00 00",
    ]
    for phone, template in itertools.product(
        phones, ["Appeler la patiente au {}.", "Le proche laisse le {} pour le suivi."]
    ):
        cases.append((template.format(phone), "telephone"))
    for first, name in itertools.product(FIRST[:3], NAMES[:4]):
        mail = f"{first.lower()}.{name.lower().replace(' ', '')}@exemple.fr"
        cases.append((f"Envoyer le compte rendu à {mail} ?", "email"))
    births = [
        "né le 12/03/1965",
        "née le 1er avril 1950",
        "DDN : 03-11-1948",
        "date de naissance 07.08.2001",
        "née le 28 février 1939",
        "born on 12/03/1965",
    ]
    for birth in births:
        cases.append((f"La patiente {birth} peut-elle utiliser l'outil ?", "date_de_naissance"))
        cases.append((f"Dossier : {birth}, suivi par télésurveillance.", "date_de_naissance"))
    streets = [
        "12 rue de la Paix, 75002 Paris",
        "3 bis avenue Jean Jaurès",
        "45 bd Voltaire.",
        "7 allée des Tilleuls, 13008 Marseille",
        "120 chemin du Moulin",
        "2 place Bellecour",
    ]
    for street in streets:
        cases.append((f"Le patient habite {street}", "adresse"))
        cases.append((f"Adresse du domicile : {street}", "adresse"))
    for ipp in ["IPP 12345678", "IPP: 0042-7781", "IPP n° 998877665", "numéro patient 55544433"]:
        cases.append((f"Retrouver le dossier {ipp} dans le logiciel.", "ipp"))
        cases.append((f"{ipp} : quel DMN pour lui ?", "ipp"))
    civilities = ["M.", "Mme", "Madame", "Monsieur", "Mlle"]
    for civility, name in itertools.product(civilities, NAMES):
        cases.append(
            (f"{civility} {name} peut-il bénéficier de l'outil d'aide au diagnostic ?", "nom")
        )
    for word, name in itertools.product(["patient", "patiente", "résidente"], NAMES[:5]):
        cases.append((f"Le {word} {name} refuse la téléconsultation, que faire ?", "nom"))
    return cases


def negatives() -> list[str]:
    """Questions and HAS-like text with no patient data (dates, years, numbers, codes)."""
    texts = [
        "Le 6e cycle de certification est applicable aux visites à compter de septembre 2025.",
        "La HAS a initié en 2022 un cadre de confiance ; la stratégie a été initiée en 2024.",
        "Le Règlement européen 2017/245 relatif aux dispositifs médicaux.",
        "Mise en application S2 2025 des critères qualité.",
        "Le guide a été mis en ligne le 30/06/2023.",
        "Le document est daté du 23/10/2025 et mis en ligne le 30/10/2025.",
        "Les 3 axes du cadre de confiance.",
        "Le patient peut-il refuser l'usage d'un outil d'IA ?",
        "Quelle information donner au patient sur l'IA ?",
        "La patiente doit être informée de l'usage d'un DMN.",
        "Un patient sur 10 est concerné selon l'étude fictive.",
        "Les patients âgés de 75 ans et plus utilisent la télésurveillance.",
        "Combien de DMN sont évalués chaque année ?",
        "Le critère 2.3-01 du référentiel porte sur les technologies numériques.",
        "La note de cadrage d'avril 2025 concerne l'IA en contexte de soins.",
        "Le CHU a déployé 27 outils en 2031 (exemple fictif).",
        "Le taux d'usage atteint 41 % dans l'établissement fictif.",
        "Version 2025 du référentiel de certification, 6e cycle.",
        "Appeler le 15 en cas d'urgence vitale.",
        "Le numéro vert de l'établissement est affiché à l'accueil.",
        "Un logiciel d'aide à la décision médicale et thérapeutique.",
        "La HAS et la CNAM mènent une expérimentation pilote.",
        "Le Dr responsable du service valide le choix de l'outil.",
        "Madame la directrice a signé la charte.",
        "Monsieur le Ministre a annoncé un plan en 2026.",
        "Les recommandations HAS–CNIL sont annoncées pour 2026.",
        "La classification fonctionnelle date du 17/02/2021.",
        "Le guide d'aide au choix compte 40 questions clés (exemple fictif).",
        "Le service a reçu 1 250 appels en 2030 (exemple fictif).",
        "Un score de 0.85 sur 1 ne suffit pas à établir la performance.",
        "Le décret n° 2021-1234 fixe le cadre (exemple fictif).",
        "ISO 13485 et IEC 62304 concernent les logiciels dispositifs médicaux.",
        "La norme NF S 99-170 (exemple fictif).",
        "Le projet a démarré en mars 2030 avec 120 patients suivis à domicile.",
        "Rue de la santé : la HAS publie ses guides en ligne.",
        "L'établissement est situé en zone 3 de l'ARS.",
        "La version 2.5.1 du logiciel a été qualifiée.",
        "Le patient, la famille et les soignants sont informés.",
        "Les patients en ALD représentent 35 % des séjours (exemple fictif).",
        "Le comité s'est réuni les 12 et 13 septembre 2025.",
    ]
    templates = ["{} Quelles sont les recommandations ?", "Selon la HAS : {}", "{}"]
    cases = [t.format(x) for t, x in itertools.product(templates, texts)]
    return cases[:120]
