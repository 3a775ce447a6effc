//! `mediascreen hash` end to end: what each kind of file gets by default, what stderr says
//! about it, the exit status of a run that hashed nothing or only part, and the ids and
//! labels of the list written, which must load as a list and flag what it should.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

mod run;
use run::{algorithms, code, flagged, mediascreen, report, root, stderr, stdout};

const PICTURE: &str = "fixtures/screening/edited/bridge-half-size.jpg";
const VIDEO: &str = "fixtures/video/chair-clip.mp4";
/// The longer re-encode that holds the whole of `VIDEO`.
const EDITED_VIDEO: &str = "fixtures/video/chair-reencoded.mp4";
const ANIMATION: &str = "fixtures/video/testsrc-10fps.webp";
const TEXT: &str = "fixtures/screening/exact/not-a-photo.jpg";
const HEADER: &str = "algorithm,hash,id,label,quality,timestamp";

/// The data rows of a `hash` run's output, split into fields (no field here needs quoting).
fn rows(output: &Output) -> Vec<Vec<String>> {
    let text = stdout(output);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(HEADER), "{text}");
    lines.map(|line| line.split(',').map(str::to_string).collect()).collect()
}

/// The algorithms of the rows whose id is `id`, in order, each once.
fn algorithms_of(rows: &[Vec<String>], id: &str) -> Vec<String> {
    let mut algorithms: Vec<String> = Vec::new();
    for row in rows.iter().filter(|row| row[2] == id) {
        if algorithms.last() != Some(&row[0]) {
            algorithms.push(row[0].clone());
        }
    }
    algorithms
}

fn sha256_hex(path: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(std::fs::read(root().join(path)).unwrap());
    hex::encode(digest)
}

/// `scan PATHS --list LIST --quiet [FLAGS]`: exit status and the JSON report.
fn scan(paths: &[&str], list: &Path, flags: &[&str]) -> (i32, Value) {
    let list = list.to_str().unwrap();
    let output = mediascreen(&[&["scan"], paths, &["--list", list, "--quiet"], flags].concat());
    (code(&output), report(&output))
}

fn write_list(dir: &Path, output: &Output) -> std::path::PathBuf {
    let path = dir.join("list.csv");
    std::fs::write(&path, &output.stdout).unwrap();
    path
}

