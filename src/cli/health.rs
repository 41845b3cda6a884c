//! `retentiond health`: asks a running daemon's `/healthz` whether it is ready and its last
//! run went well, for a container's HEALTHCHECK or a monitoring check.

use crate::exit;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

pub const LONG_ABOUT: &str = "Sends GET /healthz to the daemon at [http] listen in the config (an \
unspecified address such as 0.0.0.0 is asked on the loopback address) or at --url, and prints \
its answer. Exits 0 when the daemon is ready and its last run did not fail, and 1 otherwise: \
not ready, a failed last run, nothing listening, or no address to ask.";

pub const EXAMPLES: &str = "Examples:\n  retentiond health\n  \
retentiond health --url http://127.0.0.1:9187\n  \
HEALTHCHECK CMD [\"retentiond\", \"health\"]    # in a Dockerfile";

/// How long the daemon may take to connect and answer.
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Ask this address instead of the config's [http] listen, e.g. http://127.0.0.1:9187.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
}

/// The daemon's answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Every way of not getting a healthy answer is exit 1 (a HEALTHCHECK treats 2 as reserved),
/// so errors are printed here rather than passed up.
pub fn run(args: Args, config_path: &Path) -> anyhow::Result<u8> {
    let answer = target(args.url.as_deref(), config_path).and_then(|(addr, path)| ask(addr, &path));
    match &answer {
        Ok(a) => crate::out!("{}", a.body.trim_end()),
        Err(e) => eprintln!("error: {e}"),
    }
    Ok(exit::of_health(answer.as_ref().ok().map(|a| a.status)))
}

/// The address and path to ask.
fn target(url: Option<&str>, config_path: &Path) -> anyhow::Result<(SocketAddr, String)> {
    if let Some(url) = url {
        return parse_url(url);
    }
    let config = super::load(config_path)?;
    let Some(listen) = config.http_listen else {
        anyhow::bail!(
            "{} has no [http] listen, so the daemon serves no /healthz; set it (e.g. listen = \"127.0.0.1:9187\") or give --url",
            config_path.display()
        );
    };
    Ok((loopback_if_unspecified(listen), "/healthz".into()))
}

/// A daemon listening on every address is asked on the loopback one.
fn loopback_if_unspecified(mut addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    addr
}

/// `http://host:port[/path]`; the path defaults to /healthz.
fn parse_url(url: &str) -> anyhow::Result<(SocketAddr, String)> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        anyhow::anyhow!("--url {url}: give an http:// address, e.g. http://127.0.0.1:9187")
    })?;
    let (authority, path) = match rest.find('/') {
        Some(i) if rest.len() > i + 1 => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], "/healthz".to_string()),
        None => (rest, "/healthz".to_string()),
    };
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| anyhow::anyhow!("--url {url}: {e} (give host:port)"))?
        .next()
        .ok_or_else(|| anyhow::anyhow!("--url {url}: the host has no address"))?;
    Ok((loopback_if_unspecified(addr), path))
}

fn ask(addr: SocketAddr, path: &str) -> anyhow::Result<Answer> {
    let fail = |e: std::io::Error| anyhow::anyhow!("no answer from http://{addr}{path}: {e}");
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(fail)?;
    stream.set_read_timeout(Some(TIMEOUT)).map_err(fail)?;
    stream.set_write_timeout(Some(TIMEOUT)).map_err(fail)?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(fail)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(fail)?;
    let response = String::from_utf8_lossy(&response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| anyhow::anyhow!("http://{addr}{path} did not answer in HTTP"))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok(Answer { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_default_to_healthz_and_unspecified_addresses_to_loopback() {
        let (addr, path) = parse_url("http://127.0.0.1:9187").expect("url");
        assert_eq!(
            (addr.to_string(), path.as_str()),
            ("127.0.0.1:9187".into(), "/healthz")
        );
        let (addr, path) = parse_url("http://0.0.0.0:9187/").expect("url");
        assert_eq!(
            (addr.to_string(), path.as_str()),
            ("127.0.0.1:9187".into(), "/healthz")
        );
        let (addr, path) = parse_url("http://[::]:80/ready").expect("url");
        assert_eq!(
            (addr.to_string(), path.as_str()),
            ("[::1]:80".into(), "/ready")
        );
        assert!(parse_url("https://127.0.0.1:9187").is_err());
        assert!(parse_url("http://127.0.0.1").is_err());
    }
}
