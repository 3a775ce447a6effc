//! The flags of every command that matches against lists and writes a report (`scan`,
//! `rescreen`), turned once into the matcher and where and how the report goes.
//!
//! Owns loading the lists and allowlists, the match and flood-guard options, the report's
//! form and path redaction. Must not know how the files to match are found.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;

use mediascreen::hashlist::LoadOptions;
use mediascreen::matcher::{MatchOptions, Matcher};
use mediascreen::report::PathKey;

use super::lists::{is_stdin, load_list, warn_low_quality, warn_refused, warn_thresholds};
use super::names::refused;
use super::report_path::check_outputs;
use super::{LoadArgs, MatchArgs, ReportFormat};

#[derive(Debug, ClapArgs)]
pub struct ScreenArgs {
    /// A hash list to match against, in any supported format (detected; see
    /// hashlists/README.md and docs/hashlist-format.md); `-` reads standard input. Repeatable.
    #[arg(
        short,
        long = "list",
        value_name = "FILE",
        required = true,
        help_heading = "Lists and matching"
    )]
    pub lists: Vec<PathBuf>,
    #[command(flatten)]
    pub load: LoadArgs,
    /// An allowlist (any list format): a match is suppressed, and counted in the report,
    /// when the listed hash or the file's own hash is exactly in it. For known false
    /// positives. Repeatable.
    #[arg(long = "allow", value_name = "FILE", help_heading = "Lists and matching")]
    pub allow: Vec<PathBuf>,
    /// Flood guard: a listed hash matching more than this many distinct contents (copies of
    /// one file count once)…
    #[arg(long, value_name = "N", default_value_t = 50, help_heading = "Lists and matching")]
    pub flood_min_files: usize,
    /// …and more than this percentage of the files screened (clean or flagged) is reported as
    /// suspicious (its matches are kept, marked).
    #[arg(
        long,
        value_name = "PERCENT",
        default_value_t = 5.0,
        help_heading = "Lists and matching"
    )]
    pub flood_percent: f64,
    #[command(flatten)]
    pub matching: MatchArgs,
    /// Where to write the report; `-` for standard output (the default).
    #[arg(short = 'o', long, value_name = "FILE", help_heading = "Output")]
    pub report: Option<PathBuf>,
    /// Also write the review page of the report to FILE: one static HTML file for a person,
    /// with no network and no file besides itself (as `mediascreen report html` makes it;
    /// docs/review-page.md), whatever the report's form.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub html: Option<PathBuf>,
    /// On the `--html` page, show each flagged still picture from where it lies, in grey and
    /// blurred until clicked (never copied into the page; not for videos, archive members or
    /// bucket objects).
    #[arg(long, requires = "html", conflicts_with = "redact_paths", help_heading = "Output")]
    pub previews: bool,
    /// The report's form: `json`, one document written when the scan ends (atomically, to a
    /// file); `jsonl`, one line per file streamed in walk order as each is decided, then a
    /// summary line (a killed scan leaves every line it wrote whole); `text`, for a person: a
    /// line per flagged file as clamscan prints them and one per further match, then the
    /// errors, the files too low in quality to match, a summary and what to do next; `csv`, a
    /// row per match and per other file. Default: `text` when standard output is a terminal and
    /// no `--report` is given; `json` otherwise (pipes, files, CI).
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<ReportFormat>,
    /// Do not print the summary on standard error.
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,
    /// Replace every file path in the report, and the paths given in `settings.paths`, by
    /// `hmac-sha256:HEX`, keyed with the contents of `--redact-key-file` or of the
    /// environment variable MEDIASCREEN_REDACT_KEY, for reports that are shared. The key's
    /// holder finds a file again with `printf %s PATH | openssl dgst -sha256 -hmac KEY`.
    /// An archive member's chain is redacted level by level; its chat context keeps only the
    /// app, message id and time (no chat or sender names).
    #[arg(long, help_heading = "Output")]
    pub redact_paths: bool,
    /// The key for `--redact-paths` (the file's bytes, without a final newline).
    #[arg(long, value_name = "FILE", requires = "redact_paths", help_heading = "Output")]
    pub redact_key_file: Option<PathBuf>,
}

/// The matcher, and where and how the report goes.
pub struct Screening {
    pub matcher: Matcher,
    /// `None` means standard output.
    pub report: Option<PathBuf>,
    pub format: ReportFormat,
    pub quiet: bool,
    /// The key paths are redacted with, if they are.
    pub redact: Option<PathKey>,
    /// Where the review page goes, if one is asked for.
    pub html: Option<PathBuf>,
    /// Whether the page shows previews.
    pub previews: bool,
}

