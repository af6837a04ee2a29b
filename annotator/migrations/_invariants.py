"""SQL of the database invariants (migration 0002), shared with later migrations that must
rebuild tables on SQLite.

Invariants that need another table, kept in the database itself so that no code path
(ORM, raw SQL, a future bulk import) can store a span whose quote is not the document's text.

PostgreSQL and SQLite both count characters (code points) in length()/substr(), the same unit
as Python string indices, so the check is exact for any text, emoji and Arabic included.
"""

POSTGRES_FORWARD = [
    r"""
CREATE OR REPLACE FUNCTION annotator_check_quote() RETURNS trigger AS $$
DECLARE
    doc_length integer;
    doc_quote text;
BEGIN
    SELECT char_length(d.text), substr(d.text, NEW.start + 1, NEW."end" - NEW.start)
      INTO doc_length, doc_quote
      FROM annotator_document d WHERE d.id = NEW.document_id;
    IF NEW."end" > doc_length THEN
        RAISE EXCEPTION 'annotation end % is beyond the document (% characters)',
            NEW."end", doc_length USING ERRCODE = 'check_violation';
    END IF;
    IF doc_quote IS DISTINCT FROM NEW.text THEN
        RAISE EXCEPTION 'annotation quote does not match the document text at [%, %)',
            NEW.start, NEW."end" USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
""",
    r"""
CREATE TRIGGER annotator_annotation_quote
BEFORE INSERT OR UPDATE OF start, "end", text, document_id ON annotator_annotation
FOR EACH ROW EXECUTE FUNCTION annotator_check_quote();
""",
    r"""
CREATE OR REPLACE FUNCTION annotator_document_text_frozen() RETURNS trigger AS $$
BEGIN
    IF NEW.text IS DISTINCT FROM OLD.text
       AND EXISTS (SELECT 1 FROM annotator_annotation a WHERE a.document_id = OLD.id) THEN
        RAISE EXCEPTION 'the text of document % cannot change once coding has started', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
""",
    r"""
CREATE TRIGGER annotator_document_text_frozen
BEFORE UPDATE OF text ON annotator_document
FOR EACH ROW EXECUTE FUNCTION annotator_document_text_frozen();
""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS annotator_annotation_quote ON annotator_annotation",
    "DROP FUNCTION IF EXISTS annotator_check_quote()",
    "DROP TRIGGER IF EXISTS annotator_document_text_frozen ON annotator_document",
    "DROP FUNCTION IF EXISTS annotator_document_text_frozen()",
]

SQLITE_QUOTE_CHECKS = r"""
    SELECT RAISE(ABORT, 'annotation end is beyond the document')
     WHERE NEW."end" > (SELECT length(d.text) FROM annotator_document d WHERE d.id = NEW.document_id);
    SELECT RAISE(ABORT, 'annotation quote does not match the document text')
     WHERE NEW.text IS NOT (SELECT substr(d.text, NEW.start + 1, NEW."end" - NEW.start)
                              FROM annotator_document d WHERE d.id = NEW.document_id);
"""
SQLITE_FORWARD = [
    f"""CREATE TRIGGER annotator_annotation_quote_insert BEFORE INSERT ON annotator_annotation
BEGIN {SQLITE_QUOTE_CHECKS} END;""",
    f"""CREATE TRIGGER annotator_annotation_quote_update
BEFORE UPDATE OF start, "end", text, document_id ON annotator_annotation
BEGIN {SQLITE_QUOTE_CHECKS} END;""",
    r"""CREATE TRIGGER annotator_document_text_frozen BEFORE UPDATE OF text ON annotator_document
WHEN NEW.text IS NOT OLD.text
 AND EXISTS (SELECT 1 FROM annotator_annotation a WHERE a.document_id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'the text of a document cannot change once coding has started');
END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS annotator_annotation_quote_insert",
    "DROP TRIGGER IF EXISTS annotator_annotation_quote_update",
    "DROP TRIGGER IF EXISTS annotator_document_text_frozen",
]


def run(statements_by_vendor):
    def apply(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(
                f"Annotator supports PostgreSQL and SQLite, not {schema_editor.connection.vendor}"
            )
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return apply


def sqlite_only(statements):
    """Around operations that make SQLite rebuild a table: its triggers name the tables and
    must be dropped first and created again afterwards."""

    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for statement in statements:
                schema_editor.execute(statement, params=None)

    return apply
