//! Analysing a directory of recordings in parallel, and writing an analysis's files.

use crate::model::Analysis;
use crate::pipeline::{AnalyzeOptions, Details};
use crate::{html, output};
use rayon::prelude::*;
use sinus_io::open::{OpenOptions, Opened};
use sinus_io::wfdb::annotation::{write_annotations, EncodeOptions};
use sinus_io::{Error, Result};
use sinus_ml::infer::Classifier;
use std::path::{Path, PathBuf};

/// Annotator name of the WFDB annotation file `sinus analyze` writes (`REC.sinus`).
pub const ANNOTATOR: &str = "sinus";

/// The recordings in a directory: WFDB records (by their `.hea`), `.edf` and `.csv` files,
/// sorted by name. A WFDB `RECORDS` file is not needed.
pub fn recordings_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("hea") => out.push(path.with_extension("")),
            Some("edf") | Some("csv") => out.push(path),
            _ => {}
        }
    }
    out.sort();
    Ok(out)
}

/// Write the files of one analysis into `dir`: `NAME.json`, `NAME.beats.csv`,
/// `NAME.episodes.csv`, `NAME.sinus` (WFDB annotations) and `NAME.html`. Returns the paths.
pub fn write_outputs(
    dir: &Path,
    analysis: &Analysis,
    details: &Details,
    opened: Option<&Opened>,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = if analysis.record.name.is_empty() {
        "record".to_string()
    } else {
        analysis.record.name.clone()
    };
    let mut written = Vec::new();
    let mut put = |file: String, text: String| -> Result<()> {
        let p = dir.join(file);
        std::fs::write(&p, text).map_err(|e| Error::io(&p, e))?;
        written.push(p);
        Ok(())
    };
    put(format!("{name}.json"), output::to_json(analysis))?;
    put(format!("{name}.beats.csv"), output::beats_csv(analysis))?;
    put(
        format!("{name}.episodes.csv"),
        output::episodes_csv(analysis),
    )?;
    let reference = opened
        .and_then(|o| o.annotations.as_ref())
        .map(|a| a.set.annotations.as_slice());
    put(
        format!("{name}.html"),
        html::report(analysis, details, reference),
    )?;
    let ann = dir.join(format!("{name}.{ANNOTATOR}"));
    write_annotations(
        &ann,
        &output::annotations(analysis),
        &EncodeOptions::default(),
    )
    .map_err(|e| e.in_file(&ann))?;
    written.push(ann);
    Ok(written)
}

/// The outcome of one recording of a batch.
pub struct BatchItem {
    /// The recording's path.
    pub path: PathBuf,
    /// Its analysis, or why there is none.
    pub result: Result<Analysis>,
}

/// Analyse every recording in `paths` in parallel (rayon), writing each one's files into
/// `out` when given; `tick` is called after each recording (for a progress bar). One bad
/// recording does not stop the others: its error is kept in its [`BatchItem`].
pub fn analyze_all(
    paths: &[PathBuf],
    classifier: &Classifier,
    options: &AnalyzeOptions,
    out: Option<&Path>,
    tick: &(dyn Fn(&Path) + Sync),
) -> Vec<BatchItem> {
    paths
        .par_iter()
        .map(|p| {
            let result = (|| {
                // Long recordings in chunks, in bounded memory (several run at once here).
                let (opened, a, d) = crate::long::analyze_path(
                    p,
                    &OpenOptions::default(),
                    classifier,
                    options,
                    crate::long::ChunkPolicy::Auto,
                )?;
                if let Some(dir) = out {
                    write_outputs(dir, &a, &d, Some(&opened))?;
                }
                Ok(a)
            })();
            tick(p);
            BatchItem {
                path: p.clone(),
                result,
            }
        })
        .collect()
}