impl ScreenArgs {
    /// The report file, if one is named (`-` is standard output).
    pub(super) fn report_file(&self) -> Option<PathBuf> {
        self.report.clone().filter(|p| !is_stdin(p))
    }

    /// Checks where the report and the review page go (see [`check_outputs`]); returns the
    /// canonical paths the walk leaves out.
    pub(super) fn check_outputs(
        &self,
        inputs: &[(&str, &Path)],
        roots: &[PathBuf],
    ) -> Result<Vec<PathBuf>> {
        check_outputs(self.report_file().as_deref(), self.html.as_deref(), inputs, roots)
    }

    /// The files read besides those screened, each with its flag.
    pub(super) fn inputs(&self) -> Vec<(&'static str, &Path)> {
        let lists = self.lists.iter().map(|p| ("--list", p.as_path()));
        let allow = self.allow.iter().map(|p| ("--allow", p.as_path()));
        let key = self.redact_key_file.as_deref();
        lists.chain(allow).chain(key.map(|p| ("--redact-key-file", p))).collect()
    }

    /// Loads the lists and checks the options; `stdin_elsewhere` counts the other flags that
    /// read standard input (only one may). Videos are matched as sampled every
    /// `vpdq_interval` seconds.
    pub(super) fn screening(
        &self,
        vpdq_interval: f64,
        stdin_elsewhere: usize,
    ) -> Result<Screening> {
        let load = self.load.options();
        let stdin_lists = self.lists.iter().chain(&self.allow).filter(|p| is_stdin(p)).count();
        if stdin_lists + stdin_elsewhere > 1 {
            bail!(
                "only one of --list, --allow, --files-from and --s3-event can read standard \
                 input (-)"
            );
        }
        let mut lists = Vec::new();
        for path in &self.lists {
            let list = load_list("--list", path, &load)?;
            warn_refused(&list);
            if list.entries.is_empty() {
                bail!(
                    "--list {}: the list has no entries; refusing to report a clean scan against \
                     it",
                    path.display()
                );
            }
            lists.push(list);
        }
        let mut allow = Vec::new();
        for path in &self.allow {
            let list = load_list("--allow", path, &LoadOptions { allowlist: true, ..load })?;
            warn_refused(&list);
            allow.push(list);
        }
        let options = MatchOptions {
            flood_min_files: self.flood_min_files,
            flood_share: self.flood_percent / 100.0,
            ..self.matching.options(vpdq_interval)
        };
        // Checked before the lists are warned about, as the matcher would check them after.
        options.check().map_err(refused)?;
        for list in &lists {
            warn_low_quality(list, options.pdq_min_quality);
        }
        warn_thresholds(&self.matching.thresholds, &lists);
        let matcher = Matcher::with_allowlist(lists, allow, options).map_err(refused)?;
        Ok(Screening {
            matcher,
            format: self.format.unwrap_or(default_format(self.report.is_some())),
            report: self.report_file(),
            quiet: self.quiet,
            redact: self
                .redact_paths
                .then(|| redaction_key(self.redact_key_file.as_deref()))
                .transpose()?,
            html: self.html.clone(),
            previews: self.previews,
        })
    }
}

/// The report's form when `--format` is not given: a person at a terminal who asked for no
/// report file reads it there, as text; everything else (a pipe, a file, a CI log) keeps
/// JSON, so that scripts never see the form change under them.
fn default_format(report_given: bool) -> ReportFormat {
    use std::io::IsTerminal;
    if !report_given && std::io::stdout().is_terminal() {
        ReportFormat::Text
    } else {
        ReportFormat::Json
    }
}

/// The `--redact-paths` key: the key file's bytes, or MEDIASCREEN_REDACT_KEY.
fn redaction_key(file: Option<&Path>) -> Result<PathKey> {
    let key = match file {
        Some(path) => {
            let mut key = std::fs::read(path)
                .with_context(|| format!("reading --redact-key-file {}", path.display()))?;
            if key.ends_with(b"\n") {
                key.pop();
            }
            key
        }
        None => match std::env::var_os("MEDIASCREEN_REDACT_KEY") {
            Some(key) => key.into_encoded_bytes(),
            None => bail!(
                "--redact-paths needs a key: --redact-key-file FILE or MEDIASCREEN_REDACT_KEY \
                 (keep it: it is what finds a file again)"
            ),
        },
    };
    PathKey::new(&key).context("the path redaction key is empty")
}
