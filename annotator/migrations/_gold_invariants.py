"""SQL of the gold layer's database invariants (migration 0007), as _invariants.py does for
the coders' spans: a gold span's quote is document.text[start:end], and a document's text cannot
change once it has gold spans (a document may reach the gold with no coder span at all: an
adjudicator can add spans to a document its coders left empty).

SQLite drops a table's triggers when a migration rebuilds that table: a later migration that
rebuilds annotator_goldspan or annotator_document must drop these first and create them again
afterwards (``sqlite_only(GOLD_SQLITE_BACKWARD)`` ... ``sqlite_only(GOLD_SQLITE_FORWARD)``), as
0003 does for _invariants.py.
"""

GOLD_POSTGRES_FORWARD = [
    # annotator_check_quote() (migration 0002) reads only NEW.document_id/start/end/text,
    # which gold spans have under the same names.
    r"""
CREATE TRIGGER annotator_goldspan_quote
BEFORE INSERT OR UPDATE OF start, "end", text, document_id ON annotator_goldspan
FOR EACH ROW EXECUTE FUNCTION annotator_check_quote();
""",
    r"""
CREATE OR REPLACE FUNCTION annotator_document_text_frozen_by_gold() RETURNS trigger AS $$
BEGIN
    IF NEW.text IS DISTINCT FROM OLD.text
       AND EXISTS (SELECT 1 FROM annotator_goldspan g WHERE g.document_id = OLD.id) THEN
        RAISE EXCEPTION 'the text of document % cannot change once it has gold spans', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
""",
    r"""
CREATE TRIGGER annotator_document_text_frozen_by_gold
BEFORE UPDATE OF text ON annotator_document
FOR EACH ROW EXECUTE FUNCTION annotator_document_text_frozen_by_gold();
""",
]
GOLD_POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS annotator_goldspan_quote ON annotator_goldspan",
    "DROP TRIGGER IF EXISTS annotator_document_text_frozen_by_gold ON annotator_document",
    "DROP FUNCTION IF EXISTS annotator_document_text_frozen_by_gold()",
]

_SQLITE_GOLD_QUOTE_CHECKS = r"""
    SELECT RAISE(ABORT, 'gold span end is beyond the document')
     WHERE NEW."end" > (SELECT length(d.text) FROM annotator_document d WHERE d.id = NEW.document_id);
    SELECT RAISE(ABORT, 'gold span quote does not match the document text')
     WHERE NEW.text IS NOT (SELECT substr(d.text, NEW.start + 1, NEW."end" - NEW.start)
                              FROM annotator_document d WHERE d.id = NEW.document_id);
"""
GOLD_SQLITE_FORWARD = [
    f"""CREATE TRIGGER annotator_goldspan_quote_insert BEFORE INSERT ON annotator_goldspan
BEGIN {_SQLITE_GOLD_QUOTE_CHECKS} END;""",
    f"""CREATE TRIGGER annotator_goldspan_quote_update
BEFORE UPDATE OF start, "end", text, document_id ON annotator_goldspan
BEGIN {_SQLITE_GOLD_QUOTE_CHECKS} END;""",
    r"""CREATE TRIGGER annotator_document_text_frozen_by_gold
BEFORE UPDATE OF text ON annotator_document
WHEN NEW.text IS NOT OLD.text
 AND EXISTS (SELECT 1 FROM annotator_goldspan g WHERE g.document_id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'the text of a document cannot change once it has gold spans');
END;""",
]
GOLD_SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS annotator_goldspan_quote_insert",
    "DROP TRIGGER IF EXISTS annotator_goldspan_quote_update",
    "DROP TRIGGER IF EXISTS annotator_document_text_frozen_by_gold",
]
