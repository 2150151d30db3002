-- The language an account reads the dashboard in (`en`, `zh`); none: the browser's.
ALTER TABLE users ADD COLUMN language TEXT;
