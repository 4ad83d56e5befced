//! `sinus fetch DB [--dir D] [--records R,...]`: download a PhysioNet database, verified.

use crate::progress::Progress;
use crate::CliResult;
use clap::Args;
use sinus_io::physionet::{fetch_database, FetchEvent, FetchOptions, DEFAULT_BASE_URL};
use std::path::PathBuf;

/// Arguments of `sinus fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Database: a known name (`mitdb`) or `NAME/VERSION` as on PhysioNet.
    pub db: String,
    /// Directory to download into (created if missing). Default: `./DB`.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Only these records (comma-separated), plus the database's shared files.
    #[arg(long, value_delimiter = ',')]
    pub records: Option<Vec<String>>,
    /// Server base URL (a mirror, or a local server for tests).
    #[arg(long, default_value = DEFAULT_BASE_URL)]
    pub base_url: String,
}

/// Run `sinus fetch`.
pub fn run(args: FetchArgs, progress: &Progress) -> CliResult {
    let dir = args.dir.unwrap_or_else(|| {
        PathBuf::from(args.db.split('/').next().unwrap_or(&args.db).to_string())
    });
    let overall = progress.bar(0, "files");
    let file_bar = progress.bytes(0);
    let on_event = |ev: &FetchEvent<'_>| match ev {
        FetchEvent::Index { path } => overall.set_message(format!("index {path}")),
        FetchEvent::Planned { files, .. } => overall.set_length(*files as u64),
        FetchEvent::FileStarted { path, .. } => file_bar.set_prefix(path.to_string()),
        FetchEvent::Transfer { offset, total, .. } => {
            file_bar.set_length(total.unwrap_or(0));
            file_bar.set_position(*offset);
        }
        FetchEvent::Progress { done, .. } => file_bar.set_position(*done),
        FetchEvent::FileFinished { .. } => overall.inc(1),
    };
    let mut opts = FetchOptions::new(args.db.clone(), dir);
    opts.base_url = args.base_url;
    opts.records = args.records;
    opts.progress = Some(&on_event);
    let report = fetch_database(&opts)?;
    overall.finish_and_clear();
    file_bar.finish_and_clear();
    println!(
        "{} {}: {} records in {}: {} downloaded, {} resumed, {} already present and verified, {} bytes transferred",
        report.db,
        report.version,
        report.records,
        report.dir.display(),
        report.downloaded.len(),
        report.resumed.len(),
        report.verified_existing.len(),
        report.bytes
    );
    if !report.unverified.is_empty() {
        println!(
            "note: not listed in SHA256SUMS.txt, so not verified: {}",
            report.unverified.join(", ")
        );
    }
    Ok(())
}
