//! The Debian package as an admin gets it: built by deploy/build-deb.py from the debug binary
//! `cargo test` built, listed with `dpkg-deb -c`, unpacked with `dpkg -x` into a temporary
//! root, and its binary, manual pages, completions and systemd units used from there.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Builds the package from the binary this test run was built with; returns its path.
fn build_package() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_retentiond"));
    let target_dir = bin
        .parent()
        .and_then(Path::parent)
        .expect("the binary lies in TARGET/debug/");
    let out = run(Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/build-deb.py"))
        .arg("--debug")
        .env("CARGO_TARGET_DIR", target_dir));
    PathBuf::from(
        text(&out)
            .lines()
            .last()
            .expect("the script prints the .deb")
            .trim(),
    )
}

/// `dpkg-deb -c`: path → (mode string, owner).
fn contents(deb: &Path) -> Vec<(String, String, String)> {
    text(&run(Command::new("dpkg-deb").arg("-c").arg(deb)))
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[5].trim_start_matches('.').to_string(),
                f[0].to_string(),
                f[1].to_string(),
            )
        })
        .collect()
}

#[test]
fn the_debian_package_installs_a_working_daemon() {
    let deb = build_package();

    // What is in it, with which mode.
    let listed = contents(&deb);
    let mode_of = |path: &str| {
        listed
            .iter()
            .find(|(p, _, _)| p == path)
            .map(|(_, mode, owner)| format!("{mode} {owner}"))
            .unwrap_or_else(|| panic!("{path} is not in the package: {listed:#?}"))
    };
    assert_eq!(mode_of("/usr/bin/retentiond"), "-rwxr-xr-x root/root");
    // The config is the commented example, readable by root and (after postinst) the service's group.
    assert_eq!(
        mode_of("/etc/retentiond/retentiond.toml"),
        "-rw-r----- root/root"
    );
    for unit in [
        "retentiond.service",
        "retentiond-run.service",
        "retentiond-run.timer",
        "retentiond-dry-run.service",
        "retentiond-dry-run.timer",
    ] {
        assert_eq!(
            mode_of(&format!("/lib/systemd/system/{unit}")),
            "-rw-r--r-- root/root"
        );
    }
    for page in [
        "retentiond.1.gz",
        "retentiond-run.1.gz",
        "retentiond-daemon.1.gz",
        "retentiond-health.1.gz",
        "retentiond-hold-add.1.gz",
    ] {
        assert_eq!(
            mode_of(&format!("/usr/share/man/man1/{page}")),
            "-rw-r--r-- root/root"
        );
    }
    for completion in [
        "/usr/share/bash-completion/completions/retentiond",
        "/usr/share/zsh/vendor-completions/_retentiond",
        "/usr/share/fish/vendor_completions.d/retentiond.fish",
    ] {
        assert_eq!(mode_of(completion), "-rw-r--r-- root/root");
    }
    assert!(
        !listed
            .iter()
            .any(|(p, _, _)| p.contains("/man1/retentiond-man")),
        "the hidden man command gets no page"
    );

    // The control data: the config is a conffile, a system user is made, dependencies.
    let control = tempfile::tempdir().expect("tempdir");
    run(Command::new("dpkg-deb")
        .arg("-e")
        .arg(&deb)
        .arg(control.path()));
    let read = |name: &str| {
        std::fs::read_to_string(control.path().join(name))
            .unwrap_or_else(|e| panic!("DEBIAN/{name}: {e}"))
    };
    assert_eq!(read("conffiles").trim(), "/etc/retentiond/retentiond.toml");
    let postinst = read("postinst");
    assert!(postinst.contains("adduser --system --group"), "{postinst}");
    assert!(
        postinst.contains("chown root:retentiond /etc/retentiond/retentiond.toml"),
        "{postinst}"
    );
    for script in ["postinst", "prerm", "postrm"] {
        run(Command::new("sh")
            .arg("-n")
            .arg(control.path().join(script)));
    }
    let fields = read("control");
    assert!(fields.contains("Package: retentiond\n"), "{fields}");
    assert!(
        fields.contains("libc6") && fields.contains("adduser"),
        "{fields}"
    );

    // Unpacked into a temporary root, the binary runs from there.
    let root = tempfile::tempdir().expect("tempdir");
    run(Command::new("dpkg").arg("-x").arg(&deb).arg(root.path()));
    let bin = root.path().join("usr/bin/retentiond");
    let version = text(&run(Command::new(&bin).arg("--version")));
    assert_eq!(
        version.trim(),
        format!("retentiond {}", env!("CARGO_PKG_VERSION"))
    );
    let help = text(&run(Command::new(&bin).arg("--help")));
    assert!(
        help.contains("Usage: retentiond [OPTIONS] <COMMAND>"),
        "{help}"
    );
    for command in ["completions", "health", "daemon"] {
        assert!(help.contains(&format!("  {command} ")), "{help}");
    }
    assert!(!help.contains("  man "), "man is hidden: {help}");

    // The packaged completions are the binary's, and bash can read them.
    let bash = text(&run(Command::new(&bin).args(["completions", "bash"])));
    let packaged = root
        .path()
        .join("usr/share/bash-completion/completions/retentiond");
    assert_eq!(
        std::fs::read_to_string(&packaged).expect("bash completion"),
        bash
    );
    assert!(bash.contains("complete -F _retentiond"), "{bash}");
    run(Command::new("bash").arg("-n").arg(&packaged));

    // The manual pages render, with every command and the daemon's flags.
    if have("man") {
        let page = |name: &str| {
            let out = run(Command::new("man")
                .arg("-l")
                .arg(root.path().join(format!("usr/share/man/man1/{name}.1.gz")))
                .env("MANWIDTH", "100")
                .env("MAN_KEEP_FORMATTING", "0")
                .env("PAGER", "cat"));
            (
                text(&out),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        let (main, warnings) = page("retentiond");
        assert!(warnings.is_empty(), "man warns: {warnings}");
        assert!(
            main.contains("retentiond - Enforces data-retention rules"),
            "{main}"
        );
        for command in ["check", "plan", "run", "daemon", "erase", "hold", "health"] {
            assert!(
                main.contains(&format!("retentiond-{command}(1)")),
                "{command} missing in {main}"
            );
        }
        let (daemon, _) = page("retentiond-daemon");
        assert!(daemon.contains("--once"), "{daemon}");
    } else {
        println!("skipped the man page check: man is not installed (apt-get install man-db)");
    }

    // systemd accepts the units as installed: the unpacked root plus the host's targets and
    // slices the units refer to; ExecStart's bare name resolves to the root's /usr/bin.
    if have("systemd-analyze") {
        let host_units = root.path().join("etc/systemd/system");
        std::fs::create_dir_all(&host_units).expect("mkdir");
        for entry in std::fs::read_dir("/usr/lib/systemd/system").expect("host units") {
            let path = entry.expect("entry").path();
            if path
                .extension()
                .is_some_and(|e| e == "target" || e == "slice")
            {
                let name = path.file_name().expect("name");
                std::fs::copy(&path, host_units.join(name)).expect("copy unit");
            }
        }
        let units = root.path().join("lib/systemd/system");
        let out = Command::new("systemd-analyze")
            .arg("verify")
            .arg(format!("--root={}", root.path().display()))
            .args(
                [
                    "retentiond.service",
                    "retentiond-run.service",
                    "retentiond-run.timer",
                    "retentiond-dry-run.service",
                    "retentiond-dry-run.timer",
                ]
                .map(|u| units.join(u)),
            )
            .output()
            .expect("systemd-analyze");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "systemd-analyze verify: {}\n{stderr}",
            out.status
        );
        assert!(
            !stderr.contains("retentiond"),
            "systemd-analyze warns about the units:\n{stderr}"
        );
    } else {
        println!(
            "skipped systemd-analyze verify: systemd-analyze is not installed (apt-get install systemd)"
        );
    }
}
