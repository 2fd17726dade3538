//! Cleanses a local file: `cleanse-file CONFIG.json INPUT OUTPUT REJECTS` (prints the report).
//!
//! The engine exactly as the Lambda runs it, without AWS: used by `scripts/bench-data.sh`.
//! With `CLEANSE_TIMINGS` set in the environment it prints per-phase timings on stderr.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::thread::JoinHandle;

/// An output file created on another thread while the engine reads: creating a file truncates
/// an existing one, which for a large file takes the kernel tens of milliseconds (the one-pass
/// imputation writes nothing before the end of the input). The first write waits for it.
struct LaterFile {
    open: Option<Opening>,
    file: Option<File>,
}

/// The file being created: on its thread, or already (when no thread could be started).
enum Opening {
    Thread(JoinHandle<io::Result<File>>),
    Done(io::Result<File>),
}

impl LaterFile {
    fn create(path: &str) -> Self {
        let create = |path: &str| {
            File::create(path)
                .map_err(|e| io::Error::new(e.kind(), format!("cannot create {path}: {e}")))
        };
        let owned = path.to_string();
        let open = match std::thread::Builder::new().spawn(move || create(&owned)) {
            Ok(h) => Opening::Thread(h),
            Err(_) => Opening::Done(create(path)),
        };
        LaterFile {
            open: Some(open),
            file: None,
        }
    }

    fn get(&mut self) -> io::Result<&mut File> {
        if let Some(open) = self.open.take() {
            let f = match open {
                Opening::Thread(h) => h.join().map_err(|_| {
                    io::Error::other("the thread creating the output file failed")
                })??,
                Opening::Done(r) => r?,
            };
            self.file = Some(f);
        }
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("the output file could not be created"))
    }
}

impl Write for LaterFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.get()?.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.get()?.flush()
    }
}

fn main() -> ExitCode {
    cleanse::trace::begin();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [config, input, output, rejects] = args.as_slice() else {
        eprintln!("usage: cleanse-file CONFIG.json INPUT OUTPUT REJECTS");
        return ExitCode::from(2);
    };
    let run = || -> Result<cleanse::Report, Box<dyn std::error::Error>> {
        let cfg = cleanse::Config::from_json(&std::fs::read_to_string(config)?)?;
        let mut out = BufWriter::new(LaterFile::create(output));
        let mut rej = BufWriter::new(LaterFile::create(rejects));
        let report = cleanse::run_passes(&cfg, || File::open(input), &mut out, &mut rej)?;
        // (an empty output is still created; a failed creation is reported)
        out.get_mut().get()?;
        rej.get_mut().get()?;
        drop((out, rej));
        cleanse::trace::mark("cli: outputs closed");
        Ok(report)
    };
    match run() {
        Ok(report) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            cleanse::trace::mark("cli: report printed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cleanse-file: {e}");
            ExitCode::FAILURE
        }
    }
}
