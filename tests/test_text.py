from assistant.text import normalize_for_match, split_sentences


def test_french_abbreviations_do_not_end_sentences():
    text = (
        "Voir l'art. 3 du règlement fictif. M. Lenoir, p. ex., consulte le Dr. Martin. "
        "Le score vaut 2.5 sur 10. Est-ce utile ? Oui !"
    )
    assert split_sentences(text) == [
        "Voir l'art. 3 du règlement fictif.",
        "M. Lenoir, p. ex., consulte le Dr. Martin.",
        "Le score vaut 2.5 sur 10.",
        "Est-ce utile ?",
        "Oui !",
    ]


def test_initials_and_closing_quotes():
    text = "Il cite « le guide. » Puis J. Dupont répond. c.-à-d. rien."
    assert split_sentences(text) == [
        "Il cite « le guide. »",
        "Puis J. Dupont répond. c.-à-d. rien.",
    ]


def test_split_sentences_is_lossless():
    text = "Première phrase. Deuxième phrase, plus longue ; avec un point-virgule. Troisième"
    assert " ".join(split_sentences(text)) == text
    assert split_sentences("   ") == []


def test_normalize_for_match_folds_accents_quotes_and_spaces():
    assert normalize_for_match("L’Évaluation  «pilote»\u00a0ÉTÉ") == 'l\'evaluation "pilote" ete'
