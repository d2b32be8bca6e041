"""French lexical resources for matching a paraphrase to its source: lemmas, derivations,
synonyms, acronyms, antonyms, negation scope and numbers written in words.

- lemmas: ``simplemma`` (MIT, no model to load, ~µs a word); derivations (« évaluation » ↔
  « évaluer », « sélection » ↔ « sélectionner ») by Snowball stems of the lemma, plus a stem
  that extends another by a derivational suffix;
- numbers in words: ``text2num``, in :mod:`assistant.text` (« vingt-trois » → 23);
- synonyms and antonyms: small curated groups of general administrative and care vocabulary
  (below); acronyms: a few of the field, plus any defined in the text « … (SIA) ».

Everything here is pure and cached; :func:`word_forms` is what the grounding check and the
answerability check compare.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

from assistant.index.bm25 import FRENCH_STOP_WORDS, _stemmer
from assistant.text import normalize_for_match

# --------------------------------------------------------------------------- resources

# words that mean the same in the register of HAS texts (a word may sit in one group only)
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    (
        "viser",
        "but",
        "objectif",
        "chercher",
        "ambition",
        "vocation",
        "destiner",
        "adresser",
        "destination",
        "destinataire",
    ),
    ("initier", "lancer", "engager", "demarrer", "entreprendre", "amorcer"),
    (
        "inclure",
        "comprendre",
        "englober",
        "comporter",
        "contenir",
        "regrouper",
        "couvrir",
        "figurer",
    ),
    ("utiliser", "employer", "recourir", "usage", "utilisation", "emploi", "servir"),
    ("selectionner", "selection", "choisir", "choix", "retenir"),
    ("accompagner", "soutenir", "appuyer", "aider", "aide", "accompagnement", "soutien"),
    ("developper", "elaborer", "construire", "batir", "concevoir", "mettre", "creer"),
    ("evaluer", "evaluation", "apprecier", "examiner", "examen", "analyser", "analyse"),
    ("favoriser", "faciliter", "encourager", "promouvoir", "amplifier", "renforcer"),
    ("guider", "orienter", "eclairer", "conseiller"),
    ("detailler", "preciser", "decrire", "expliquer", "presenter", "exposer", "lister"),
    ("articuler", "reposer", "organiser", "fonder", "decliner"),
    ("concerner", "porter", "toucher", "relever"),
    ("etendre", "elargir", "agrandir"),
    ("poursuivre", "continuer", "prolonger"),
    ("rediger", "ecrire", "produire", "redaction", "remplir", "renseigner", "completer"),
    ("reunir", "rassembler", "assembler", "composer", "associer"),
    ("verifier", "controler", "assurer", "controle", "verification"),
    ("nombreux", "multiple", "beaucoup", "divers", "diversite", "varie"),
    ("outil", "solution", "logiciel", "technologie", "produit"),
    ("etablissement", "structure", "hopital", "centre"),
    ("professionnel", "soignant", "praticien"),
    ("pertinent", "adapte", "approprie", "utile", "pertinence", "utilite"),
    ("necessaire", "indispensable", "requis", "necessite", "besoin"),
    ("reduire", "diminuer", "alleger", "limiter", "baisser", "reduction"),
    ("augmenter", "accroitre", "hausser", "croitre", "hausse"),
    ("montrer", "demontrer", "prouver", "attester"),
    ("actuellement", "aujourd'hui", "desormais", "maintenant"),
    ("permettre", "possibilite", "pouvoir"),
    ("signaler", "declarer", "notifier", "remonter", "declaration", "signalement"),
    ("former", "formation", "sensibiliser", "sensibilisation"),
    ("risque", "danger", "menace"),
    ("integrer", "integration", "incorporer", "introduire", "deployer", "deploiement"),
    ("informer", "information", "prevenir"),
    ("document", "publication", "production", "rapport"),
    ("travail", "travaux", "projet", "chantier", "demarche"),
    ("pratique", "exercice"),
    ("qualite", "fiabilite"),
    ("personne", "individu"),
    ("relire", "valider", "relecture", "validation", "reviser", "revision"),
    ("comite", "commission", "instance", "groupe"),
    ("dossier", "fiche"),
    ("delai", "duree"),
    ("appliquer", "applicable", "vigueur"),
    ("annuel", "annuellement", "an"),
    ("mensuel", "mensuellement", "mois"),
    ("trimestriel", "trimestre"),
    ("hebdomadaire", "semaine"),
    ("quotidien", "quotidiennement", "jour"),
)
# pairs of words whose meanings are opposed: one in the sentence, the other in the passage
ANTONYM_PAIRS: tuple[tuple[str, str], ...] = (
    ("obligatoire", "facultatif"),
    ("obligatoire", "optionnel"),
    ("obligatoirement", "facultativement"),
    ("inclure", "exclure"),
    ("integrer", "exclure"),
    ("autoriser", "interdire"),
    ("avant", "apres"),
    ("anterieur", "posterieur"),
    ("augmenter", "diminuer"),
    ("augmenter", "reduire"),
    ("accroitre", "reduire"),
    ("hausse", "baisse"),
    ("etendre", "restreindre"),
    ("elargir", "restreindre"),
    ("etendre", "limiter"),
    ("favoriser", "freiner"),
    ("faciliter", "entraver"),
    ("favoriser", "entraver"),
    ("accepter", "refuser"),
    ("utile", "inutile"),
    ("fiable", "douteux"),
    ("public", "prive"),
    ("individuel", "collectif"),
    ("interne", "externe"),
    ("debut", "fin"),
    ("minimum", "maximum"),
    ("minimal", "maximal"),
    ("majorite", "minorite"),
    ("fort", "faible"),
    ("eleve", "faible"),
    ("premier", "dernier"),
    ("ancien", "nouveau"),
    ("simple", "complexe"),
    ("reticent", "favorable"),
    ("reticent", "enclin"),
    ("connu", "inconnu"),
    ("certain", "incertain"),
    ("suffisant", "insuffisant"),
    ("possible", "impossible"),
    ("compatible", "incompatible"),
    ("complet", "incomplet"),
    ("direct", "indirect"),
    ("recommander", "deconseiller"),
    ("encourager", "decourager"),
    ("confirmer", "infirmer"),
    ("valider", "rejeter"),
    ("retenir", "ecarter"),
    ("ouvrir", "fermer"),
    ("activer", "desactiver"),
    ("centralise", "decentralise"),
    ("presentiel", "distance"),
    ("manuel", "automatique"),
    ("humain", "automatique"),
    ("tot", "tard"),
    ("amont", "aval"),
    ("mensuel", "annuel"),
    ("quotidien", "hebdomadaire"),
    ("specifique", "generaliste"),
    ("specifique", "general"),
    ("particulier", "general"),
    ("standard", "avance"),
    ("majeur", "mineur"),
    ("superieur", "inferieur"),
    ("plus", "moins"),
    ("gratuit", "payant"),
    ("national", "local"),
    ("national", "regional"),
    ("europeen", "national"),
    ("medical", "administratif"),
    ("imperatif", "facultatif"),
    ("exiger", "facultatif"),
    ("imposer", "facultatif"),
    ("anonyme", "nominatif"),
    ("public", "interne"),
    ("public", "confidentiel"),
    ("prealable", "posteriori"),
    ("prealablement", "posteriori"),
    ("priori", "posteriori"),
    ("fonction", "independamment"),
    ("securise", "ouvert"),
    ("humain", "automatise"),
    ("avec", "sans"),
    ("amont", "apres"),
    ("dispenser", "imposer"),
    ("dispenser", "exiger"),
    ("exempter", "imposer"),
    ("autorise", "proscrit"),
    ("centralise", "reparti"),
)
# acronyms of the field and what they stand for (acronyms defined in a text are added)
ACRONYMS: dict[str, str] = {
    "ia": "intelligence artificielle",
    "iag": "intelligence artificielle generative",
    "sia": "systeme intelligence artificielle",
    "dmn": "dispositif medical numerique",
    "dm": "dispositif medical",
    "has": "haute autorite sante",
    "cnam": "caisse nationale assurance maladie",
    "rgpd": "reglement general protection donnees",
    "dpi": "dossier patient informatise",
    "dmp": "dossier medical partage",
    "ce": "conformite europeenne",
    "ght": "groupement hospitalier territoire",
    "ars": "agence regionale sante",
    "cnil": "commission nationale informatique libertes",
    "ansm": "agence nationale securite medicament",
    "llm": "grand modele langage",
    "ue": "union europeenne",
    "ehpad": "etablissement hebergement personnes agees dependantes",
}
# derivational suffixes (on Snowball stems): « select » + « ion » = « selection »
_DERIVATION_SUFFIXES = (
    "ion",
    "ation",
    "aison",
    "ison",
    "ement",
    "ment",
    "age",
    "eur",
    "ric",
    "if",
    "iv",
    "it",
    "abl",
    "ibl",
    "ant",
    "ent",
    "anc",
    "enc",
    "ur",
    "isat",
    "is",
    "ag",
    "e",
)
MIN_DERIVATION_STEM = 4
# function words beyond BM25's list: they carry no claim of their own
STOP_WORDS = FRENCH_STOP_WORDS | frozenset(
    "parmi ainsi egalement aussi notamment lors via chez celles ceux certains certaines "
    "quelques cas sein afin".split()
)

# --------------------------------------------------------------------------- words

_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)'")


@cache
def _lemmatizer():
    import simplemma

    return simplemma


@lru_cache(maxsize=50_000)
def lemma(word: str) -> str:
    """The lemma of one (accented, lowercase) French word, accent-folded."""
    try:
        found = _lemmatizer().lemmatize(word, lang="fr")
    except ValueError:  # simplemma refuses some inputs (digits only…)
        found = word
    return normalize_for_match(found)


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    return _stemmer().stemWord(word)


@cache
def _synonym_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for group in SYNONYM_GROUPS:
        for word in group:  # by the word's stem and by its lemma's stem (a Word's key)
            for key in (stem(word), stem(lemma(word))):
                index.setdefault(key, f"syn:{group[0]}")
    return index


@cache
def _antonym_index() -> dict[str, frozenset[str]]:
    index: dict[str, set[str]] = {}
    for a, b in ANTONYM_PAIRS:
        keys_a, keys_b = {stem(a), stem(lemma(a))}, {stem(b), stem(lemma(b))}
        for x in keys_a:
            index.setdefault(x, set()).update(keys_b)
        for y in keys_b:
            index.setdefault(y, set()).update(keys_a)
    return {k: frozenset(v) for k, v in index.items()}


@dataclass(frozen=True)
class Word:
    """A content word of a text and the forms under which it may be matched."""

    text: str  # folded surface form
    key: str  # Snowball stem of the lemma: its identity
    forms: frozenset[str]  # key, surface stem, synonym group, acronym expansion keys…


_INVERSION = re.compile(r"-(?:t-)?(?:il|elle|ils|elles|on|je|tu|nous|vous|ce)\b")


def _folded_words(text: str) -> list[str]:
    folded = _ELISION.sub(" ", normalize_for_match(text).replace("’", "'"))
    folded = _INVERSION.sub(" ", folded)  # « s'applique-t-il » → « applique »
    return _WORD.findall(folded)


# light verbs: « tenir une réunion » = « se réunir », « faire l'objet d'une évaluation »
LIGHT_VERBS = frozenset(
    "tenir faire mener effectuer realiser proceder disposer rendre trouver agir aller venir "
    "avoir etre objet devoir pouvoir falloir prendre".split()
)


_LIGHT_STEMS = frozenset(stem(v) for v in LIGHT_VERBS)


@lru_cache(maxsize=20_000)
def _word(surface: str) -> Word:
    """The forms of one folded word (hyphenated words also joined: « tele-expertise »)."""
    joined = surface.replace("-", "")
    key = stem(lemma(joined))
    forms = {key, stem(joined)}
    if (group := _synonym_index().get(key)) or (group := _synonym_index().get(stem(joined))):
        forms.add(group)
    return Word(surface, key, frozenset(forms))


def is_verbal(word: Word) -> bool:
    """A verb or participle (« retenue » → retenir, « préside » → présider), not a noun
    (« évaluation », « cadre »: an -re lemma counts only when the word is inflected)."""
    base = lemma(word.text)
    return base.endswith(("er", "ir", "re")) and (base != word.text or base[-2:] != "re")


def content_words(text: str) -> list[Word]:
    """The content words of ``text`` (stop words dropped), hyphenated compounds kept whole,
    each with its lemma-stem key and the forms it can be matched by."""
    words: list[Word] = []
    for surface in _folded_words(text):
        if surface in STOP_WORDS or (len(surface) < 2 and not surface.isdigit()):
            continue
        if lemma(surface) in LIGHT_VERBS or stem(lemma(surface)) in _LIGHT_STEMS:
            continue
        words.append(_word(surface))
    return words


def defined_acronyms(text: str) -> dict[str, str]:
    """Acronyms a text defines: « systèmes d'intelligence artificielle (SIA) » → sia."""
    found: dict[str, str] = {}
    for match in re.finditer(r"\(([A-Z][A-Za-z]{1,9})\)", text):
        acronym = match.group(1)
        before = text[max(0, match.start() - 120) : match.start()]
        words = [w for w in _folded_words(before) if w not in STOP_WORDS][-8:]
        initials = [w for w in words if w[0] in acronym.lower()]
        if len(initials) >= max(1, len(acronym) - 1):
            found[acronym.lower()] = " ".join(words[-len(acronym) - 1 :])
    return found


