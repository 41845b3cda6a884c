//! `retentiond daemon`: the service, on the configured schedule.

use crate::config::Config;
use crate::exit;

pub const LONG_ABOUT: &str = "Runs as a service: waits for [schedule] cron (in its time zone), runs every \
policy, and e-mails a summary to the [report] addresses (queued in the outbox and retried when \
mail is down). Runs never overlap. A run missed while the daemon was down is made up once at \
start. SIGTERM or SIGINT finishes the current batch, records the run as interrupted and exits 0. \
Under systemd (Type=notify) it reports READY, STATUS and watchdog pings; with [http] listen it \
serves /healthz and /metrics.";

pub const EXAMPLES: &str = "Examples:\n  retentiond daemon\n  retentiond daemon --once    # from a systemd timer or a Kubernetes CronJob";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run once now and exit (exit code as for `run`).
    #[arg(long)]
    once: bool,
}

pub async fn run(args: Args, config: Config) -> anyhow::Result<u8> {
    let end = crate::daemon::run(config, args.once).await?;
    Ok(exit::of_daemon(&end))
}
