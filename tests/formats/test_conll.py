from annotator.formats import ConllStats, tokenize, write_conll
from tests.formats.conftest import make_item

SENTENCE = (
    "Russian air strikes in Syria between September 19-29 resulted in the deaths of "
    "2,359 ISIS terrorists."
)


def tokens(text):
    return [text[s:e] for s, e in tokenize(text)]


def test_a_known_sentence_is_tagged_bio():
    item = make_item(
        SENTENCE,
        [
            ("Russian", "ACTOR", "A1"),
            ("Syria", "LOCATION", "L1"),
            ("September 19-29", "DATE", "D1"),
            ("2,359 ISIS terrorists", "CASUALTY", "C1"),
        ],
    )
    assert "".join(write_conll([item])) == (
        "-DOCSTART-\tO\n\n"
        "Russian\tB-ACTOR\nair\tO\nstrikes\tO\nin\tO\nSyria\tB-LOCATION\nbetween\tO\n"
        "September\tB-DATE\n19-29\tI-DATE\nresulted\tO\nin\tO\nthe\tO\ndeaths\tO\nof\tO\n"
        "2,359\tB-CASUALTY\nISIS\tI-CASUALTY\nterrorists\tI-CASUALTY\n.\tO\n\n"
    )


def test_sentences_end_at_final_punctuation_and_line_breaks():
    item = make_item("He said “it is over.” Then 16 died\nin Idlib")
    sentences = "".join(write_conll([item])).split("\n\n")[1:-1]
    assert [[line.split("\t")[0] for line in s.split("\n")] for s in sentences] == [
        ["He", "said", "“", "it", "is", "over", ".", "”"],
        ["Then", "16", "died"],
        ["in", "Idlib"],
    ]


def test_the_tokenizer_keeps_numbers_arabic_words_and_emoji_whole():
    assert tokens("2,359 killed, 1.5 km; ١٦ مسلحاً في إدلب 😀👍🏽 🇸🇾 U.S. F-16 Deir ez-Zor…") == [
        "2,359",
        "killed",
        ",",
        "1.5",
        "km",
        ";",
        "١٦",
        "مسلحاً",
        "في",
        "إدلب",
        "😀",
        "👍🏽",
        "🇸🇾",
        "U.S.",
        "F-16",
        "Deir",
        "ez-Zor",
        "…",
    ]


def test_the_longest_of_overlapping_spans_wins_and_the_others_are_counted():
    text = "16 ISIS field commanders were killed"
    item = make_item(
        text,
        [
            ("ISIS", "ACTOR", "A1"),
            ("16 ISIS field commanders", "CASUALTY", "C1"),
            ("commanders were", "X", "X1"),
        ],
    )
    stats = ConllStats()
    lines = "".join(write_conll([item], stats=stats)).split("\n")
    assert lines[2:7] == [
        "16\tB-CASUALTY",
        "ISIS\tI-CASUALTY",
        "field\tI-CASUALTY",
        "commanders\tI-CASUALTY",
        "were\tO",
    ]
    assert (stats.spans_written, stats.spans_dropped_overlapping) == (1, 2)


def test_each_document_starts_with_docstart():
    out = "".join(write_conll([make_item("One."), make_item("Two.")]))
    assert out == "-DOCSTART-\tO\n\nOne\tO\n.\tO\n\n-DOCSTART-\tO\n\nTwo\tO\n.\tO\n\n"
