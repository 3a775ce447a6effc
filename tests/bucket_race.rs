//! An object deleted, or replaced, between the listing and its read (issue 17): an error that
//! says so, never clean, and a replaced object is never reported as the version listed. The
//! library is driven step by step (list, change the bucket, read) so that the race is not left
//! to timing; a file of its own, since the bucket client is built from this process's
//! environment.

mod s3server;

use std::path::{Path, PathBuf};

use mediascreen::error::FileErrorKind;
use mediascreen::hashlist::HashList;
use mediascreen::matcher::{MatchOptions, Matcher};
use mediascreen::scan::{computed_algorithms, scan_one, HashOptions, Outcome, Status};
use mediascreen::walk::{walk, Filter};
use s3server::Server;

#[test]
#[ignore = "needs moto_server (pip install 'moto[server]')"]
fn an_object_deleted_or_replaced_after_listing_is_an_error_never_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let listed = std::fs::read(root.join("fixtures/screening/exact/q0291.jpg")).unwrap();
    let unlisted = std::fs::read(root.join("fixtures/screening/distinct/q0122.jpg")).unwrap();
    let server = Server::start();
    server.create_bucket("race");
    for key in ["gone.jpg", "kept.jpg", "replaced.jpg"] {
        server.put("race", key, &unlisted);
    }
    for (name, value) in server.env() {
        // This binary's only test, before anything reads the environment.
        std::env::set_var(name, value);
    }
    let candidates = walk(&[PathBuf::from("s3://race/")], false, &Filter::default());
    assert_eq!(candidates.len(), 3);
    server.delete("race", "gone.jpg");
    server.put("race", "replaced.jpg", &listed);

    let list = HashList::load(&root.join("hashlists/demo.csv"), &Default::default()).unwrap();
    let matcher = Matcher::new(vec![list], MatchOptions::default()).unwrap();
    let algorithms = computed_algorithms(&matcher);
    let outcomes: Vec<(String, Outcome)> = candidates
        .iter()
        .map(|c| {
            let mut screened = scan_one(c, &algorithms, &matcher, &HashOptions::default());
            let file = screened.files.remove(0);
            (file.path.to_string_lossy().into_owned(), file.outcome)
        })
        .collect();
    let io_error = |outcome: &Outcome, words: &str| match outcome {
        Outcome::Error { error, .. } => {
            error.kind == FileErrorKind::Io && error.to_string().contains(words)
        }
        _ => false,
    };
    assert_eq!(outcomes[0].0, "s3://race/gone.jpg");
    assert!(io_error(&outcomes[0].1, "not found"), "{:?}", outcomes[0]);
    assert_eq!(outcomes[1].0, "s3://race/kept.jpg");
    assert_eq!(outcomes[1].1.status(), Status::Clean, "{:?}", outcomes[1]);
    assert_eq!(outcomes[2].0, "s3://race/replaced.jpg");
    assert!(io_error(&outcomes[2].1, "changed between listing and reading"), "{:?}", outcomes[2]);
}
