//! The `tikker` binary: everything is in the library (`tikker::cli`).

fn main() -> std::process::ExitCode {
    tikker::cli::main()
}
