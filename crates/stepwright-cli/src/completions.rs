//! `stepwright completions SHELL`: prints a completion script for bash, zsh, fish, PowerShell or
//! elvish, generated from the same clap definition the binary parses with (so it always lists
//! the current subcommands and options).

use clap::CommandFactory;
use clap_complete::Shell;

/// Arguments of `stepwright completions`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    stepwright completions bash > ~/.local/share/bash-completion/completions/stepwright\n  \
    stepwright completions zsh > \"${fpath[1]}/_stepwright\"\n  \
    stepwright completions fish > ~/.config/fish/completions/stepwright.fish\n  \
    stepwright completions powershell >> $PROFILE")]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum, ignore_case = true)]
    pub shell: Shell,
}

/// Writes the script to standard output; returns the exit code.
pub fn run(args: &Args) -> u8 {
    let mut cmd = crate::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "stepwright", &mut out);
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(&out).and_then(|()| stdout.flush()) {
        Ok(()) => crate::exit::OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => crate::exit::OK,
        Err(e) => {
            eprintln!("stepwright completions: cannot write standard output: {e}");
            crate::exit::USAGE
        }
    }
}
