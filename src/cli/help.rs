//! The help the binary gives about itself: `--version` with the decoders found, the manual
//! pages, and the value parsers that let `--help` and shell completions name every value of
//! `--algorithms` and `--list-format`. Must not validate flags against each other: that is
//! [`super::ScanConfig`]'s.

use anyhow::{Context, Result};

use mediascreen::decode::Decoders;
use mediascreen::hash::Algorithm;
use mediascreen::hashlist::ListFormat;

use super::Args;

/// The ENVIRONMENT and EXAMPLES sections of the manual pages (roff).
const MAN_SECTIONS: &str = r#".SH ENVIRONMENT
.TP
\fBMEDIASCREEN_FFMPEG\fR
The ffmpeg program to decode videos with (ffprobe is looked for beside it); by default
ffmpeg and ffprobe are looked for on PATH. Without them, videos other than H.264 in MP4 are
errors, never clean.
.TP
\fBMEDIASCREEN_REDACT_KEY\fR
The key of \fB--redact-paths\fR when \fB--redact-key-file\fR is not given.
.TP
\fBJOB_COMPLETION_INDEX\fR, \fBAWS_BATCH_JOB_ARRAY_INDEX\fR, \fBSLURM_ARRAY_TASK_ID\fR
The shard number of \fB--shard auto/N\fR, tried in this order (\fBSLURM_ARRAY_TASK_MIN\fR is
subtracted from Slurm's).
.SH EXAMPLES
.TP
Scan a chat export against a list, report for a person and as JSON:
\fBmediascreen scan ~/export --list known-bad.csv --format text\fR
.br
\fBmediascreen scan ~/export --list known-bad.csv --report report.json\fR
.TP
Check a list before trusting a clean scan against it:
\fBmediascreen list check known-bad.csv\fR
.TP
Build a list from confirmed files, ids that do not reveal their names:
\fBmediascreen hash confirmed/ --id-from sha256 > confirmed.csv\fR
.TP
A gate in CI (exit status 0 only when every file was screened and nothing matched):
\fBmediascreen scan upload/ --list list.csv --report report.json || exit 1\fR
.SH SEE ALSO
docs/report-format.md and docs/hashlist-format.md in mediascreen's sources.
"#;

/// The command line as clap sees it, with `--version` naming the decoders found on this
/// machine (as `rg --version` names its features); found only when asked, as finding ffmpeg
/// runs it.
pub fn command() -> clap::Command {
    let command = <Args as clap::CommandFactory>::command();
    let asks_version = std::env::args_os().skip(1).any(|a| a == "--version" || a == "-V");
    if !asks_version {
        return command;
    }
    let decoders = Decoders::detect();
    let video = mediascreen::decode::video::Ffmpeg::detect()
        .map(|ffmpeg| ffmpeg.version().to_string())
        .unwrap_or_else(|| "none found (H.264 in MP4 only, built-in; install ffmpeg)".into());
    command.long_version(format!(
        "{}\ndecoders: jpeg {}; webp {}; heif {}; video {}",
        env!("CARGO_PKG_VERSION"),
        decoders.jpeg(),
        decoders.webp(),
        decoders.heif().unwrap_or_else(|| "none found (install libheif1)".into()),
        video
    ))
}

/// Writes the manual page of `command` (named `name`), with the sections every page shares.
fn write_man(command: clap::Command, name: &str, out: &mut dyn std::io::Write) -> Result<()> {
    let man = clap_mangen::Man::new(command.display_name(name.to_string()).name(name.to_string()));
    man.render(out)?;
    out.write_all(MAN_SECTIONS.as_bytes())?;
    Ok(())
}

/// `mediascreen man`: the main page on standard output, or every page into `dir`.
pub fn run_man(dir: Option<&std::path::Path>) -> Result<()> {
    let mut command = command().disable_help_subcommand(true);
    command.build();
    let Some(dir) = dir else {
        return write_man(command, "mediascreen", &mut std::io::stdout().lock());
    };
    let mut pages = vec![("mediascreen".to_string(), command.clone())];
    for sub in command.get_subcommands() {
        let nested: Vec<_> = sub.get_subcommands().cloned().collect();
        pages.push((format!("mediascreen-{}", sub.get_name()), sub.clone()));
        for inner in nested {
            pages.push((format!("mediascreen-{}-{}", sub.get_name(), inner.get_name()), inner));
        }
    }
    for (name, page) in pages {
        let path = dir.join(format!("{name}.1"));
        let mut file = std::fs::File::create(&path)
            .with_context(|| format!("--dir: writing {}", path.display()))?;
        write_man(page, &name, &mut file)?;
    }
    Ok(())
}

/// `--algorithms` values: any spelling [`Algorithm`] accepts, the canonical names offered by
/// `--help` and shell completions.
#[derive(Clone, Copy)]
pub(super) struct AlgorithmParser;

impl clap::builder::TypedValueParser for AlgorithmParser {
    type Value = Algorithm;

    fn parse_ref(
        &self,
        _command: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<Algorithm, clap::Error> {
        let text = value.to_string_lossy();
        text.parse()
            .map_err(|e| clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("{e}\n")))
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let names = Algorithm::ALL.into_iter().map(|a| clap::builder::PossibleValue::new(a.name()));
        Some(Box::new(names))
    }
}

/// `--list-format`'s values, from the one table of formats, so `--help` names every one.
pub(super) fn list_format_parser() -> impl clap::builder::TypedValueParser<Value = ListFormat> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(ListFormat::ALL.map(ListFormat::name))
        .map(|name| name.parse::<ListFormat>().expect("every possible value is a format"))
}
