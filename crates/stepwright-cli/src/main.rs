//! The `stepwright` command.

fn main() {
    eprintln!("stepwright: the CLI is being built; see README.md");
    std::process::exit(2);
}
