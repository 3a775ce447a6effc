-- Version 2: a result's hash rows kept together, in the order of their key, so that
-- `rescreen` reads the table front to back in content order instead of through an index
-- (a row lookup a hash row), and a scan's lookup of a stored result is one B-tree search.
-- `n` numbers the rows of one result (content, setup) from 0, in the order they were written.
CREATE TABLE hashes_v2 (
  content INTEGER NOT NULL REFERENCES contents (id),
  setup INTEGER NOT NULL REFERENCES setups (id),
  n INTEGER NOT NULL,
  algorithm TEXT NOT NULL,
  variant TEXT NOT NULL,
  frame INTEGER,
  seconds REAL,
  quality INTEGER,
  value BLOB NOT NULL,
  detail BLOB,
  PRIMARY KEY (content, setup, n)
) WITHOUT ROWID;
INSERT INTO hashes_v2 (content, setup, n, algorithm, variant, frame, seconds, quality, value,
  detail)
SELECT content, setup, row_number() OVER (PARTITION BY content, setup ORDER BY rowid) - 1,
  algorithm, variant, frame, seconds, quality, value, detail
FROM hashes;
DROP INDEX hashes_by_content;
DROP TABLE hashes;
ALTER TABLE hashes_v2 RENAME TO hashes;
