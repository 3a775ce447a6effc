//! Parsing the flag values that are more than a number or a name: sizes with suffixes,
//! `ALG=N` thresholds, `K/N` and `auto/N` shards. Must not look at other flags.

use anyhow::{bail, Context, Result};

use mediascreen::hash::Algorithm;
use mediascreen::matcher::MatchOptions;
use mediascreen::walk::Shard;

/// A byte count, with an optional binary K, M, G or T suffix (`1G` = 2^30 bytes).
pub(super) fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, shift) = match text.char_indices().last() {
        Some((at, unit)) if unit.is_ascii_alphabetic() => {
            let shift = match unit.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("unknown size suffix in {text:?} (K, M, G or T)")),
            };
            (&text[..at], shift)
        }
        _ => (text, 0),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("expected a size such as 500M or 2G, found {text:?}"))
}

pub(super) fn parse_threshold(text: &str) -> Result<(Algorithm, u32), String> {
    let (name, value) =
        text.split_once('=').ok_or_else(|| format!("expected ALG=N, found {text:?}"))?;
    let algorithm: Algorithm = name.parse().map_err(|e| format!("{e}"))?;
    // A value that is no whole number is out of range, and refused in the same words.
    let threshold = value.trim().parse::<u32>().unwrap_or(u32::MAX);
    MatchOptions::check_threshold(algorithm, threshold).map_err(|e| e.to_string())?;
    Ok((algorithm, threshold))
}

/// The array-job index variables `--shard auto/N` reads, in the order they are tried.
pub(super) const SHARD_INDEX_VARIABLES: [&str; 3] =
    ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "SLURM_ARRAY_TASK_ID"];

/// `--shard K/N`, or `auto/N` with K from the first array-job variable set in `env`.
pub(super) fn parse_shard(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Shard> {
    let Some(count) = text.strip_prefix("auto/") else {
        return text.parse().map_err(|e| anyhow::anyhow!("--shard {e}"));
    };
    let Some((name, value)) =
        SHARD_INDEX_VARIABLES.iter().find_map(|&name| Some((name, env(name)?)))
    else {
        bail!(
            "--shard {text}: none of {} is set; give the shard number instead of auto",
            SHARD_INDEX_VARIABLES.join(", ")
        );
    };
    let number = |name: &str, value: &str| -> Result<u32> {
        value.trim().parse().with_context(|| format!("{name}={value:?} is not a shard number"))
    };
    let mut index = number(name, &value)?;
    // Slurm numbers array tasks as the job asked (`--array=1-7`): count from the first.
    if name == "SLURM_ARRAY_TASK_ID" {
        if let Some(min) = env("SLURM_ARRAY_TASK_MIN") {
            index =
                index.checked_sub(number("SLURM_ARRAY_TASK_MIN", &min)?).with_context(|| {
                    format!("SLURM_ARRAY_TASK_ID={value} is below SLURM_ARRAY_TASK_MIN={min}")
                })?;
        }
    }
    format!("{index}/{count}")
        .parse()
        .map_err(|e| anyhow::anyhow!("--shard {text} with {name}={value}: {e}"))
}
