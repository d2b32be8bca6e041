"""Does a quoted passage answer the question, or only talk about its topic?

A question announces the kind of answer it expects (:class:`Expectation`): a count
(« combien de critères »), an amount (« combien coûte »), a date (« quand », « en quelle
année »), a duration, a frequency, a person or body (« qui »), a proper name (« quel est le
nom de »), or the description of one member of a set (« que recouvre le niveau C »). A passage
answers such a question only if one of its sentences holds a value of that type *and* speaks
of the question's focus (the counted thing, the named entity, the labelled member, most of
the question's words). Other questions (definitions, lists, yes/no, « comment ») expect no
particular value: relevance alone decides, as before.

Pure functions over text, French and English questions; the French resources are those of
:mod:`assistant.lexicon`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from assistant.answer.lexicon import (
    STOP_WORDS,
    Word,
    content_words,
    forms_of,
    is_verbal,
    matches,
)
from assistant.glossary import EN_FR
from assistant.text import (
    ANAPHOR,
    normalize_for_match,
    numbers_in,
    split_sentences,
    with_number_words_as_digits,
)

AnswerType = Literal[
    "count", "amount", "date", "duration", "frequency", "person", "name", "list", "any"
]

_TYPES: tuple[tuple[AnswerType, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        (
            "amount",
            r"\b(?:combien (?:coute|coutent|a coute|ont coute|coutera|vaut|valent)|a combien "
            r"s'el[eè]ve|quel(?:le)?s? (?:est |sont |etait )?(?:le |la |les )?(?:cout|prix|"
            r"tarif|montant|budget|financement)s?\b|how much (?:does|do|did|is|are|will|"
            r"would)|what (?:is|was|are) the (?:cost|price|budget|amount|fee)s?|cost of|"
            r"budget (?:of|for))",
        ),
        (
            "duration",
            r"\b(?:combien de temps|pendant combien|quelle (?:est la )?duree|how long|"
            r"what is the duration|for how many (?:days|weeks|months|years)|"
            r"(?:dans|sous|en) quels? delais?|quel (?:est le )?delai|how soon|within what)\b",
        ),
        (
            "frequency",
            r"\b(?:a quelle frequence|a quel rythme|tous les combien|combien de fois|"
            r"quelle (?:est la )?(?:frequence|periodicite)|how often|how frequently|"
            r"how many times)\b",
        ),
        (
            "date",
            r"\b(?:quand|depuis quand|jusqu'a quand|a partir de quand|en quelle annee|"
            r"quelle annee|a quelle date|quelle (?:est la )?date|avant quelle date|date de|"
            r"quel jour|when|what year|which year|what date|by what date|until when|"
            r"since when|deadline)\b",
        ),
        (
            "count",
            r"\b(?:combien d(?:e |')|quel (?:est le )?nombre d(?:e |')|le nombre d(?:e |')|"
            r"how many|number of)",
        ),
        (
            "name",
            r"\b(?:quel(?:le)? est (?:le|son|leur) nom|(?:de|d') (?:son|leur) nom|"
            r"comment s'appelle|comment se nomme|"
            r"sous quel nom|what is the name|what is it called|"
            r"name of|what is .{1,40} called)\b",
        ),
        (
            # a list whose size the question gives: « quels sont les deux services… »
            "list",
            # (French only: an English question is matched on meaning alone, too loosely to
            # ask its passage for an enumeration)
            r"^quel(?:le)?s (?:sont|etaient|seront) (?:les|leurs|ses) (?:deux|trois|quatre|"
            r"cinq|six|sept|huit|neuf|dix|[2-9]|1\d)\b",
        ),
        (
            "person",
            r"^(?:qui\b|a qui\b|par qui\b|aupres de qui\b|who\b|whom\b)|\bquel(?:le)?s? "
            r"(?:organisme|instance|acteur|professionnel|autorite|service|personne|membre|"
            r"direction|equipe|commission|comite|structure|entite|agence|departement|"
            r"unite)s?\b|\bwhich (?:body|organisation|organization|professional|person|"
            r"authority|department|team|committee|agency)\b",
        ),
    )
)
# « le niveau C », « la catégorie D2 », « l'étape 4 », « le critère 2.5 », « level D »
_MEMBER = re.compile(
    r"\b(?P<noun>[a-z][a-z']{2,20})\s+(?P<id>[a-z]\d?|\d{1,2}(?:\.\d{1,2})?|[ivx]{1,4})\b"
    r"(?![.]\d)(?!\s*(?:,|et|ou|a|-|and|or)\s*(?:[a-z]\d?|\d{1,2}(?:\.\d{1,2})?)\b(?![a-z']))"
)
_MEMBER_NOUNS = frozenset(
    (
        "niveau niveaux categorie categories etape etapes critere criteres axe axes phase "
        "phases classe classes chapitre chapitres annexe annexes groupe groupes type types "
        "reflexe reflexes palier paliers volet volets priorite priorites mesure mesures "
        "objectif objectifs level levels category categories step steps criterion criteria axis "
        "phase class chapter annex tier stage stages"
    ).split()
)
# English names of labelled members, to find them in French text
_MEMBER_FR = {
    "level": "niveau",
    "axis": "axe",
    "levels": "niveau",
    "category": "categorie",
    "step": "etape",
    "steps": "etape",
    "stage": "etape",
    "criterion": "critere",
    "criteria": "critere",
    "class": "classe",
    "chapter": "chapitre",
    "annex": "annexe",
    "tier": "palier",
}
# English function words (the French ones are those of the lexicon)
_EN_STOP = frozenset(
    (
        "was were been has have had does did will would should could can may must need "
        "their them they its into about after before under over between each other than "
        "then only also more most such what which who whom when where why how there here "
        "these those being your our any some all not the this that with from for are is "
        "according"
    ).split()
)
# a subordinate clause (« lorsqu'un outil est utilisé ») frames the question, it is not
# what the answering sentence must speak of
_SUBORDINATE = re.compile(
    r"(?<!de )(?<!depuis )(?<!jusqu'a )(?<!since )(?<!until )(?<!by )\b(?:lorsqu|lorsque|quand|"
    r"si|s'il|when|if|once|dans le cas)\b"
)


def _main_clause(folded: str) -> str:
    """The question without a subordinate clause after its start (« … quand il utilise ces
    outils ? »); an opening « quand » / « when » is the question itself."""
    for match in _SUBORDINATE.finditer(folded):
        if match.start() > 0:
            return folded[: match.start()]
    return folded


# « Quand un examen est lu à distance, l'alerte suit-elle ? »: a frame, then the question
_LEADING_CLAUSE = re.compile(r"^(?:quand|lorsque|lorsqu|si|when|if|once)\b[^,?]*,\s*")
# words that ask for the type, not for the topic
_TYPE_WORDS = frozenset(
    (
        "combien nombre date annee quand duree temps frequence periodicite cout prix tarif "
        "montant budget nom intitule qui jour how many much when long often name number "
        "year cost price what which who whom does did will partir delai"
    ).split()
)

_MONEY = re.compile(
    r"\d[\d\s.,]*\s*(?:€|euros?\b|k€|m€|eur\b|millions? d'euros|milliards? d'euros)|"
    r"\bgratuit\w*|\bsans (?:frais|cout)\b"
)
_DATE = re.compile(
    r"\b(?:1[89]\d\d|20\d\d|2[1-9]\d\d)\b|\b(?:janvier|fevrier|mars|avril|mai|juin|juillet|"
    r"aout|septembre|octobre|novembre|decembre)\b|\b[st][1-4] \d{4}\b|\b(?:premier|second|"
    r"deuxieme|troisieme|quatrieme) (?:trimestre|semestre)\b"
)
_TIME_UNITS = r"(?:jours?|semaines?|mois|ans|annees?|heures?|minutes?|demi-journees?|journees?)"
# « au cours des vingt-quatre derniers mois », « dans un délai de 48 heures », « avant tout
# usage », « à l'issue de l'essai »: a time given relative to something
_RELATIVE_DATE = re.compile(
    rf"\b(?:au cours d\w*|dans (?:les|un delai de)|d'ici|sous|au plus tard|a compter d\w*|"
    rf"depuis|dans)\s+(?:\w+\s+){{0,2}}?(?:\d+|[a-z]+(?:-[a-z]+)*)\s+(?:derni\w+\s+)?"
    rf"{_TIME_UNITS}\b|\b(?:avant|apres|a l'issue d\w*|lors d\w*|des (?:la|le|les|l')|"
    rf"au moment d\w*|prealablement a)\s+\S+"
)
_DURATION = re.compile(rf"\b(?:\d+(?:[.,]\d+)?|[a-z]+-?[a-z]*) {_TIME_UNITS}\b|\b\d+ ?h\b")
_FREQUENCY = re.compile(
    r"\b(?:chaque|tous les|toutes les|par) (?:\w+ )?(?:jours?|semaines?|mois|trimestres?|"
    r"semestres?|ans?|annees?|heures?)\b|\b\w+ fois\b|\b(?:annuel|mensuel|trimestriel|"
    r"semestriel|hebdomadaire|quotidien)\w*|\ben continu\b|\ba chaque\b"
)
_PROPER = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-ZÀ-Ý][\w'’-]+|«[^»]{3,}»|\b[A-Z]{2,}\b")


@dataclass(frozen=True)
class Expectation:
    """What a question asks for: the type of its answer and its focus."""

    kind: AnswerType
    focus: tuple[Word, ...]  # content words the answering sentence must mostly cover
    counted: Word | None = None  # « combien de critères » → critère
    member: tuple[str, str] | None = None  # (noun, identifier): ("niveau", "c")
    english: bool = False
    head: Word | None = None  # « quels sont les critères… », « le nom de l'outil » → the noun
    predicate: Word | None = None  # « qui préside… » → présider
    counted_prefixes: tuple[str, ...] = ()  # English: the counted noun phrase, as cognates

    @property
    def typed(self) -> bool:
        return self.kind != "any" or self.member is not None


def expectation(question: str, language: str = "fr") -> Expectation:
    """The expected answer type and the focus of ``question`` (one part of it)."""
    folded = _LEADING_CLAUSE.sub("", normalize_for_match(question).replace("’", "'"))
    main = _main_clause(folded)  # « …quand il utilise… » dropped
    kind: AnswerType = "any"
    for candidate, pattern in _TYPES:
        if pattern.search(main):
            kind = candidate
            break
    english = language == "en"
    identity = _IDENTITY.match(main)
    if identity and any(w.key in _role_keys() for w in content_words(identity.group(1))):
        kind = "name"  # « qui est le référent IA ? » asks who, by name
    focus = tuple(
        w
        for w in content_words(main)
        if w.text not in _TYPE_WORDS and not (english and w.text in _EN_STOP)
    )
    counted, words = None, []
    if kind == "count":
        after = re.split(
            r"combien d(?:e |')|nombre d(?:e |')|how many|number of", folded, maxsplit=1
        )
        words = content_words(after[-1]) if len(after) > 1 else []
        words = [w for w in words if not (english and w.text in _EN_STOP | {"health"})]
        counted = words[0] if words else None
    member = None
    for match in _MEMBER.finditer(folded):
        if match.group("noun") in _MEMBER_NOUNS:
            member = (match.group("noun"), match.group("id"))
    if member is not None and kind == "name":
        kind = "any"  # « what is axis 3 called? »: its label, not a proper name
    head = None
    if identity and kind == "name":
        words = content_words(identity.group(1))
        head = words[0] if words else None
    elif kind in ("list", "name") and (found := _NAME_HEAD.search(folded) or _HEAD.search(folded)):
        words = [
            w
            for w in content_words(numbers_as_words_removed(found.group(1)))
            if w.text not in _EN_STOP
        ]
        head = words[0] if words else None
    asks_who = re.match(r"(?:a |par |aupres de )?qui\b", main)
    predicate = _predicate(main) if kind == "person" and asks_who and not english else None
    prefixes = tuple(w.text[:5] for w in words[:2]) if kind == "count" else ()
    return Expectation(kind, focus, counted, member, english, head, predicate, prefixes)


_IDENTITY = re.compile(r"^qui (?:est|sont|etait) (?:le|la|les|l') ?((?:\S+\s*){1,2})")


@cache
def _role_keys() -> frozenset[str]:
    return frozenset(
        w.key
        for w in content_words(
            "referent responsable president presidente directeur directrice coordinateur "
            "coordonnateur delegue dpo chef pilote correspondant interlocuteur contact rssi"
        )
    )


_HEAD = re.compile(
    r"(?:quel(?:le)?s? (?:sont|etaient|seront|est) (?:les|leurs|ses|le|la|l')|quel(?:le)?s |"
    r"what are the|which are the|list the)\s*((?:\S+\s*){1,3})"
)
_NAME_HEAD = re.compile(
    r"(?:\bnom (?:de la|de l'|du|des|de)|name of (?:the )?)\s*((?:\S+\s*){1,3})"
)


def numbers_as_words_removed(text: str) -> str:
    """« trois axes du cadre » → « axes du cadre »."""
    return re.sub(
        r"\b(?:\d+|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|two|three|four|"
        r"five|seven|eight|nine|ten)\b",
        " ",
        text,
    )


def _predicate(folded: str) -> Word | None:
    """What a « qui » question asks about: its first verb (« qui préside » → présider),
    else its first content word (« qui est responsable de… » → responsable)."""
    words = content_words(re.sub(r"^(?:a |par |aupres de )?qui\b", "", folded))
    return next((w for w in words if is_verbal(w)), words[0] if words else None)


def _has_value(kind: AnswerType, sentence: str, exp: Expectation, question: str) -> bool:
    folded = normalize_for_match(sentence).replace("’", "'")
    if kind == "amount":
        return bool(_MONEY.search(folded))
    if kind == "date":
        return bool(_DATE.search(folded) or _RELATIVE_DATE.search(folded))
    if kind == "list":
        return _enumerates(folded, exp)
    if kind == "duration":
        return bool(_DURATION.search(folded))
    if kind == "frequency":
        return bool(_FREQUENCY.search(folded))
    if kind == "count":
        return _counts(folded, exp.counted, exp.english, exp.counted_prefixes)
    if kind == "name":
        return _names_head(sentence, question, exp)
    if kind == "person":
        return _names_someone(sentence, question) and _mentions(sentence, exp.predicate, exp)
    return True


def _mentions(sentence: str, word: Word | None, exp: Expectation) -> bool:
    if word is None:
        return True
    if exp.english:
        return word.text[:5] in normalize_for_match(sentence)
    words = content_words(sentence)
    return any(matches(word, set(w.forms), [w.key]) for w in words)


def _names_head(sentence: str, question: str, exp: Expectation) -> bool:
    """A proper name that the question does not give, next to the thing it names."""
    names = _new_names(sentence, question)
    if not names or exp.head is None:
        return bool(names)
    folded = normalize_for_match(sentence)
    stem = exp.head.text[:5]
    for match in re.finditer(rf"\b{re.escape(stem)}\w*", folded):
        window = folded[max(0, match.start() - 40) : match.end() + 60]
        if any(name[:5] in window for name in names):
            return True
    return False


def _counts(
    folded: str, counted: Word | None, english: bool, counted_prefixes: tuple[str, ...] = ()
) -> bool:
    """A number stands before the counted thing (« cinq critères », « 64 professionnels »)."""
    if not {n for n in numbers_in(folded) if not n.startswith("m") and not _YEAR.match(n)}:
        return False
    if counted is None:
        return True
    digits = with_number_words_as_digits(folded).split()
    for i, token in enumerate(digits):
        if not token.isdigit() or _YEAR.match(token):
            continue
        if i and digits[i - 1] in _MEMBER_NOUNS:  # « Réflexe 4 », « critère 2 »: labels
            continue
        after = content_words(" ".join(digits[i + 1 : i + 4]))
        if english and any(w.text[:5] in counted_prefixes for w in after):
            return True
        if any(matches(w, set(counted.forms), [counted.key]) for w in after):
            return True
    return False


_YEAR = re.compile(r"^(?:19|20)\d\d$")


def _enumerates(folded: str, exp: Expectation) -> bool:
    """A list of things after the question's head noun: list items, a « : » or a
    coordination (« a, b et c »)."""
    if exp.head is None or exp.english:
        return bool(re.search(r":|\n- |,[^,]+(?:,|\bet\b|\bou\b)|\b(?:et|ou)\b", folded))
    positions = [
        m.start()
        for m in re.finditer(r"[a-z0-9]+(?:-[a-z0-9]+)*", folded)
        if any(matches(w, set(exp.head.forms), [exp.head.key]) for w in content_words(m.group(0)))
    ]
    if not positions:
        return False
    after = folded[positions[0] :]
    return bool(re.search(r":|\n- |,[^,]+(?:,|\bet\b|\bou\b)|\b(?:et|ou)\b", after))


def _new_names(sentence: str, question: str) -> list[str]:
    """Proper names (capitalised words not opening the sentence, acronyms, « titles ») of
    the sentence that the question does not already contain."""
    asked = normalize_for_match(question)
    found = []
    for match in _PROPER.finditer(sentence):
        name = normalize_for_match(match.group(0)).strip('"« »')
        if name and name[:5] not in asked:
            found.append(name)
    return found


# people and bodies a « qui » question may be answered with
_ROLES = re.compile(
    r"\b(?:comite|commission|referent|infirmier\w*|medecin\w*|agence|equipe\w*|delegue|dpo|"
    r"pharmacien\w*|professionnel\w*|soignant\w*|fabricant\w*|editeur\w*|prestataire\w*|"
    r"responsable\w*|coordinat\w*|coordonnat\w*|direct\w*|service\w*|conseil|instance\w*|"
    r"autorite|ministere|observatoire|cellule|groupe|college|cadre\w*|patient\w*|usager\w*|"
    r"etablissement\w*|has|cnam|ars|cnil|ansm|utilisateur\w*|personnel|praticien\w*|"
    r"radiologue\w*|manipulateur\w*|ingenieur\w*|chef\w*|president\w*|membre\w*|"
    r"administrat\w*|porteur\w*|expert\w*)\b"
)


def _names_someone(sentence: str, question: str) -> bool:
    """The sentence names a person, role or body that the question does not."""
    folded, asked = normalize_for_match(sentence), normalize_for_match(question)
    roles = {m.group(0) for m in _ROLES.finditer(folded)}
    return any(role[:5] not in asked for role in roles) or bool(_new_names(sentence, question))


def _member_described(sentence: str, member: tuple[str, str]) -> bool:
    """« Niveau C : … » or « au niveau C et … », not « les niveaux A, B, C et D »."""
    noun, ident = member
    stem = _MEMBER_FR.get(noun, noun)[:4]
    folded = normalize_for_match(sentence)
    other_id = r"(?:[a-z]\d?|\d{1,2}(?:\.\d{1,2})?)\b(?![a-z'])"
    for match in re.finditer(rf"\b{stem}\w*\s+{re.escape(ident)}\b(?![.]\d)", folded):
        if not re.match(rf"\s*(?:,|et|ou|a|-|and|or)\s*{other_id}", folded[match.end() :]):
            return True
    return False


def focus_coverage(sentence: str, exp: Expectation) -> float:
    """Share of the question's focus words found in the sentence (lemmas, derivations,
    synonyms; 5-letter cognates for an English question)."""
    if not exp.focus:
        return 1.0
    if exp.english:
        folded = normalize_for_match(sentence)
        prefixes = {w[:5] for w in re.findall(r"[a-z]{5,}", folded)}
        cognates = [w for w in exp.focus if len(w.text) >= 5 and w.text not in STOP_WORDS]
        if not cognates:
            return 1.0
        forms = forms_of(sentence)
        found = sum(
            w.text[:5] in prefixes or bool(forms_of(EN_FR.get(w.text, "")) & forms)
            for w in cognates
        ) / len(cognates)
        return min(1.0, found / MIN_FOCUS_EN * MIN_FOCUS)  # cognates are only partial
    words = content_words(sentence)
    forms, keys = forms_of(sentence), {w.key for w in words}
    return sum(matches(w, forms, keys) for w in exp.focus) / len(exp.focus)


#: an answering sentence covers at least this share of the question's focus words (of its
#: 5-letter cognates for an English question)
MIN_FOCUS = 0.4
MIN_FOCUS_EN = 0.25


def _antecedent(piece: str, context: str) -> str:
    """The sentence before ``piece`` in ``context`` when ``piece`` opens with an anaphor
    (« Il a été rédigé en 2031… » is about the guide named just before)."""
    at = context.find(piece)
    if not ANAPHOR.match(piece) or at <= 0:
        return ""
    before = split_sentences(context[:at].replace("\n", " "))
    return before[-1] if before else ""


def answers(unit_text: str, exp: Expectation, question: str, context: str = "") -> bool:
    """Does the passage unit hold an answer of the expected type about the focus? One of
    its sentences (or list lines) must hold the value and cover the focus. ``context`` (the
    whole passage) lends an anaphoric sentence the sentence it refers to."""
    if not exp.typed:
        return True
    lines = unit_text.splitlines()
    if exp.kind == "list" and sum(line.startswith("- ") for line in lines) >= 2:
        return _enumerates(normalize_for_match(lines[0]) + " :", exp)  # a lead-in, its items
    pieces = [p for line in lines for p in split_sentences(line.lstrip("- "))]
    lead = pieces[0] if pieces else ""
    for piece in pieces or [unit_text]:
        # a list item is read with its lead-in (« Les critères sont : - la preuve… »)
        read_with = piece if piece == lead else f"{lead} {piece}"
        read_with = f"{_antecedent(piece, context)} {read_with}".strip()
        if exp.member is not None and not _member_described(read_with, exp.member):
            continue
        if not _has_value(exp.kind, piece, exp, question):
            continue
        if exp.kind == "count" and exp.counted is not None and not exp.english:
            return True  # the number stands before the counted thing: focus enough
        if focus_coverage(read_with, exp) >= MIN_FOCUS or exp.member is not None:
            return True
    return False