def expansion_keys(text: str) -> dict[str, frozenset[str]]:
    """Acronym → keys of its expansion, for the field's acronyms and those ``text`` defines."""
    defined = {
        a: frozenset(w.key for w in content_words(e)) for a, e in defined_acronyms(text).items()
    }
    return {**_field_expansions(), **defined}


@cache
def _field_expansions() -> dict[str, frozenset[str]]:
    return {a: frozenset(w.key for w in content_words(e)) for a, e in ACRONYMS.items()}


def forms_of(text: str, acronyms: dict[str, frozenset[str]] | None = None) -> set[str]:
    """Every form under which a word of ``text`` can be matched; an acronym brings the keys
    of its expansion, and an expansion written out brings its acronym."""
    words = content_words(text)
    forms: set[str] = set().union(*(w.forms for w in words)) if words else set()
    keys = {w.key for w in words}
    for acronym, expansion in (acronyms or expansion_keys(text)).items():
        akey = stem(acronym)
        if akey in keys or acronym in {w.text for w in words}:
            forms |= expansion
        elif expansion and expansion <= keys:
            forms.add(akey)
    return forms


def derived(a: str, b: str) -> bool:
    """Two stems of the same family: one extends the other by a derivational suffix
    (« select » / « selection », « integr » / « integrat »)."""
    short, long = sorted((a, b), key=len)
    if len(short) < MIN_DERIVATION_STEM or not long.startswith(short):
        return False
    rest = long[len(short) :]
    return len(rest) <= 1 or rest in _DERIVATION_SUFFIXES


