fn main() {
    eprintln!("error: not implemented yet");
    std::process::exit(2);
}
