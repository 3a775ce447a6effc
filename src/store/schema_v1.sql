-- Schema 1 of the mediascreen hash store (docs/store-format.md).
CREATE TABLE setups (
  id INTEGER PRIMARY KEY,
  description TEXT NOT NULL UNIQUE  -- the decoders and sampling hashes were made with
);
CREATE TABLE scans (
  id INTEGER PRIMARY KEY,
  started_ns INTEGER NOT NULL,      -- Unix time in nanoseconds
  finished_ns INTEGER,              -- NULL: still running, or killed
  setup INTEGER NOT NULL REFERENCES setups (id),
  paths TEXT NOT NULL               -- JSON array of the roots, as given
);
CREATE TABLE contents (
  id INTEGER PRIMARY KEY,
  sha256 BLOB NOT NULL UNIQUE,
  size INTEGER NOT NULL
);
CREATE TABLE files (
  id INTEGER PRIMARY KEY,
  path BLOB NOT NULL UNIQUE,        -- the absolute path's bytes (made so lexically)
  device INTEGER,                   -- st_dev, st_ino, mtime and ctime (ns): NULL where the
  inode INTEGER,                    -- platform has none
  size INTEGER NOT NULL,
  mtime_ns INTEGER,
  ctime_ns INTEGER,
  content INTEGER NOT NULL REFERENCES contents (id),
  scan INTEGER NOT NULL REFERENCES scans (id),   -- the scan that recorded this identity
  seen_ns INTEGER NOT NULL          -- start of the scan that recorded this identity
);
CREATE INDEX files_by_content ON files (content);
CREATE TABLE results (
  content INTEGER NOT NULL REFERENCES contents (id),
  setup INTEGER NOT NULL REFERENCES setups (id),
  scan INTEGER NOT NULL REFERENCES scans (id),   -- the scan that computed it
  algorithms TEXT NOT NULL,         -- comma-separated: what was asked for
  media_type TEXT NOT NULL,
  error_kind TEXT,                  -- why perceptual hashes are missing: only 'corrupt' kept
  error TEXT,
  video_fps REAL,                   -- set when a vPDQ hash was made (it may have no frames)
  video_seconds_per_hash REAL,
  PRIMARY KEY (content, setup)
);
CREATE TABLE hashes (
  content INTEGER NOT NULL REFERENCES contents (id),
  setup INTEGER NOT NULL REFERENCES setups (id),
  algorithm TEXT NOT NULL,          -- pdq, vpdq, phash, dhash, ahash, md5, sha1, sha256, orb1
  variant TEXT NOT NULL,            -- '', 'mirrored' (orb1), 'between' (animation frames)
  frame INTEGER,                    -- vpdq: frame number, decode order
  seconds REAL,                     -- vpdq: the frame's time
  quality INTEGER,                  -- pdq/vpdq quality; orb1 keypoints
  value BLOB NOT NULL,              -- the hash (orb1: its signature's SHA-256)
  detail BLOB                       -- pdq: quality byte + its 8 variants; orb1: signature
);
CREATE INDEX hashes_by_content ON hashes (content, setup);
