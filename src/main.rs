fn main() -> std::process::ExitCode {
    retentiond::cli::main()
}
