//! `pipelines --out statemachines [--docs docs/pipelines.md] [--check]`: writes (or, with
//! `--check`, compares) the generated definitions, IAM policies and documentation blocks.
//! Exit codes: 0 written / up to date, 1 stale (`--check`), 2 usage or I/O error.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: pipelines --out DIR [--docs FILE] [--check]\n\n\
  --out DIR    where <name>.asl.json and <name>.policy.json go (statemachines)\n\
  --docs FILE  a Markdown file whose generated blocks to refresh (docs/pipelines.md)\n\
  --check      write nothing; exit 1 if a file differs from what would be written";

struct Args {
    out: PathBuf,
    docs: Option<PathBuf>,
    check: bool,
}

fn parse() -> Result<Args, String> {
    let mut out = None;
    let mut docs = None;
    let mut check = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => out = Some(it.next().ok_or("--out needs a directory")?.into()),
            "--docs" => docs = Some(it.next().ok_or("--docs needs a file")?.into()),
            "--check" => check = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Args {
        out: out.ok_or("--out is required")?,
        docs,
        check,
    })
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("pipelines: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(stale) => {
            eprintln!("pipelines: {stale} file(s) are stale: run `make statemachines`");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("pipelines: {e}");
            ExitCode::from(2)
        }
    }
}

/// Writes or checks everything; returns how many files differ (with `--check`).
fn run(args: &Args) -> Result<usize, String> {
    let mut wanted: Vec<(PathBuf, String)> = pipelines::generate::files()
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|f| (args.out.join(f.name), f.contents))
        .collect();
    if let Some(doc) = &args.docs {
        let text = std::fs::read_to_string(doc)
            .map_err(|e| format!("cannot read {}: {e}", doc.display()))?;
        let blocks = pipelines::generate::doc_blocks().map_err(|e| e.to_string())?;
        let new = pipelines::generate::update_blocks(&text, &blocks)
            .map_err(|e| format!("{}: {e}", doc.display()))?;
        wanted.push((doc.clone(), new));
    }
    if !args.check {
        std::fs::create_dir_all(&args.out)
            .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    }
    let mut stale = 0;
    for (path, contents) in wanted {
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(contents.as_str()) {
            continue;
        }
        if args.check {
            eprintln!("stale: {}", path.display());
            stale += 1;
        } else {
            std::fs::write(&path, contents)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!("wrote {}", path.display());
        }
    }
    Ok(stale)
}
