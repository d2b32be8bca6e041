"""What makes an answer sentence say something other than its cited passage: pure checks.

Each function returns a short reason in English (shown to trainers), or None. They compare a
sentence with the passage text it cites (``cited``) or with the passage unit it is aligned on
(``unit``), using the French resources of :mod:`assistant.lexicon`:

- :func:`figures_problem`: a number or date, a name (acronym) or a count that differs;
- :func:`qualifier_problem`: a restriction, an obligation or an actor added (« seul »,
  « tous », « doivent », « patients »…), or a restriction dropped (« peuvent » → « sont »);
- :func:`polarity_problem`: a negation added or removed (« ne … pas », « sans », « aucun »,
  « non »), word by word, and antonyms (« facultatif » for « obligatoire »);
- :func:`item_swap_problem`: what the passage says of one list item said of another;
- :func:`status_problem`: work in progress said to be done, or the reverse.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from itertools import pairwise

from assistant.answer.lexicon import (
    Word,
    content_words,
    derived,
    expansion_keys,
    forms_of,
    is_verbal,
    matches,
    negated_keys,
    opposed,
)
from assistant.text import (
    ANAPHOR,
    negations,
    normalize_for_match,
    numbers_in,
    split_sentences,
    with_number_words_as_digits,
)

_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,9}\b")


def _keys(words: Sequence[Word]) -> set[str]:
    return {w.key for w in words}


def _stems(text: str) -> set[str]:
    return _keys(content_words(text))


# words that restrict, extend or oblige: absent from the passage, they change the claim
@cache
def qualifiers() -> frozenset[str]:
    return frozenset(
        _stems(
            "seul seuls seule seules uniquement exclusivement toujours jamais systematiquement "
            "obligatoire obligatoires obligation obligatoirement imposer impose "
            "remplacer remplace deja termine terminee garantit garantir "
            "certifie totalement entierement integralement systematique imperativement "
            "only always never mandatory must replace already every"
        )
    )


# who does or receives something: a different actor is a different claim
@cache
def actors() -> frozenset[str]:
    return frozenset(
        _stems(
            "patient patients medecin medecins infirmier infirmiers infirmieres pharmacien "
            "pharmaciens fabricant fabricants industriel industriels editeur editeurs assurance "
            "ministere agence agences citoyens"
        )
    )


# who acts: people, roles and bodies (for « who does what » across the passage's sentences)
@cache
def roles() -> frozenset[str]:
    return actors() | frozenset(
        _stems(
            "commission comite referent referents infirmier infirmiere medecin agence equipe "
            "equipes delegue dpo pharmacien professionnel professionnels soignant soignants "
            "fabricant editeur prestataire responsable coordinateur coordonnateur dermatologue "
            "radiologue chirurgien etablissement etablissements instance autorite ministere "
            "observatoire cellule"
        )
    )


# « quelle que soit la pathologie », « qu'elle soit ou non versée », « se limitent à »
_GENERALISING = re.compile(
    r"\bquel(?:le)?s? que soi(?:en)?t\b|\bqu'(?:il|elle)s? soi(?:en)?t ou non\b|"
    r"\bsans exception\b|\ben toutes? circonstances?\b|\bseulement\b|"
    r"\bquel(?:le)?s? qu'(?:il|elle)s? soi(?:en)?t\b|\b\w+ ou non\b|"
    r"\bdans tous les cas\b|\bquel que soit\b|\bregardless\b|\bwhatever\b"
)
# a passage that says « can », « some », « sometimes »: the sentence must keep a restriction
_RESTRICTORS = re.compile(
    r"\b(?:peut|peuvent|pourrait|pourraient|certains|certaines|quelques|parfois|souvent|"
    r"la plupart|une partie|pas toujours)\b"
)
_MAY = re.compile(r"\b(?:peut|peuvent|pourra|pourront|pourrait|pourraient|possible)\b")
_MUST = re.compile(r"\b(?:doit|doivent|devra|devront|faut|oblig\w*|impos\w*|tenue?s? de)\b")
_KEEPS_RESTRICTION = re.compile(
    r"\b(?:peu\w*|pourr\w*|possib\w*|certain\w*|quelques|parfois|souvent|plupart|partie|"
    r"susceptibles?|eventuel\w*|cas echeant|notamment|en particulier|par exemple|comme|"
    r"toujours|plusieurs|ainsi que|entre autres|dont|tels? que|telles? que|certains|"
    r"may|can|some|sometimes|including|such as)\b"
)
# status of a work: in progress / planned vs done / in force
_IN_PROGRESS = re.compile(
    r"\b(?:en cours|a venir|prevue?s?|en preparation|en projet|envisage\w*|futur\w*|"
    r"pourra|pourront|sera|seront|devra|devront|permettra|detaillera|vise a produire|"
    r"visant a produire|se focalisera|travaux sont en cours|"
    r"experimente\w*|en test|\w{3,}(?:era|eront|ira|iront|dra|dront|tra|tront))\b"
)
_DONE = re.compile(
    r"\b(?:a publie|ont publie|publiee?s?|achevee?s?|terminee?s?|finalisee?s?|disponibles?|"
    r"deja|a ete|ont ete|a produit|a elabore|existe|existent|est paru|sont parus|"
    r"est en vigueur|sont en vigueur|a mis en place|ont mis en place|"
    r"(?:a|ont|avait|avaient) (?:ete )?(?!\w+(?:er|ir|re)\b)\w+(?:e|i|u|is|it|es|ees)\b)\b"
)


def figures_problem(text: str, cited: str) -> str | None:
    """A number or date, an acronym or a count of the sentence that the passage lacks."""
    # a list summarised as « trois axes » counts its items; « le premier axe » ranks one
    counts = {str(n) for length in list_lengths(cited) for n in range(1, length + 1)}
    missing = numbers_in(text) - numbers_in(cited) - counts
    if missing:
        return f"number or date not in the cited passage: {', '.join(sorted(missing))}"
    periods = _periods(text) - _periods(cited)
    if periods:
        return f"period or frequency not in the cited passage: {sorted(periods)[0]}"
    cited_forms = forms_of(cited)
    folded = normalize_for_match(cited)
    expansions = expansion_keys(cited)
    for acronym in _ACRONYM.findall(text):
        low = acronym.lower()
        if re.search(rf"\b{low}\b", folded) or low in cited_forms:
            continue
        if low in expansions and expansions[low] and expansions[low] <= cited_forms:
            continue
        return f"name not in the cited passage: {acronym}"
    passage_counts = _counted(cited)
    for noun, numbers in _counted(text).items():
        if noun in passage_counts and not numbers & passage_counts[noun]:
            return f"count differs from the cited passage: {noun}"
    return None


_PERIODS = {
    "jour": "jour", "jours": "jour", "quotidien": "jour", "quotidienne": "jour",
    "quotidiennement": "jour", "semaine": "semaine", "semaines": "semaine",
    "hebdomadaire": "semaine", "mois": "mois", "mensuel": "mois", "mensuelle": "mois",
    "mensuellement": "mois", "trimestre": "trimestre", "trimestres": "trimestre",
    "trimestriel": "trimestre", "trimestrielle": "trimestre", "semestre": "semestre",
    "semestriel": "semestre", "semestrielle": "semestre", "an": "an", "ans": "an",
    "annee": "an", "annees": "an", "annuel": "an", "annuelle": "an", "annuellement": "an",
    "heure": "heure", "heures": "heure", "minute": "minute", "minutes": "minute",
}  # fmt: skip


def _periods(text: str) -> set[str]:
    """Units of time and frequencies of a text (« chaque trimestre », « annuel »)."""
    return {_PERIODS[w] for w in re.findall(r"[a-z]+", normalize_for_match(text)) if w in _PERIODS}


def list_lengths(passage: str) -> list[int]:
    """The number of items of each list of a passage (« - » lines after a lead-in)."""
    lengths, run = [], 0
    for line in [*passage.splitlines(), ""]:
        if line.startswith("- "):
            run += 1
        elif run:
            lengths.append(run)
            run = 0
    return lengths


def unit_numbers_problem(text: str, unit: str, cited: str) -> str | None:
    """A number of the sentence found in the passage, but not in the part it is aligned on
    (« trois fois par an » when that sentence says « deux fois » and another « trois ans »)."""
    counts = {str(n) for n in list_lengths(cited)}
    mine, its = numbers_in(text), numbers_in(unit)
    missing = mine - its - counts
    if missing and its - mine:  # the unit gives another figure for it
        return f"number or date not where the passage says it: {', '.join(sorted(missing))}"
    periods, its_periods = _periods(text), _periods(unit)
    if periods - its_periods and its_periods - periods:
        return (
            f"period or frequency not where the passage says it: {sorted(periods - its_periods)[0]}"
        )
    return None


_CLAUSE = re.compile(r"[,;:()]|\b(?:et|ou|mais|afin|pour|dont)\b")


def invented_clause_problem(text: str, novel: Sequence[Word]) -> str | None:
    """A clause of the sentence made of words the passage does not have: an added claim
    (« …, le critère de coût comptant double »), not a paraphrase (whose new words are
    spread over the sentence)."""
    novel_keys = _keys(novel)
    if len(novel_keys) < 2:
        return None
    for clause in _CLAUSE.split(normalize_for_match(text)):
        keys = _keys(content_words(clause or ""))
        new = keys & novel_keys
        if len(new) >= 2 and len(new) > 0.5 * len(keys):
            return f"a clause not in the cited passage: {clause.strip()}"
    return None


def _counted(text: str) -> dict[str, set[str]]:
    """Nouns preceded by a number: {"axe": {"3"}} for "3 axes" or "trois axes"."""
    tokens = with_number_words_as_digits(text).split()
    counted: dict[str, set[str]] = {}
    for number, word in pairwise(tokens):
        if number.isdigit() and (words := content_words(word)):
            counted.setdefault(words[0].key, set()).add(number)
    return counted


def novel_words(text: str, cited: str) -> list[Word]:
    """Content words of the sentence found nowhere in the passage, under any form."""
    cited_words = content_words(cited)
    forms = forms_of(cited)
    keys = _keys(cited_words)
    return [w for w in content_words(text) if not matches(w, forms, keys)]


def qualifier_problem(text: str, cited: str, novel: Sequence[Word]) -> str | None:
    """A qualifier or actor the passage does not have, or a restriction it has dropped."""
    novel_keys = _keys(novel)
    for kind, lexicon in (("qualifier", qualifiers()), ("actor", actors())):
        if novel_keys & lexicon:
            return f"{kind} not in the cited passage: {sorted(novel_keys & lexicon)[0]}"
    sentence, passage = normalize_for_match(text), normalize_for_match(cited)
    for phrase in _GENERALISING.findall(sentence):
        if phrase not in passage:
            return f"generalisation not in the cited passage: {phrase}"
    for word in ("tous", "toutes", "all", "every"):
        if re.search(rf"\b{word}\b", sentence) and not re.search(
            rf"\b{word}\b", normalize_for_match(cited)
        ):
            return f"qualifier not in the cited passage: {word}"
    return None


def restriction_dropped(text: str, unit: str) -> str | None:
    """The passage says « peuvent », « certains », « notamment »…; the sentence states the
    same thing without any restriction."""
    passage, sentence = normalize_for_match(unit), normalize_for_match(text)
    if _MAY.search(passage) and not _MUST.search(passage) and _MUST.search(sentence):
        return "the passage says it may be, the sentence that it must be"
    found = _RESTRICTORS.search(passage)
    if not found or _KEEPS_RESTRICTION.search(sentence):
        return None
    return f"the passage restricts it (« {found.group(0)} »), the sentence does not"


def polarity_problem(text: str, unit: str, cited: str) -> str | None:
    """A negation added (the sentence negates words the passage never negates), a negation
    removed (the sentence asserts what its aligned unit negates) — « sans », « aucun » and
    « interdit » included — or a word replaced by its antonym (« facultatif » where the
    passage says « obligatoire »)."""
    negated, unit_negated = negations(text), negations(unit)
    if unit_negated and not negated:
        return "negation differs: the cited passage negates what the sentence asserts"
    if negated:  # the sentence negates a word that a sentence of the passage asserts
        plain = [p for p in split_sentences(unit.replace("\n", " ")) if not negations(p)]
        asserted = set().union(*map(_stems, plain)) - negated_keys(cited) if plain else set()
        if contradicted := (negated_keys(text) - negated_keys(cited)) & asserted:
            return f"negation differs: the cited passage asserts {sorted(contradicted)[0]}"
    if unit_negated > negated:  # a negation of the unit dropped on a word the sentence keeps
        folded = normalize_for_match(unit)
        dropped = {
            w.key
            for w in content_words(unit)
            if w.key in (negated_keys(unit) - negated_keys(text)) & _stems(text)
            and (is_verbal(w) or re.search(rf"\b{_AUXILIARY}\s+{re.escape(w.text)}\b", folded))
        }
        if dropped:
            return f"negation differs: the cited passage negates {sorted(dropped)[0]}"
    if negated > unit_negated:  # a negation the unit does not have: elsewhere in the passage?
        extra = negated_keys(text) - negated_keys(cited)
        if extra or not (unit_negated or negated_keys(text)):
            return "negation differs: not in the cited passage"
    cited_keys = _stems(cited)
    for word in content_words(text):
        if word.key in cited_keys:
            continue
        if against := next((k for k in sorted(cited_keys) if opposed(word.key, k)), None):
            return f"opposite of the cited passage: {word.text} / {against}"
    sentence_words = set(re.findall(r"[a-z]+", normalize_for_match(text)))
    unit_words = set(re.findall(r"[a-z]+", normalize_for_match(unit)))
    for a, b in _FUNCTION_ANTONYMS:
        for x, y in ((a, b), (b, a)):
            if x in sentence_words and x not in unit_words and y in unit_words:
                return f"opposite of the cited passage: {x} / {y}"
    sentence = normalize_for_match(text)
    if _OPTIONAL.search(sentence) and _MUST.search(normalize_for_match(unit)):
        return "opposite of the cited passage: optional / required"
    return None


# opposed function words (stop words, so not content words)
_FUNCTION_ANTONYMS = (("avant", "apres"), ("plus", "moins"), ("avec", "sans"), ("pour", "contre"))
_OPTIONAL = re.compile(r"\b(?:facultati\w*|optionnel\w*|dispens\w*|exempt\w*|libre choix)\b")


_LABELLED = re.compile(r"^(?:[A-ZÀ-Ý][\w'’-]*\s+){1,3}(?:[A-Z]|\d{1,2}(?:\.\d{1,2})*)\b")


_AUXILIARY = r"(?:etre|ete|est|sont|soit|soient|a|ont)"


def _crosses(said: set[str], other: set[str], same: set[str]) -> bool:
    """A verb of the sentence in one tense that the passage has only in the other."""
    return any(
        any(derived(k, o) for o in other) and not any(derived(k, x) for x in same) for k in said
    )


def list_items(passage: str) -> tuple[list[str], str]:
    """The sibling items of a passage — its list items (« - … »), else its labelled lines
    (« Niveau A : … », « Axe 2 … »), else its sentences — and the rest of its text."""
    lines = passage.splitlines()
    items = [line[2:] for line in lines if line.startswith("- ")]
    if len(items) >= 2:
        return items, "\n".join(line for line in lines if not line.startswith("- "))
    labelled = [line for line in lines if _LABELLED.match(line)]
    if len(labelled) >= 2:
        return labelled, "\n".join(line for line in lines if not _LABELLED.match(line))
    sentences: list[str] = []
    for sentence in split_sentences(passage.replace("\n", " ")):
        if sentences and ANAPHOR.match(sentence):  # « Il a été rédigé… »: the same subject
            sentences[-1] += " " + sentence
        else:
            sentences.append(sentence)
    return sentences, "sentences"


_SEGMENT = re.compile(r"[,;:()]|\b(?:et|ou|ainsi que|tandis que|alors que|puis)\b")


def item_swap_problem(text: str, cited: str) -> str | None:
    """What the passage says of one item, said of another: the sentence holds words proper
    to two different items within one clause (no comma or « et » between them), which a
    faithful summary of the list never does."""
    items, rest = list_items(cited)
    if len(items) < 2:
        return None
    by_sentence = rest == "sentences"
    shared = set() if by_sentence else forms_of(rest)
    item_keys = [forms_of(item) for item in items]
    proper = [
        keys - shared - set().union(*(other for j, other in enumerate(item_keys) if j != i))
        for i, keys in enumerate(item_keys)
    ]
    said = _stems(text)
    for segment in _SEGMENT.split(normalize_for_match(text)):
        keys = forms_of(segment or "")
        if by_sentence:  # an actor of one sentence doing what another sentence says,
            # in place of that sentence's own actor (absent from the new sentence)
            acting = {i for i, own in enumerate(proper) if keys & own & roles()}
            deeds = {i for i, own in enumerate(proper) if (keys & own) - roles()}
            replaced = {
                i for i, own in enumerate(proper) if own & roles() and not own & roles() & said
            }
            if any(i != j for i in acting for j in deeds & replaced):
                return "gives one actor of the passage what it says of another"
        elif len({i for i, own in enumerate(proper) if keys & own}) >= 2:
            return "mixes what the passage says of different items"
    return None


# who can act: people and bodies, plus the tools whose output is at stake
@cache
def agents() -> frozenset[str]:
    return actors() | frozenset(
        _stems(
            "commission comite referent infirmier infirmiere medecin agence equipe delegue dpo "
            "pharmacien professionnel soignant fabricant editeur prestataire responsable "
            "coordinateur dermatologue radiologue chirurgien etablissement "
            "outil systeme logiciel algorithme"
        )
    )


_CLAUSE_SPLIT = re.compile(r"[,;:()]|\b(?:mais|et|ou|tandis que|alors que)\b")
# « … par le comité », « doit être relue par » : the agent comes after, the order is free
_PASSIVE = re.compile(r"\b\w+(?:e|ee|es|ees|i|is|ie|ies|u|us|ue|ues|it|ite)\s+par\b")


def _agents(clause: str) -> list[str]:
    seen: list[str] = []
    for word in content_words(clause):
        if word.key in agents() and word.key not in seen:
            seen.append(word.key)
    return seen


def role_order_problem(text: str, unit: str) -> str | None:
    """Two actors of the passage in swapped places: within one clause in reverse order
    (« permet au dermatologue de solliciter le médecin » for the reverse), or a clause
    that gives its action to another actor of the passage (« l'infirmier propose… » where
    the passage says « l'outil propose… »). Passive turns (« … par ») change the order
    freely: they are left alone."""
    sentence, passage = normalize_for_match(text), normalize_for_match(unit)
    if (swap := _agent_swap(sentence, passage)) is not None:
        return swap
    if _PASSIVE.search(sentence) or _PASSIVE.search(passage):
        return None
    unit_clauses = [c for c in _CLAUSE_SPLIT.split(passage) if c and c.strip()]
    everyone = set(_agents(passage))
    for clause in _CLAUSE_SPLIT.split(sentence):
        mine = _agents(clause or "")
        if not mine:
            continue
        for theirs in map(_agents, unit_clauses):
            shared = [a for a in mine if a in theirs]
            if any(theirs.index(a) > theirs.index(b) for a, b in pairwise(shared)):
                return "swaps two actors of the cited passage"
        subject = _subject(clause or "")
        if subject is None or subject not in everyone:
            continue
        deeds = _stems(clause) - agents()
        best = max(unit_clauses, key=lambda c: len(deeds & _stems(c)), default="")
        other = _subject(best)
        if len(deeds & _stems(best)) >= 2 and other is not None and other not in mine:
            return "gives one actor's action to another actor of the cited passage"
    return None


_BY_AGENT = re.compile(r"\bpar (?:le |la |les |l'|un |une |des )?([a-z]+)")


def _agent_swap(sentence: str, passage: str) -> str | None:
    """« les discordances sont analysées par le fabricant » where the passage says
    « l'analyse des discordances par le référent »: another agent after « par »."""
    unit_clauses = [c for c in _CLAUSE_SPLIT.split(passage) if c and c.strip()]
    everyone = set(_agents(passage))
    for clause in _CLAUSE_SPLIT.split(sentence):
        found = _BY_AGENT.search(clause or "")
        words = content_words(found.group(1)) if found else []
        if not words or words[0].key not in everyone:
            continue
        deeds = _stems(clause[: found.start()]) - agents()
        best = max(unit_clauses, key=lambda c: len(deeds & _stems(c)), default="")
        theirs = _BY_AGENT.search(best)
        other = content_words(theirs.group(1)) if theirs else []
        same_deed = len(deeds & _stems(best)) >= 2
        if same_deed and other and other[0].key in agents() and other[0].key != words[0].key:
            return "gives the action to another actor of the cited passage"
    return None


def _subject(clause: str) -> str | None:
    """The actor opening a clause (« l'infirmier propose… » → infirmier), if any."""
    words = content_words(clause)
    return words[0].key if words and words[0].key in agents() else None


_PAST_VERB = re.compile(
    r"\b(?:a|ont|avait|avaient|s'est|se sont) (?:ete |deja |bien )?"
    r"(?!\w+(?:er|ir|re)\b)([a-z]+(?:e|i|u|is|it|es|ees|ee))\b"
)
_FUTURE_VERB = re.compile(
    r"\b(?:sera|seront|va etre|vont etre|devra etre|devront etre|pourra etre|pourront etre)"
    r" ([a-z]+)|\b([a-z]{3,}(?:era|eront|ira|iront))\b|\b(?:prevoit|prevoient|prevu\w*|"
    r"envisage\w*|attendu\w*|visant a|vise a|en vue d\w*) (?:le |la |les |l'|de |d'|un |une )?"
    r"([a-z]+)"
)


def _verb_keys(pattern: re.Pattern[str], folded: str) -> set[str]:
    words = " ".join(g for m in pattern.finditer(folded) for g in m.groups() if g)
    return {w.key for w in content_words(words)}


def status_problem(text: str, unit: str) -> str | None:
    """A work in progress (« en cours », « sera publié ») said to be done, or the reverse:
    for the same verb (« sera révisé » / « a été révisé »), or for the passage as a whole."""
    sentence, passage = normalize_for_match(text), normalize_for_match(unit)
    said_done, said_planned = _verb_keys(_PAST_VERB, sentence), _verb_keys(_FUTURE_VERB, sentence)
    done, planned = _verb_keys(_PAST_VERB, passage), _verb_keys(_FUTURE_VERB, passage)
    if _crosses(said_done, planned, done) or _crosses(said_planned, done, planned):
        return "changes the tense of what the cited passage says (done / planned)"
    planned, done = _IN_PROGRESS.search(passage), _DONE.search(passage)
    said_planned, said_done = _IN_PROGRESS.search(sentence), _DONE.search(sentence)
    if planned and not done and said_done and not said_planned:
        return "says done what the passage says is in progress or planned"
    if done and not planned and said_planned and not said_done:
        return "says planned what the passage says is done"
    return None
