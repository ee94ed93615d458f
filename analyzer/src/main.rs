//! `analyze`: the thin binary over the `ptrec_analyzer` library.

fn main() {
    let cli = <ptrec_analyzer::cli::Cli as clap::Parser>::parse();
    match ptrec_analyzer::run(cli) {
        Ok(()) => {}
        Err(e) if ptrec_analyzer::is_broken_pipe(&e) => {}
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}
