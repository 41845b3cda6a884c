//! `retentiond completions SHELL` and the hidden `retentiond man DIR`: shell completions and
//! manual pages, generated from the same clap definition that parses the command line.

use crate::exit;
use clap::CommandFactory;
use std::io::Write as _;
use std::path::PathBuf;

pub const EXAMPLES: &str = "Examples:\n  \
retentiond completions bash > /etc/bash_completion.d/retentiond\n  \
retentiond completions zsh > \"${fpath[1]}/_retentiond\"\n  \
retentiond completions fish > ~/.config/fish/completions/retentiond.fish";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// The directory to write retentiond.1 and one page per command (retentiond-run.1, ...) to.
    dir: PathBuf,
}

pub fn completions(args: Args) -> anyhow::Result<u8> {
    let mut cmd = super::Cli::command();
    // Into a buffer first: clap_complete panics when its writer fails (`| head`).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "retentiond", &mut script);
    let _ = std::io::stdout().write_all(&script);
    Ok(exit::OK)
}

pub fn man(args: ManArgs) -> anyhow::Result<u8> {
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| anyhow::anyhow!("creating {}: {e}", args.dir.display()))?;
    clap_mangen::generate_to(super::Cli::command(), &args.dir)
        .map_err(|e| anyhow::anyhow!("writing the manual pages to {}: {e}", args.dir.display()))?;
    Ok(exit::OK)
}
