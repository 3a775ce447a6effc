//! The flags of `rescreen` and `store stats|prune|merge`, and `rescreen`'s [`RescreenConfig`].
//!
//! Owns their validation. Must not open the store (the binary does, once the flags hold).

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args as ClapArgs, Subcommand};

use mediascreen::scan::HashOptions;

use super::{ScreenArgs, Screening};

#[derive(Debug, ClapArgs)]
pub struct RescreenArgs {
    /// The hash store to re-screen, as `scan --store` made it. Only read.
    #[arg(long, value_name = "FILE", required = true, help_heading = "What to screen")]
    pub store: PathBuf,
    #[command(flatten)]
    pub screen: ScreenArgs,
}

/// Everything `rescreen` needs.
pub struct RescreenConfig {
    pub store: PathBuf,
    pub screening: Screening,
}

impl RescreenConfig {
    pub fn from_args(args: RescreenArgs) -> Result<RescreenConfig> {
        let screen = &args.screen;
        let mut inputs = screen.inputs();
        inputs.push(("--store", &args.store));
        screen.check_outputs(&inputs, &[])?;
        // Videos are matched as their stored frames were sampled; the interval is not used.
        let screening = screen.screening(HashOptions::default().seconds_per_hash, 0)?;
        Ok(RescreenConfig { store: args.store, screening })
    }
}

#[derive(Debug, ClapArgs)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub command: StoreCommand,
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Count what a store holds: files, contents, results, hashes by algorithm, scans,
    /// decoder setups.
    Stats {
        /// The store.
        #[arg(value_name = "STORE")]
        store: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Forget the files whose paths no longer exist, then the contents no file holds. Only
    /// on request: a drive not mounted is not deleted content (use --under to prune one
    /// tree, --dry-run to see first). A path that cannot be checked is kept.
    Prune {
        /// The store.
        #[arg(value_name = "STORE")]
        store: PathBuf,
        /// Only files under this absolute path.
        #[arg(long, value_name = "PATH")]
        under: Option<PathBuf>,
        /// Say what would be forgotten, and forget nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Merge stores (those of shards that ran on other machines) into STORE, created if
    /// missing: each file as the store that saw it last recorded it. SOURCES are only read.
    Merge {
        /// The store to merge into.
        #[arg(value_name = "STORE")]
        store: PathBuf,
        /// The stores to merge from.
        #[arg(value_name = "SOURCE", required = true)]
        sources: Vec<PathBuf>,
    },
}