#[test]
fn the_defaults_give_each_kind_of_file_its_perceptual_hash() {
    let output = mediascreen(&["hash", PICTURE, VIDEO, ANIMATION, TEXT]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let rows = rows(&output);
    let digests = ["md5", "sha1", "sha256"];
    assert_eq!(algorithms_of(&rows, PICTURE), [&["pdq"][..], &digests].concat());
    assert_eq!(algorithms_of(&rows, VIDEO), [&["vpdq"][..], &digests].concat());
    // An animated WebP is a picture (its first frame) and a video (its frames).
    assert_eq!(algorithms_of(&rows, ANIMATION), [&["pdq", "vpdq"][..], &digests].concat());
    assert_eq!(algorithms_of(&rows, TEXT), digests);
    // One frame a second of the 7 s clip, stamped as the reference stamps them.
    let video: Vec<&Vec<String>> =
        rows.iter().filter(|r| r[0] == "vpdq" && r[2] == VIDEO).collect();
    let times: Vec<&str> = video.iter().map(|r| r[5].as_str()).collect();
    assert_eq!(times, ["0.000", "1.000", "2.000", "3.000", "4.000", "5.000", "6.000"]);
    // Nothing fell short, so stderr is the summary alone.
    assert_eq!(
        stderr(&output),
        "mediascreen: hashed 4 files into 22 rows: 1 picture (pdq), 1 video (vpdq, 7 frames), \
         1 animation (pdq, vpdq, 1 frame), 1 other file (digests only); md5, sha1, sha256 of \
         each\n"
    );
    assert_eq!(rows.len(), 22);
}

#[test]
fn a_list_built_with_the_defaults_flags_an_edited_copy_of_a_video() {
    let dir = tempfile::tempdir().unwrap();
    let output = mediascreen(&["hash", VIDEO]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let list = write_list(dir.path(), &output);
    let (code, report) = scan(&[EDITED_VIDEO, "fixtures/video/unrelated.mp4"], &list, &[]);
    assert_eq!(code, 1, "{report}");
    let entry = flagged(&report, EDITED_VIDEO).expect("the re-encode is flagged");
    assert_eq!(entry["matches"][0]["algorithm"], "vpdq", "{entry}");
    assert_eq!(entry["matches"][0]["id"], VIDEO, "{entry}");
    assert!(flagged(&report, "fixtures/video/unrelated.mp4").is_none(), "{report}");
}

#[test]
fn an_explicit_list_is_taken_as_it_is_and_says_what_a_file_missed() {
    let dir = tempfile::tempdir().unwrap();
    // The former defaults: a video gets digests only, and stderr says so.
    let output = mediascreen(&["hash", "--algorithms", "pdq,md5,sha1,sha256", VIDEO, PICTURE]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let written = rows(&output);
    assert_eq!(algorithms_of(&written, VIDEO), ["md5", "sha1", "sha256"]);
    assert_eq!(algorithms_of(&written, PICTURE), ["pdq", "md5", "sha1", "sha256"]);
    assert_eq!(
        stderr(&output),
        format!(
            "mediascreen: warning: {VIDEO}: a video (video/mp4) takes vpdq, not in --algorithms: \
             only md5, sha1, sha256, so only exact copies can match it\n\
             mediascreen: hashed 2 files into 7 rows: 1 picture (pdq), 1 video (digests only); \
             md5, sha1, sha256 of each\n"
        )
    );
    // Such a list misses the edited copy.
    let list = write_list(dir.path(), &output);
    let (status, report) = scan(&[EDITED_VIDEO], &list, &[]);
    assert_eq!(status, 0, "{report}");

    // vpdq alone: a picture gets nothing, and is named.
    let output = mediascreen(&["hash", "--algorithms", "vpdq", PICTURE, VIDEO]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(rows(&output).iter().all(|r| r[0] == "vpdq" && r[2] == VIDEO));
    let text = stderr(&output);
    assert!(
        text.starts_with(&format!(
            "mediascreen: warning: {PICTURE}: a picture (image/jpeg) takes pdq (or phash, dhash, \
             ahash, orb1, orb2), not in --algorithms: no hash written\n"
        )),
        "{text}"
    );
    assert!(text.ends_with("1 file without a hash\n"), "{text}");
}

#[test]
fn a_run_that_writes_no_hash_exits_2() {
    // A text file has no picture or video hash: no rows, and stderr says why.
    let output = mediascreen(&["hash", "--algorithms", "pdq,vpdq", TEXT]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert_eq!(stdout(&output), format!("{HEADER}\n"));
    assert!(rows(&output).is_empty());
    let text = stderr(&output);
    assert!(
        text.ends_with(
            "mediascreen: error: no file gave a pdq or vpdq hash: the list written has no \
             entries (scan refuses such a list)\n"
        ),
        "{text}"
    );
    // With the defaults, its digests are a list.
    let output = mediascreen(&["hash", TEXT]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(rows(&output).len(), 3);

    // Nothing to hash at all.
    let dir = tempfile::tempdir().unwrap();
    let output = mediascreen(&["hash", dir.path().to_str().unwrap()]);
    assert_eq!(code(&output), 2);
    assert!(rows(&output).is_empty());
    assert_eq!(stderr(&output), "mediascreen: error: no files to hash; check the paths given\n");

    // Nothing that could be hashed.
    let missing = dir.path().join("missing.jpg");
    let output = mediascreen(&["hash", missing.to_str().unwrap()]);
    assert_eq!(code(&output), 2);
    assert!(rows(&output).is_empty());
    assert!(stderr(&output).ends_with("mediascreen: error: no file could be hashed: the list written has no entries (scan refuses such a list)\n"), "{}", stderr(&output));
}

#[test]
fn a_partial_run_exits_2_and_still_writes_a_valid_list_of_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.jpg");
    let missing = missing.to_str().unwrap();
    let corrupt = "fixtures/bad/corrupt.jpg";
    let output = mediascreen(&["hash", PICTURE, corrupt, missing]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    let text = stderr(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with(&format!("mediascreen: {corrupt}: ")), "{text}");
    assert!(lines[1].starts_with(&format!("mediascreen: {missing}: ")), "{text}");
    assert!(lines[2].ends_with("; 2 errors (named above)"), "{text}");
    // The picture's rows, and the corrupt file's digests, which match its exact copies.
    let rows = rows(&output);
    assert_eq!(algorithms_of(&rows, PICTURE), ["pdq", "md5", "sha1", "sha256"]);
    assert_eq!(algorithms_of(&rows, corrupt), ["md5", "sha1", "sha256"]);
    let list = write_list(dir.path(), &output);
    let (code, report) =
        scan(&["fixtures/screening/edited/bridge-recompressed-q20.jpg"], &list, &[]);
    assert_eq!(code, 1, "{report}");
}

#[cfg(unix)]
#[test]
fn a_skipped_link_is_named_but_no_error_as_in_a_scan() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(root().join(PICTURE), dir.path().join("link.jpg")).unwrap();
    let link = dir.path().join("link.jpg");
    let output = mediascreen(&["hash", link.to_str().unwrap(), PICTURE]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.starts_with(&format!(
            "mediascreen: {}: skipped: symbolic link not followed (use --follow-symlinks)\n",
            link.display()
        )),
        "{text}"
    );
    assert!(text.ends_with("; 1 skipped (named above)\n"), "{text}");
    // Alone, it leaves nothing to list.
    let output = mediascreen(&["hash", link.to_str().unwrap()]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
}

#[test]
fn ids_from_the_content_keep_paths_out_of_redacted_reports() {
    let dir = tempfile::tempdir().unwrap();
    let label = "case 7, \"bridge\"";
    let output = mediascreen(&["hash", "--id-from", "sha256", "--label", label, PICTURE, VIDEO]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    // The label needs quoting: read the list as CSV.
    let mut reader = csv::Reader::from_reader(&output.stdout[..]);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let (picture, video) = (sha256_hex(PICTURE), sha256_hex(VIDEO));
    assert_eq!(records.iter().filter(|r| r[2] == picture).count(), 4);
    assert_eq!(records.iter().filter(|r| r[2] == video).count(), 7 + 3);
    assert!(records.iter().all(|r| &r[3] == label), "{records:?}");
    // The sha256 rows are the ids.
    for record in records.iter().filter(|r| &r[0] == "sha256") {
        assert_eq!(record[1], record[2]);
    }

    let list = write_list(dir.path(), &output);
    let key = dir.path().join("key");
    std::fs::write(&key, "secret").unwrap();
    let key = key.to_str().unwrap();
    let scanned = ["fixtures/screening/edited/bridge-recompressed-q20.jpg", EDITED_VIDEO];
    let flags = ["--redact-paths", "--redact-key-file", key];
    let (code, report) = scan(&scanned, &list, &flags);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["summary"]["flagged"], 2, "{report}");
    let ids: Vec<&str> = (report["flagged"].as_array().unwrap().iter())
        .flat_map(|f| f["matches"].as_array().unwrap())
        .map(|m| {
            assert_eq!(m["label"], label, "{m}");
            m["id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(ids, [picture.as_str(), video.as_str()]);
    let text = report.to_string();
    assert!(!text.contains("bridge-") && !text.contains("chair"), "a path leaked: {text}");
}

#[test]
fn identical_files_are_listed_once_under_a_content_id() {
    // q0291.jpg and q0291-renamed.txt hold the same bytes.
    let output = mediascreen(&["hash", "--id-from", "sha256", "fixtures/screening/exact"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let rows = rows(&output);
    let q0291 = sha256_hex("fixtures/screening/exact/q0291.jpg");
    assert_eq!(algorithms_of(&rows, &q0291), ["pdq", "md5", "sha1", "sha256"]);
    assert_eq!(rows.len(), 4 + 3, "the text file's digests, the photo's rows once");
    let text = stderr(&output);
    assert!(text.ends_with("; 1 file identical to one already written (not repeated)\n"), "{text}");
}

#[test]
fn ids_from_names_warn_when_two_files_share_one() {
    let dir = tempfile::tempdir().unwrap();
    for (folder, source) in [("a", PICTURE), ("b", "fixtures/screening/distinct/coffee.jpg")] {
        std::fs::create_dir(dir.path().join(folder)).unwrap();
        std::fs::copy(root().join(source), dir.path().join(folder).join("x.jpg")).unwrap();
    }
    let output = mediascreen(&["hash", "--id-from", "name", dir.path().to_str().unwrap()]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let rows = rows(&output);
    assert_eq!(rows.len(), 8);
    assert!(rows.iter().all(|r| r[2] == "x.jpg"), "{rows:?}");
    let (a, b) = (dir.path().join("a/x.jpg"), dir.path().join("b/x.jpg"));
    let text = stderr(&output);
    assert!(
        text.starts_with(&format!(
            "mediascreen: warning: {}: id \"x.jpg\" is also {}'s",
            b.display(),
            a.display()
        )),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn a_name_with_a_line_break_is_no_id_but_its_content_is() {
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("two\nlines.jpg");
    std::fs::copy(root().join(PICTURE), &odd).unwrap();
    let odd = odd.to_str().unwrap();
    // Written as it is, the id would split the row over two lines: refused, named.
    let output = mediascreen(&["hash", odd]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(rows(&output).is_empty());
    let text = stderr(&output);
    assert!(
        text.starts_with(&format!(
            "mediascreen: {}: its name holds a line break, which a list id cannot \
             (--id-from sha256 names it by its content)\n",
            odd.replace('\n', "\\n")
        )),
        "{text}"
    );
    let output = mediascreen(&["hash", "--id-from", "sha256", odd]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        algorithms_of(&rows(&output), &sha256_hex(PICTURE)),
        ["pdq", "md5", "sha1", "sha256"]
    );
}

#[test]
fn a_label_with_a_line_break_is_refused() {
    let output = mediascreen(&["hash", "--label", "two\nlines", PICTURE]);
    assert_eq!(code(&output), 2);
    assert!(stdout(&output).is_empty());
    assert_eq!(
        stderr(&output),
        "mediascreen: error: --label cannot hold a line break: a list entry is one line\n"
    );
}

#[test]
fn quiet_leaves_out_the_summary_only() {
    let output = mediascreen(&["hash", "--quiet", PICTURE]);
    assert_eq!(code(&output), 0);
    assert_eq!(stderr(&output), "");
    let output = mediascreen(&["hash", "-q", "--algorithms", "md5", VIDEO]);
    assert_eq!(code(&output), 0);
    assert!(stderr(&output).starts_with("mediascreen: warning: "), "{}", stderr(&output));
}

#[test]
fn help_documents_the_defaults_ids_and_exit_status() {
    let output = mediascreen(&["hash", "--help"]);
    // As wrapped to any width.
    let help = stdout(&output).split_whitespace().collect::<Vec<_>>().join(" ");
    for text in ["[default: pdq,vpdq,md5,sha1,sha256]", "--id-from", "--label", "Exit status:"] {
        assert!(help.contains(text), "{text} missing:\n{help}");
    }
}

#[test]
fn hash_output_is_a_valid_list() {
    let dir = tempfile::tempdir().unwrap();
    let output = mediascreen(&[
        "hash",
        "fixtures/screening/edited/bridge-half-size.jpg",
        "fixtures/screening/edited/q1050-resized.png",
        "--algorithms",
        "pdq,phash,dhash,ahash,md5,sha1,sha256",
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("algorithm,hash,id,label,quality,timestamp\n"), "{text}");
    assert_eq!(text.lines().count(), 1 + 2 * 7, "{text}");
    let list = write_list(dir.path(), &output);

    let (code, report) = scan(&["fixtures/screening/edited"], &list, &[]);
    assert_eq!(code, 1);
    let entry = flagged(&report, "fixtures/screening/edited/bridge-half-size.jpg").unwrap();
    let algorithms = algorithms(entry);
    for algorithm in ["pdq", "phash", "dhash", "ahash", "md5", "sha1", "sha256"] {
        assert!(algorithms.contains(&algorithm), "{algorithm} missing: {entry}");
    }
    assert!(entry["matches"].as_array().unwrap().iter().all(|m| m["distance"] == 0));
}