def matches(word: Word, forms: set[str], keys: Iterable[str] = ()) -> bool:
    """Is ``word`` found among ``forms`` (or derived from one of ``keys``)?"""
    if word.forms & forms:
        return True
    return any(derived(word.key, k) for k in keys)


def antonyms(key: str) -> frozenset[str]:
    """Stems opposed in meaning to the stem ``key``."""
    return _antonym_index().get(key, frozenset())


def opposed(key: str, other: str) -> bool:
    """« facultatif » / « obligatoire », or a negative prefix (« inutile » / « utile »)."""
    if other in antonyms(key):
        return True
    for prefix in ("in", "im", "il", "ir", "de", "des", "non"):
        for x, y in ((key, other), (other, key)):
            if x.startswith(prefix) and x[len(prefix) :] == y and len(y) >= 4:
                return True
    return False


# --------------------------------------------------------------------------- negation

_NEGATORS = re.compile(
    r"\b(?:ne|n')\s*(?P<verb>(?:[a-z'-]+\s+){0,3}?)(?:pas|plus|jamais|aucun|aucune|rien|"
    r"guere|nullement|point)\b|\b(?P<free>sans|aucun|aucune|non|jamais|ni|not|never|no|without)\b"
)
_SCOPE_WORDS = 2
_SCOPE_ADVERBS = frozenset(
    "toujours encore forcement necessairement systematiquement vraiment pleinement totalement "
    "entierement seulement uniquement directement immediatement".split()
)
_SCOPE_END = re.compile(
    r"[.;:,!?]|\b(?:mais|et|ou|car|donc|lorsque|quand|si|par|selon|dans|avec|aupres|"
    r"chez|lors|afin|sur|qui|que|dont|peut|peuvent|doit|doivent|est|sont|sera|seront|etait|"
    r"etaient|a|ont|fait|font|permet|permettent)\b"
)


def negated_keys(text: str) -> set[str]:
    """Keys of the content words in the scope of a negation: the verb between « ne … pas »
    and up to two content words after the negator (« sans être évalués » → évaluer),
    stopping at punctuation, a conjunction or a preposition (« … par le comité »)."""
    folded = normalize_for_match(text).replace("’", "'")
    negated: set[str] = set()
    for match in _NEGATORS.finditer(folded):
        if match.group("verb"):
            negated |= {w.key for w in content_words(match.group("verb"))}
        after = folded[match.end() : match.end() + 120]
        if end := _SCOPE_END.search(after):
            after = after[: end.start()]
        # the negated word: the first after « ne … pas », « non », « aucun » (adverbs such
        # as « toujours » skipped), the first two after « sans » (« sans finalité médicale »)
        width = _SCOPE_WORDS if match.group("free") == "sans" else 1
        words = [w for w in content_words(after) if w.text not in _SCOPE_ADVERBS]
        negated |= {w.key for w in words[:width]}
    return negated
