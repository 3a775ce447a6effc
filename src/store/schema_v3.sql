-- Version 3: what `ffmpeg -version` (and `ffprobe -version`) said, by the binary's identity,
-- so that a re-scan with the same ffmpeg does not start it: each start loads ffmpeg's
-- libraries, as long as a re-scan of a few hundred unchanged files takes.
CREATE TABLE tools (
  path BLOB PRIMARY KEY,            -- the program's path, as found (absolute)
  device INTEGER NOT NULL,
  inode INTEGER NOT NULL,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  ctime_ns INTEGER NOT NULL,
  seen_ns INTEGER NOT NULL,         -- when it was asked
  version TEXT NOT NULL             -- the first line of its `-version`
);
