-- A dashboard command and its outcome as codes with their details (JSON), for the page to word
-- in its reader's language; none: the English columns alone.
ALTER TABLE audit ADD COLUMN said TEXT;
