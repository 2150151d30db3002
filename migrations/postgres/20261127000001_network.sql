-- The fencing token of the site lease an entry was written under (none: no lease in use).
ALTER TABLE journal ADD COLUMN lease BIGINT;
-- Units picked into an order's totes (a transfer order's units shipped).
ALTER TABLE orders ADD COLUMN picked BIGINT NOT NULL DEFAULT 0;
-- Units received against a transfer, once it has arrived.
ALTER TABLE transfers ADD COLUMN received BIGINT;
-- The sites an account's role covers in a network (comma-separated; none: every site).
ALTER TABLE users ADD COLUMN sites TEXT;
