#!/usr/bin/env bash
# Runs the whole test suite against real servers: makes sure PostgreSQL and MariaDB are
# running on this machine (starting them if they are installed but stopped), then runs
# `cargo test`. Point the tests elsewhere with RETENTIOND_TEST_PG_URL / RETENTIOND_TEST_MYSQL_URL.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_url=${RETENTIOND_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
mysql_url=${RETENTIOND_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
mariadb_up() {
    if command -v mariadb-admin >/dev/null; then mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -uroot ping >/dev/null 2>&1
    else mysqladmin --protocol=tcp -h 127.0.0.1 -P 3306 -uroot ping >/dev/null 2>&1; fi
}

wait_for() {
    local name=$1 check=$2
    for _ in $(seq 1 60); do
        if $check; then return 0; fi
        sleep 1
    done
    echo "error: $name did not come up on 127.0.0.1 within 60 s" >&2
    return 1
}

# Only the local default servers are managed here; custom URLs are the caller's business.
if [[ -z ${RETENTIOND_TEST_PG_URL:-} ]] && ! pg_up; then
    if [[ -d /etc/postgresql ]]; then
        echo "Starting PostgreSQL ..."
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
        wait_for PostgreSQL pg_up
    else
        echo "error: PostgreSQL is not running on 127.0.0.1:5432 and not installed (apt-get install postgresql)" >&2
        exit 1
    fi
fi
if [[ -z ${RETENTIOND_TEST_MYSQL_URL:-} ]] && ! mariadb_up; then
    if [[ -x /usr/sbin/mariadbd ]]; then
        echo "Starting MariaDB ..."
        start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
        wait_for MariaDB mariadb_up
    else
        echo "error: MariaDB is not running on 127.0.0.1:3306 and not installed (apt-get install mariadb-server)" >&2
        exit 1
    fi
fi

# The summary e-mail tests talk to a real SMTP server (tests/support/smtp_sink.py).
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
    echo "Installing aiosmtpd for the SMTP test server ..."
    # A Debian system Python refuses pip without --break-system-packages (PEP 668); its own
    # package is the last resort, for when pip itself is missing.
    python3 -m pip install --quiet aiosmtpd 2>/dev/null ||
        python3 -m pip install --quiet --break-system-packages aiosmtpd ||
        { apt-get install -y -qq python3-aiosmtpd >/dev/null && python3 -c 'import aiosmtpd'; } || {
        echo "error: cannot install aiosmtpd (pip install aiosmtpd) for the SMTP test server" >&2
        exit 1
    }
fi

# tests/package.rs builds the Debian package (deploy/build-deb.py: Python 3.11's tomllib,
# dpkg-deb, strip) and checks it with man and systemd-analyze; tests/tls_mail.rs makes its CA
# with the openssl CLI; tests/terminal.rs runs the binary under a pseudo-terminal with `script`.
need=()
command -v openssl >/dev/null || need+=(openssl)
command -v script >/dev/null || need+=(util-linux)
command -v dpkg-deb >/dev/null || need+=(dpkg)
command -v strip >/dev/null || need+=(binutils)
command -v man >/dev/null || need+=(man-db)
command -v systemd-analyze >/dev/null || need+=(systemd)
python3 -c 'import tomllib' 2>/dev/null || need+=(python3)
if [[ ${#need[@]} -gt 0 ]]; then
    echo "Installing ${need[*]} for the package, TLS mail and terminal tests ..."
    apt-get install -y -qq "${need[@]}" >/dev/null ||
        { apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; } || {
        echo "error: cannot install ${need[*]} (apt-get install ${need[*]})" >&2
        exit 1
    }
fi

export RETENTIOND_TEST_PG_URL=$pg_url RETENTIOND_TEST_MYSQL_URL=$mysql_url
cargo test --locked "$@"

# The whole suite (no arguments) ends with a bounded fuzzing run of the config loader.
if [[ $# -eq 0 ]]; then
    fuzz/run.sh "${RETENTIOND_FUZZ_SECONDS:-60}"
fi
