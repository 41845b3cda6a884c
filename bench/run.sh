#!/usr/bin/env bash
# retentiond benchmark: the same purge done by the database itself (one DELETE, a server-side
# batch loop, the best hand-written loop), by pt-archiver (MariaDB) and by retentiond, on
# identical fresh data, under a concurrent OLTP load; with --curve also the trade-off between
# purge speed and the load's p99 at several pacing settings. See bench/README.md.
#
#   bench/run.sh [--scale 0.1] [--reps 3] [--db postgres|mariadb|both] [--curve]
#
# Writes bench/results/latest.md (and with --curve bench/results/curve-*.svg) and prints the
# same table.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: bench/run.sh [--scale S] [--reps N] [--db postgres|mariadb|both] [options]

  --scale S        dataset size; 1 = 100 000 customers / 3 000 000 messages (default 0.1)
  --reps N         repetitions of every variant; the table shows medians (default 3)
  --db D           postgres, mariadb or both (default both)
  --oltp-rate R    OLTP transactions per second during each purge (default 200)
  --idle-seconds S length of the no-purge OLTP reference (default 10)
  --mariadb-buffer-pool SIZE
                   set MariaDB's innodb_buffer_pool_size (e.g. 4G) for the run and put the old
                   value back at the end; by default the server's settings are left alone
  --only LIST      run only these variants, comma-separated, of: idle (load alone), a (one
                   DELETE), b (server-side loop), e (the best loop: expired customers found
                   once), c (pt-archiver), default, fast (retentiond), nothing (a run that
                   finds nothing), anon (anonymization, with the defaults and with
                   write_budget = "off"), anon-unpaced (only the latter), archive
                   (action = "archive": PostgreSQL to a SQLite file, MariaDB to a second
                   MariaDB database, against pt-archiver --dest --bulk-insert --bulk-delete
                   on MariaDB); default: all but archive
  --default-seconds S
                   the defaults run (write_budget = "auto") purges for at most S seconds
                   (default 120; 0 = until done): paced by the budget, it takes about half
                   an hour at scale 1, and its rows/s and the load's p99 are those of the
                   window
  --curve          also measure the trade-off curve (off by default: it adds about 20 points
                   of up to --curve-seconds each): under the OLTP load, retentiond at several
                   [run] write_budget settings, the best loop (e) with a sleep after each
                   batch, pt-archiver with --sleep-coef / --sleep (MariaDB); rows/s against
                   the load's p99, once per database after the repetitions; writes
                   bench/results/curve-postgres.svg and curve-mariadb.svg and a table in
                   latest.md. retentiond's points are skipped, saying why, when its
                   `check` refuses write_budget.
  --curve-seconds S
                   each curve point purges for at most S seconds from a fresh copy (default
                   120); a longer window also catches the checkpoints a slow setting forces
                   later (PostgreSQL: beyond checkpoint_timeout, e.g. 330)
  --curve-budgets LIST
                   retentiond's write_budget values, comma-separated
                   (default "auto,2 MB/s,8 MB/s,32 MB/s,off")
  --curve-sleeps LIST
                   the best loop's sleeps after each batch in ms (default "0,10,50,150")
  --keep           keep the rd_bench databases and bench/work/ afterwards (for inspection)
  -h, --help       this text

Servers (environment): BENCH_PG_HOST/PORT/USER (127.0.0.1, 5432, postgres),
BENCH_MY_HOST/PORT/USER (127.0.0.1, 3306, root); passwords through PGPASSWORD / MYSQL_PWD.
BENCH_DB: the name of the scratch database created and dropped on each server (rd_bench).

Examples:
  bench/run.sh --reps 1                  # quick: scale 0.1, one repetition, a few minutes
  bench/run.sh --scale 1 --reps 3        # the published scale: 3M messages per database
  bench/run.sh --scale 1 --reps 3 --curve   # the published table and trade-off curve
EOF
}

SCALE=0.1
REPS=3
DBS=both
OLTP_RATE=200
OLTP_CLIENTS=4
IDLE_SECONDS=10
WARMUP_SECONDS=2
MY_POOL=""
KEEP=0
ONLY="idle,a,b,e,c,default,nothing,fast,anon"
DEFAULT_SECONDS=120
CURVE=0
CURVE_SECONDS=120
CURVE_BUDGETS="auto,2 MB/s,8 MB/s,32 MB/s,off"
CURVE_SLEEPS="0,10,50,150"
# pt-archiver's own pacing: --sleep N sleeps N whole seconds after each batch's COMMIT;
# --sleep-coef F makes that F times the last SELECT's time, but only when --sleep is given too
# (pt-archiver 3.2.1 ignores it alone).
PT_CURVE=("none" "--sleep 1 --sleep-coef 1" "--sleep 1 --sleep-coef 4" "--sleep 1")
ORIG_ARGS="$*"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --scale) SCALE="${2:?--scale needs a value}"; shift 2 ;;
        --reps) REPS="${2:?--reps needs a value}"; shift 2 ;;
        --db) DBS="${2:?--db needs a value}"; shift 2 ;;
        --oltp-rate) OLTP_RATE="${2:?}"; shift 2 ;;
        --idle-seconds) IDLE_SECONDS="${2:?}"; shift 2 ;;
        --mariadb-buffer-pool) MY_POOL="${2:?}"; shift 2 ;;
        --only) ONLY="${2:?--only needs a list}"; shift 2 ;;
        --default-seconds) DEFAULT_SECONDS="${2:?--default-seconds needs a value}"; shift 2 ;;
        --curve) CURVE=1; shift ;;
        --curve-seconds) CURVE_SECONDS="${2:?--curve-seconds needs a value}"; shift 2 ;;
        --curve-budgets) CURVE_BUDGETS="${2:?--curve-budgets needs a list}"; shift 2 ;;
        --curve-sleeps) CURVE_SLEEPS="${2:?--curve-sleeps needs a list}"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench/run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || { echo "--reps must be a positive integer" >&2; exit 2; }
[[ "$SCALE" =~ ^[0-9]*\.?[0-9]+$ ]] || { echo "--scale must be a number, e.g. 0.1 or 1" >&2; exit 2; }
[[ "$DEFAULT_SECONDS" =~ ^[0-9]+$ ]] || { echo "--default-seconds must be a whole number of seconds (0 = no limit)" >&2; exit 2; }
[[ "$CURVE_SECONDS" =~ ^[1-9][0-9]*$ ]] || { echo "--curve-seconds must be a positive integer" >&2; exit 2; }
[[ "$CURVE_SLEEPS" =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "--curve-sleeps must be milliseconds, comma-separated, e.g. 0,10,50,150" >&2; exit 2; }
[[ "$CURVE_BUDGETS" =~ ^[A-Za-z0-9./\ ]+(,[A-Za-z0-9./\ ]+)*$ ]] || { echo "--curve-budgets must be write_budget values, comma-separated, e.g. \"auto,2 MB/s\"" >&2; exit 2; }
BENCH_DB="${BENCH_DB:-rd_bench}"
[[ "$BENCH_DB" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || { echo "BENCH_DB must be a plain lower-case name, e.g. rd_bench" >&2; exit 2; }
case "$DBS" in
    postgres) DB_LIST=(postgres) ;;
    mariadb|mysql) DB_LIST=(mariadb) ;;
    both) DB_LIST=(postgres mariadb) ;;
    *) echo "--db must be postgres, mariadb or both" >&2; exit 2 ;;
esac
NC=$(python3 -c "print(round(100000 * float('$SCALE')))")
if (( NC < 1000 )); then
    echo "--scale $SCALE is too small (at least 0.01 = 1 000 customers)" >&2
    exit 2
fi

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
WORK="$BENCH/work"
LIB="$BENCH/lib/bench.py"
RD="$ROOT/target/release/retentiond"
RESULTS="$WORK/results.jsonl"
META="$WORK/meta.json"

PG_HOST="${BENCH_PG_HOST:-127.0.0.1}"
PG_PORT="${BENCH_PG_PORT:-5432}"
PG_USER="${BENCH_PG_USER:-postgres}"
MY_HOST="${BENCH_MY_HOST:-127.0.0.1}"
MY_PORT="${BENCH_MY_PORT:-3306}"
MY_USER="${BENCH_MY_USER:-root}"
export PGTZ=UTC PGAPPNAME=retentiond-bench PYTHONDONTWRITEBYTECODE=1

want() { [[ ",$ONLY," == *",$1,"* ]]; }
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '\nbench/run.sh: ERROR: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.6f}')"; }

# ---------------------------------------------------------------------------------------------
# Clean-up: whatever happens, stop the load we started, drop rd_bench, restore the buffer pool.

OLTP_PID=""
MY_POOL_ORIG=""
cleanup() {
    local rc=$?
    set +e
    if [[ -n "$OLTP_PID" ]]; then
        kill -TERM -- "-$OLTP_PID" 2>/dev/null
        wait "$OLTP_PID" 2>/dev/null
    fi
    if (( KEEP == 0 )); then
        for db in "${DB_LIST[@]}"; do
            case "$db" in
                postgres) pgq -d postgres -c "DROP DATABASE IF EXISTS $BENCH_DB" >/dev/null 2>&1 ;;
                mariadb) myq -e "DROP DATABASE IF EXISTS $BENCH_DB; DROP DATABASE IF EXISTS ${BENCH_DB}_archive" >/dev/null 2>&1 ;;
            esac
        done
    fi
    if [[ -n "$MY_POOL_ORIG" ]]; then
        myq -e "SET GLOBAL innodb_buffer_pool_size = $MY_POOL_ORIG" >/dev/null 2>&1
    fi
    if (( rc == 0 && KEEP == 0 )); then
        rm -rf "$WORK"
    elif (( rc != 0 )); then
        echo "bench/run.sh: failed (exit $rc); logs are in $WORK" >&2
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# Clients

pgq() { psql -X -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -v ON_ERROR_STOP=1 "$@"; }
pg() { pgq -d "$BENCH_DB" "$@"; }
pgval() { pgq -d "$BENCH_DB" -qAt -c "$1"; }
MYCLIENT=mariadb
command -v mariadb >/dev/null || MYCLIENT=mysql
myq() { "$MYCLIENT" -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" "$@"; }
my() { myq "$BENCH_DB" "$@"; }
myval() { myq -N -B "$BENCH_DB" -e "SET SESSION time_zone = '+00:00'; $1"; }

# ---------------------------------------------------------------------------------------------
# 1. Build, tools, servers

prepare() {
    log "building retentiond (cargo build --release --locked)"
    (cd "$ROOT" && cargo build --release --locked) >&2 || die "cargo build --release --locked failed"
    [[ -x "$RD" ]] || die "no binary at $RD after the build"

    local need=()
    [[ -x /usr/bin/time ]] || need+=(time)
    command -v python3 >/dev/null || die "python3 is needed (stdlib only)"
    for db in "${DB_LIST[@]}"; do
        case "$db" in
            postgres)
                command -v psql >/dev/null || need+=(postgresql-client)
                command -v pgbench >/dev/null || need+=(postgresql-contrib)
                ;;
            mariadb)
                command -v "$MYCLIENT" >/dev/null || need+=(mariadb-client)
                command -v pt-archiver >/dev/null || need+=(percona-toolkit)
                ;;
        esac
    done
    if (( ${#need[@]} )); then
        log "installing ${need[*]} (apt-get)"
        command -v apt-get >/dev/null || die "missing ${need[*]} and no apt-get to install them"
        if ! apt-get install -y "${need[@]}" >"$WORK/apt.log" 2>&1; then
            apt-get update >>"$WORK/apt.log" 2>&1 || true
            apt-get install -y "${need[@]}" >>"$WORK/apt.log" 2>&1 ||
                die "apt-get install ${need[*]} failed (see $WORK/apt.log)"
        fi
    fi

    for db in "${DB_LIST[@]}"; do
        case "$db" in
            postgres)
                pgq -d postgres -qAt -c "SELECT 1" >/dev/null 2>"$WORK/pg-check.err" ||
                    die "PostgreSQL is not reachable at $PG_HOST:$PG_PORT as $PG_USER: $(head -c 300 "$WORK/pg-check.err")
  Start it (e.g. 'service postgresql start') or point BENCH_PG_HOST/PORT/USER at it."
                ;;
            mariadb)
                myq -N -e "SELECT 1" >/dev/null 2>"$WORK/my-check.err" ||
                    die "MariaDB is not reachable at $MY_HOST:$MY_PORT as $MY_USER: $(head -c 300 "$WORK/my-check.err")
  Start it (e.g. 'service mariadb start') or point BENCH_MY_HOST/PORT/USER at it."
                [[ "$(myq -N -e "SELECT COUNT(*) FROM information_schema.ENGINES WHERE ENGINE = 'SEQUENCE' AND SUPPORT IN ('YES','DEFAULT')")" == 1 ]] ||
                    die "MariaDB's SEQUENCE engine is not available (needed to generate the data server-side)"
                ;;
        esac
    done
}

# ---------------------------------------------------------------------------------------------
# OLTP load: a website's small transactions at a fixed rate. Latency counts from each
# transaction's scheduled start, so a stall shows up in every transaction queued behind it.

OLTP_NAME=""
oltp_start() { # db name
    local db=$1 name=$2 nactive
    OLTP_NAME=$name
    case "$db" in
        postgres)
            nactive=$(pgval "SELECT count(*) FROM bench_active")
            # setsid: the load gets its own process group, so that stopping it also stops
            # the real pgbench behind Debian's pg_wrapper.
            setsid pgbench -n -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -f "$BENCH/sql/pg_oltp.sql" \
                -D ncust="$NC" -D nactive="$nactive" -R "$OLTP_RATE" -c "$OLTP_CLIENTS" -j 1 \
                -T 86400 -l --log-prefix="$WORK/pgblog_$name" "$BENCH_DB" >"$WORK/oltp_$name.out" 2>&1 &
            ;;
        mariadb)
            nactive=$(myval "SELECT COUNT(*) FROM bench_active")
            setsid python3 "$LIB" oltp-mysql --out "$WORK/mylat_$name" --rate "$OLTP_RATE" \
                --clients "$OLTP_CLIENTS" --ncust "$NC" --nactive "$nactive" --client "$MYCLIENT" \
                --host "$MY_HOST" --port "$MY_PORT" --user "$MY_USER" --password "${MYSQL_PWD:-}" --database "$BENCH_DB" \
                >"$WORK/oltp_$name.out" 2>&1 &
            ;;
    esac
    OLTP_PID=$!
    sleep "$WARMUP_SECONDS"
    kill -0 "$OLTP_PID" 2>/dev/null || die "the OLTP load ($db) did not start: $(tail -5 "$WORK/oltp_$name.out")"
}

oltp_stop() { # db t_from t_to -> JSON latency stats of the window on stdout
    local db=$1 from=$2 to=$3
    sleep 2 # the transactions of the window reach the log files
    kill -0 "$OLTP_PID" 2>/dev/null || die "the OLTP load ($db) died during the measurement: $(tail -5 "$WORK/oltp_$OLTP_NAME.out")"
    case "$db" in
        postgres) kill -TERM -- "-$OLTP_PID" 2>/dev/null || true ;; # pg_wrapper and pgbench
        mariadb) kill -TERM "$OLTP_PID" 2>/dev/null || true ;;      # it stops its clients itself
    esac
    wait "$OLTP_PID" 2>/dev/null || true
    OLTP_PID=""
    case "$db" in
        postgres) python3 "$LIB" latency --format pgbench --from "$from" --to "$to" "$WORK/pgblog_$OLTP_NAME".* ;;
        mariadb) python3 "$LIB" latency --format plain --from "$from" --to "$to" "$WORK/mylat_$OLTP_NAME" ;;
    esac
}

# ---------------------------------------------------------------------------------------------
# 2. Data

EXPECTED=0
setup_postgres() {
    log "postgres: generating the dataset (scale $SCALE: $NC customers)"
    pgq -d postgres -q -c "DROP DATABASE IF EXISTS $BENCH_DB" -c "CREATE DATABASE $BENCH_DB"
    local t0 t1
    t0=$(now)
    sed "s/@@NC@@/$NC/g" "$BENCH/sql/pg_generate.sql" | pg -q >/dev/null
    t1=$(now)
    pg -q -f "$BENCH/sql/pg_procs.sql" -f "$BENCH/sql/pg_best_loop.sql"
    local e1 e2
    e1=$(pgval "SELECT count(*) FROM messages_src m WHERE m.customer_id IN (SELECT customer_id FROM subscriptions GROUP BY customer_id HAVING count(*) = count(ended_at) AND max(ended_at) < now() - interval '6 months')")
    e2=$(pgval "SELECT count(*) FROM messages_src m WHERE EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = m.customer_id) AND NOT EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = m.customer_id AND (r.ended_at IS NULL OR r.ended_at >= now() - interval '6 months'))")
    [[ "$e1" == "$e2" && "$e1" -gt 0 ]] || die "postgres: the two forms of the predicate disagree ($e1 vs $e2)"
    EXPECTED=$e1
    python3 "$LIB" meta --file "$META" \
        "postgres.version=$(pgval "SELECT 'PostgreSQL ' || current_setting('server_version')")" \
        "postgres.settings=shared_buffers $(pgval "SHOW shared_buffers"), max_wal_size $(pgval "SHOW max_wal_size"), synchronous_commit $(pgval "SHOW synchronous_commit")" \
        "postgres.expected=$EXPECTED" \
        "postgres.messages=$(pgval "SELECT count(*) FROM messages_src")" \
        "postgres.messages_size=$(pgval "SELECT pg_size_pretty(pg_total_relation_size('messages_src'))")" \
        "postgres.customers=$(pgval "SELECT count(*) FROM customers")" \
        "postgres.subscriptions=$(pgval "SELECT count(*) FROM subscriptions")" \
        "postgres.invoices=$(pgval "SELECT count(*) FROM invoices")" \
        "postgres.payments=$(pgval "SELECT count(*) FROM payments")" \
        "postgres.consents=$(pgval "SELECT count(*) FROM marketing_consents")" \
        "postgres.gen_seconds=$(elapsed "$t0" "$t1")"
    log "postgres: $(pgval "SELECT count(*) FROM messages_src") messages, $EXPECTED expired"
}

setup_mariadb() {
    log "mariadb: generating the dataset (scale $SCALE: $NC customers)"
    myq -e "DROP DATABASE IF EXISTS $BENCH_DB; CREATE DATABASE $BENCH_DB"
    local t0 t1
    t0=$(now)
    sed "s/@@NC@@/$NC/g" "$BENCH/sql/my_generate.sql" | my >/dev/null
    t1=$(now)
    my <"$BENCH/sql/my_procs.sql"
    my <"$BENCH/sql/my_best_loop.sql"
    local e1 e2
    e1=$(myval "SELECT COUNT(*) FROM messages_src m JOIN (SELECT customer_id FROM subscriptions GROUP BY customer_id HAVING COUNT(*) = COUNT(ended_at) AND MAX(ended_at) < UTC_TIMESTAMP() - INTERVAL 6 MONTH) e ON e.customer_id = m.customer_id")
    e2=$(myval "SELECT COUNT(*) FROM messages_src m WHERE EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = m.customer_id) AND NOT EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = m.customer_id AND (r.ended_at IS NULL OR r.ended_at >= UTC_TIMESTAMP() - INTERVAL 6 MONTH))")
    [[ "$e1" == "$e2" && "$e1" -gt 0 ]] || die "mariadb: the two forms of the predicate disagree ($e1 vs $e2)"
    EXPECTED=$e1
    local pool
    pool=$(myval "SELECT @@innodb_buffer_pool_size")
    python3 "$LIB" meta --file "$META" \
        "mariadb.version=MariaDB $(myval "SELECT VERSION()")" \
        "mariadb.settings=innodb_buffer_pool_size $((pool / 1048576))M, innodb_flush_log_at_trx_commit $(myval "SELECT @@innodb_flush_log_at_trx_commit"), innodb_flush_method $(myval "SELECT @@innodb_flush_method"), binlog $(myval "SELECT @@log_bin")" \
        "mariadb.expected=$EXPECTED" \
        "mariadb.messages=$(myval "SELECT COUNT(*) FROM messages_src")" \
        "mariadb.messages_size=$(myval "SELECT CONCAT(ROUND((data_length + index_length) / 1048576), ' MB') FROM information_schema.TABLES WHERE table_schema = '$BENCH_DB' AND table_name = 'messages_src'")" \
        "mariadb.customers=$(myval "SELECT COUNT(*) FROM customers")" \
        "mariadb.subscriptions=$(myval "SELECT COUNT(*) FROM subscriptions")" \
        "mariadb.invoices=$(myval "SELECT COUNT(*) FROM invoices")" \
        "mariadb.payments=$(myval "SELECT COUNT(*) FROM payments")" \
        "mariadb.consents=$(myval "SELECT COUNT(*) FROM marketing_consents")" \
        "mariadb.gen_seconds=$(elapsed "$t0" "$t1")"
    log "mariadb: $(myval "SELECT COUNT(*) FROM messages_src") messages, $EXPECTED expired"
}

restore() { # db
    case "$1" in
        postgres) pg -q -f "$BENCH/sql/pg_restore.sql" >/dev/null ;;
        mariadb) my <"$BENCH/sql/my_restore.sql" >/dev/null ;;
    esac
}

gone_from_copy() { # db -> how many rows of the pristine copy are gone from messages
    case "$1" in
        postgres) pgval "SELECT count(*) FROM messages_src s WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = s.id)" ;;
        mariadb) myval "SELECT COUNT(*) FROM messages_src s LEFT JOIN messages m ON m.id = s.id WHERE m.id IS NULL" ;;
    esac
}

# Every variant must have deleted exactly the expired rows: what it reports, what is gone
# from the pristine copy, and nothing expired left behind.
verify() { # db variant reported
    local db=$1 variant=$2 reported=$3 gone left
    gone=$(gone_from_copy "$db")
    case "$db" in
        postgres)
            left=$(pgval "SELECT count(*) FROM messages m WHERE m.customer_id IN (SELECT customer_id FROM subscriptions GROUP BY customer_id HAVING count(*) = count(ended_at) AND max(ended_at) < now() - interval '6 months')")
            ;;
        mariadb)
            left=$(myval "SELECT COUNT(*) FROM messages m JOIN (SELECT customer_id FROM subscriptions GROUP BY customer_id HAVING COUNT(*) = COUNT(ended_at) AND MAX(ended_at) < UTC_TIMESTAMP() - INTERVAL 6 MONTH) e ON e.customer_id = m.customer_id")
            ;;
    esac
    if [[ "$reported" != "$EXPECTED" || "$gone" != "$EXPECTED" || "$left" != 0 ]]; then
        die "$db $variant deleted the wrong rows: expected $EXPECTED, it reported $reported, $gone are gone from the pristine copy, $left expired rows remain"
    fi
}

# A curve point stopped at its time limit deleted only part of the expired rows: what it
# reports must be what is gone, and every row gone must have been expired.
verify_partial() { # db what reported
    local db=$1 what=$2 reported=$3 gone wrong
    gone=$(gone_from_copy "$db")
    case "$db" in
        postgres)
            wrong=$(pgval "SELECT count(*) FROM messages_src s WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = s.id) AND s.customer_id NOT IN (SELECT customer_id FROM subscriptions GROUP BY customer_id HAVING count(*) = count(ended_at) AND max(ended_at) < now() - interval '6 months')")
            ;;
        mariadb)
            wrong=$(myval "SELECT COUNT(*) FROM messages_src s LEFT JOIN messages m ON m.id = s.id LEFT JOIN (SELECT customer_id FROM subscriptions GROUP BY customer_id HAVING COUNT(*) = COUNT(ended_at) AND MAX(ended_at) < UTC_TIMESTAMP() - INTERVAL 6 MONTH) e ON e.customer_id = s.customer_id WHERE m.id IS NULL AND e.customer_id IS NULL")
            ;;
    esac
    if [[ "$reported" != "$gone" || "$wrong" != 0 ]]; then
        die "$db $what deleted the wrong rows: it reported $reported, $gone are gone from the pristine copy, $wrong of them were not expired"
    fi
}

# A curve point either deleted every expired row, or stopped at --curve-seconds with part of
# them (then it must have run that long). Prints "done" or "capped".
verify_point() { # db what reported seconds
    local db=$1 what=$2 reported=$3 seconds=$4
    if [[ "$reported" == "$EXPECTED" ]]; then
        verify "$db" "$what" "$reported"
        echo done
    elif python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) - 1 else 1)" "$seconds" "$CURVE_SECONDS"; then
        verify_partial "$db" "$what" "$reported"
        echo capped
    else
        die "$db $what stopped after $seconds s with $reported of $EXPECTED expired rows deleted, before its time limit of $CURVE_SECONDS s"
    fi
}

record() { # db variant rep t0 t1 rows [key=value...]  (+ oltp JSON in $WORK/oltp.json)
    local db=$1 variant=$2 rep=$3 t0=$4 t1=$5 rows=$6
    shift 6
    python3 "$LIB" record --out "$RESULTS" "@oltp=$WORK/oltp.json" \
        "db=$db" "variant=$variant" "rep=$rep" "rows=$rows" "seconds=$(elapsed "$t0" "$t1")" "$@"
}

# ---------------------------------------------------------------------------------------------
# 3. The variants. Each: fresh data, OLTP load running, then the timed purge.

T0=0
T1=0
run_idle() { # db rep
    local db=$1 rep=$2
    restore "$db"
    oltp_start "$db" "idle_$rep"
    T0=$(now)
    sleep "$IDLE_SECONDS"
    T1=$(now)
    oltp_stop "$db" "$T0" "$T1" >"$WORK/oltp.json"
    python3 "$LIB" record --out "$RESULTS" "@oltp=$WORK/oltp.json" "db=$db" "variant=idle" "rep=$rep"
}

run_single_delete() { # db rep
    local db=$1 rep=$2 out rows
    restore "$db"
    oltp_start "$db" "a_$rep"
    T0=$(now)
    case "$db" in
        postgres)
            out=$(pg -c "DELETE FROM messages m WHERE m.customer_id IN (SELECT customer_id FROM subscriptions GROUP BY customer_id HAVING count(*) = count(ended_at) AND max(ended_at) < now() - interval '6 months')")
            rows=${out#DELETE }
            ;;
        mariadb)
            rows=$(myval "DELETE m FROM messages m JOIN (SELECT customer_id FROM subscriptions GROUP BY customer_id HAVING COUNT(*) = COUNT(ended_at) AND MAX(ended_at) < UTC_TIMESTAMP() - INTERVAL 6 MONTH) e ON e.customer_id = m.customer_id; SELECT ROW_COUNT();")
            ;;
    esac
    T1=$(now)
    oltp_stop "$db" "$T0" "$T1" >"$WORK/oltp.json"
    verify "$db" a "$rows"
    record "$db" a "$rep" "$T0" "$T1" "$rows"
}

run_server_loop() { # db rep
    local db=$1 rep=$2 rows
    restore "$db"
    oltp_start "$db" "b_$rep"
    T0=$(now)
    case "$db" in
        postgres)
            rows=$(pgq -d "$BENCH_DB" -qAt -c "SET plan_cache_mode = force_custom_plan" -c "CALL bench_purge_loop(1000)")
            ;;
        mariadb)
            rows=$(myval "CALL bench_purge_loop(1000, @total); SELECT @total;")
            ;;
    esac
    T1=$(now)
    oltp_stop "$db" "$T0" "$T1" >"$WORK/oltp.json"
    verify "$db" b "$rows"
    batch_log "$db" b >"$WORK/batch.json"
    record "$db" b "$rep" "$T0" "$T1" "$rows" "@batch=$WORK/batch.json"
}

# (e) the best loop: the expired customers found once, then key batches joined to that set,
# re-checked at write. Prints the rows deleted.
best_loop() { # db sleep_ms max_ms
    local db=$1 sleep_ms=$2 max_ms=$3
    case "$db" in
        postgres)
            pgq -d "$BENCH_DB" -qAt -c "SET plan_cache_mode = force_custom_plan" \
                -c "SET client_min_messages = warning" -c "CALL bench_best_loop(1000, $sleep_ms, $max_ms)"
            ;;
        mariadb)
            myval "CALL bench_best_loop(1000, $sleep_ms, $max_ms, @total); SELECT @total;"
            ;;
    esac
}

batch_log() { # db variant -> per-batch JSON from the loop's log rows
    case "$1" in
        postgres) pgval "SELECT extract(epoch FROM at) FROM bench_batches WHERE variant = '$2' ORDER BY batch" ;;
        mariadb) myval "SELECT UNIX_TIMESTAMP(at) FROM bench_batches WHERE variant = '$2' ORDER BY batch" ;;
    esac | python3 "$LIB" batches
}

run_best_loop() { # db rep
    local db=$1 rep=$2 rows
    restore "$db"
    oltp_start "$db" "e_$rep"
    T0=$(now)
    rows=$(best_loop "$db" 0 0)
    T1=$(now)
    oltp_stop "$db" "$T0" "$T1" >"$WORK/oltp.json"
    verify "$db" e "$rows"
    batch_log "$db" e >"$WORK/batch.json"
    record "$db" e "$rep" "$T0" "$T1" "$rows" "@batch=$WORK/batch.json"
}

PT_WHERE="EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = messages.customer_id) AND NOT EXISTS (SELECT 1 FROM subscriptions r WHERE r.customer_id = messages.customer_id AND (r.ended_at IS NULL OR r.ended_at >= UTC_TIMESTAMP() - INTERVAL 6 MONTH))"

run_pt_archiver() { # rep (MariaDB only)
    local rep=$1 rows batches dsn
    restore mariadb
    dsn="h=$MY_HOST,P=$MY_PORT,u=$MY_USER,D=$BENCH_DB,t=messages,A=utf8mb4"
    [[ -n "${MYSQL_PWD:-}" ]] && dsn="$dsn,p=$MYSQL_PWD"
    oltp_start mariadb "c_$rep"
    T0=$(now)
    # --no-safe-auto-increment: pt-archiver otherwise keeps the row with the highest id
    # whether it is expired or not; every variant must delete the same rows.
    pt-archiver --source "$dsn" --purge --where "$PT_WHERE" --limit 1000 --commit-each \
        --bulk-delete --no-safe-auto-increment --statistics >"$WORK/pt_$rep.out" 2>&1 ||
        die "pt-archiver failed: $(tail -5 "$WORK/pt_$rep.out")"
    T1=$(now)
    oltp_stop mariadb "$T0" "$T1" >"$WORK/oltp.json"
    rows=$(awk '$1 == "DELETE" { print $2 }' "$WORK/pt_$rep.out")
    batches=$(awk '$1 == "bulk_deleting" { print $2 }' "$WORK/pt_$rep.out")
    verify mariadb c "$rows"
    record mariadb c "$rep" "$T0" "$T1" "$rows" "batches=${batches:-null}" \
        "batch_avg_ms=$(python3 -c "print(($T1 - $T0) * 1000 / max(1, int('${batches:-0}' or 0)))")"
}

MESSAGES_POLICY='[[policies]]
name = "support-messages"
table = "messages"
since = { table = "subscriptions", column = "ended_at", match = { customer_id = "customer_id" } }
retain = "6 months"
action = "delete"
basis = "benchmark: support mail, 6 months after the last subscription ended"'

# A retentiond config for one variant: default, fast, unpaced (the defaults without the write
# budget) or curve settings (curve: 1 000 rows per batch, no pause, the write budget given, at
# most --curve-seconds), and the policies given.
rd_config() { # db mode file policies [write_budget] [max_runtime]
    local db=$1 mode=$2 file=$3 policies=$4 budget=${5:-} limit=${6:-} url
    case "$db" in
        postgres) url="postgres://$PG_USER@$PG_HOST:$PG_PORT/$BENCH_DB" ;;
        mariadb) url="mysql://$MY_USER@$MY_HOST:$MY_PORT/$BENCH_DB" ;;
    esac
    if [[ ! -f "$WORK/hmac-key" ]]; then
        (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/hmac-key")
    fi
    {
        echo "# generated by bench/run.sh ($mode settings)"
        echo "[database]"
        echo "url = \"$url\""
        echo "[run]"
        echo "max_fraction = 1.0"
        if [[ -n "$limit" ]]; then echo "max_runtime = \"$limit\""; fi
        if [[ "$mode" == fast ]]; then
            echo "batch_size = 10000"
            echo "pause = \"0ms\""
            echo "pause_factor = 0"
            echo "write_budget = \"off\""
        elif [[ "$mode" == unpaced ]]; then
            echo "write_budget = \"off\""
        elif [[ "$mode" == curve ]]; then
            echo "pause = \"0ms\""
            echo "pause_factor = 0"
            if [[ -z "$limit" ]]; then echo "max_runtime = \"${CURVE_SECONDS}s\""; fi
            if [[ -n "$budget" ]]; then echo "write_budget = \"$budget\""; fi
        fi
        echo "[hash]"
        echo "key_file = \"$WORK/hmac-key\""
        echo "$policies"
    } >"$file"
}

# A password, if any, comes from the environment, never from the generated file.
rd_env() { # db
    if [[ "$1" == postgres && -n "${PGPASSWORD:-}" ]]; then
        export RETENTIOND_DATABASE__URL="postgres://$PG_USER:$PGPASSWORD@$PG_HOST:$PG_PORT/$BENCH_DB"
    elif [[ "$1" == mariadb && -n "${MYSQL_PWD:-}" ]]; then
        export RETENTIOND_DATABASE__URL="mysql://$MY_USER:$MYSQL_PWD@$MY_HOST:$MY_PORT/$BENCH_DB"
    else
        unset RETENTIOND_DATABASE__URL
    fi
}

# A scheduled run that finds nothing: on an indexed clock (invoices kept 15 years: none is that
# old) and on the related clock of the messages just after they were purged. The whole command
# is timed (connect, check, count, record the run), median of three, without load.
run_nothing_to_do() { # db rep
    local db=$1 rep=$2 cfg kind policy t0 t1 times
    # The related-clock run must find nothing: when the variant before left expired messages
    # (a time-limited defaults run, or none ran), purge them first, untimed.
    if [[ "$(gone_from_copy "$db")" != "$EXPECTED" ]]; then
        cfg="$WORK/retentiond-$db-idle-purge.toml"
        rd_config "$db" fast "$cfg" "$MESSAGES_POLICY"
        rd_env "$db"
        "$RD" --config "$cfg" run --json >"$WORK/rd_idle_purge.json" 2>"$WORK/rd_idle_purge.log" ||
            die "retentiond ($db, the purge before the nothing-to-do runs) failed: $(tail -5 "$WORK/rd_idle_purge.log")"
        unset RETENTIOND_DATABASE__URL
    fi
    for kind in own related; do
        cfg="$WORK/retentiond-$db-idle-$kind.toml"
        if [[ $kind == own ]]; then
            policy='[[policies]]
name = "invoices"
table = "invoices"
since = "issued_at"
retain = "15 years"
round = "end_of_year"
action = "delete"
basis = "benchmark: nothing is this old"'
        else
            policy=$MESSAGES_POLICY
        fi
        rd_config "$db" default "$cfg" "$policy"
        rd_env "$db"
        times=()
        for _ in 1 2 3; do
            t0=$(now)
            "$RD" --config "$cfg" run --json >"$WORK/rd_idle_$kind.json" 2>"$WORK/rd_idle_$kind.log" ||
                die "retentiond ($db, nothing to do, $kind clock) failed: $(tail -5 "$WORK/rd_idle_$kind.log")"
            t1=$(now)
            [[ "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['policies'][0]['affected'])" "$WORK/rd_idle_$kind.json")" == 0 ]] ||
                die "the nothing-to-do run ($db, $kind clock) changed rows"
            times+=("$(elapsed "$t0" "$t1")")
        done
        unset RETENTIOND_DATABASE__URL
        python3 "$LIB" record --out "$RESULTS" "db=$db" "variant=idle_$kind" "rep=$rep" \
            "seconds=$(python3 -c "import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))" "${times[@]}")"
    done
}

# Anonymization of former customers' contact fields 90 days after their last subscription
# ended: one UPDATE computing the same kind of values in SQL (SHA-256 rather than the keyed HMAC,
# which neither server has built in) against retentiond. Without load; the fields are put back
# from customers_src before each variant.
ANON_POLICY='[[policies]]
name = "customer-contact"
table = "customers"
since = { table = "subscriptions", column = "ended_at", match = { id = "customer_id" } }
retain = "90 days"
action = "anonymize"
columns = { name = "redact", email = "hash", ip_address = "truncate_ip" }
basis = "benchmark: contact details of former customers"'

anon_restore() { # db
    case "$1" in
        postgres)
            pg -q -c "UPDATE customers c SET name = s.name, email = s.email, ip_address = s.ip_address FROM customers_src s WHERE s.id = c.id AND (c.name, c.email, c.ip_address) IS DISTINCT FROM (s.name, s.email, s.ip_address)" \
                -c "VACUUM ANALYZE customers" -c "DROP TABLE IF EXISTS retentiond_runs, retentiond_audit, retentiond_holds, retentiond_outbox, retentiond_erasures, retentiond_migrations"
            ;;
        mariadb)
            my -e "UPDATE customers c JOIN customers_src s ON s.id = c.id SET c.name = s.name, c.email = s.email, c.ip_address = s.ip_address WHERE NOT (c.name <=> s.name AND c.email <=> s.email AND c.ip_address <=> s.ip_address); DROP TABLE IF EXISTS retentiond_runs, retentiond_audit, retentiond_holds, retentiond_outbox, retentiond_erasures, retentiond_migrations"
            ;;
    esac >/dev/null
}

run_anonymize() { # db rep mode... (default: paced by the write budget; unpaced)
    local db=$1 rep=$2 rows cfg tag t0 t1 rss
    shift 2
    anon_restore "$db"
    t0=$(now)
    case "$db" in
        postgres)
            rows=$(pgval "WITH u AS (UPDATE customers c SET name = 'redacted', email = encode(sha256(convert_to(c.email, 'UTF8')), 'hex'), ip_address = regexp_replace(c.ip_address, '[.][0-9]+\$', '.0') WHERE c.id IN (SELECT customer_id FROM subscriptions GROUP BY customer_id HAVING count(*) = count(ended_at) AND max(ended_at) < now() - interval '90 days') RETURNING 1) SELECT count(*) FROM u")
            ;;
        mariadb)
            rows=$(myval "UPDATE customers c JOIN (SELECT customer_id FROM subscriptions GROUP BY customer_id HAVING COUNT(*) = COUNT(ended_at) AND MAX(ended_at) < UTC_TIMESTAMP() - INTERVAL 90 DAY) e ON e.customer_id = c.id SET c.name = 'redacted', c.email = SHA2(c.email, 256), c.ip_address = REGEXP_REPLACE(c.ip_address, '[.][0-9]+\$', '.0'); SELECT ROW_COUNT();")
            ;;
    esac
    t1=$(now)
    python3 "$LIB" record --out "$RESULTS" "db=$db" "variant=anon_a" "rep=$rep" "rows=$rows" "seconds=$(elapsed "$t0" "$t1")"
    # With the defaults, paced by the write budget although no load runs, and unpaced
    # (write_budget = "off"), which is how the one UPDATE runs.
    local mode
    for mode in "$@"; do
        anon_restore "$db"
        cfg="$WORK/retentiond-$db-anon-$mode.toml"
        tag="${db}_anon_${mode}_$rep"
        rd_config "$db" "$mode" "$cfg" "$ANON_POLICY"
        rd_env "$db"
        t0=$(now)
        /usr/bin/time -v -o "$WORK/time_$tag.txt" "$RD" --config "$cfg" run --json \
            >"$WORK/rd_$tag.json" 2>"$WORK/rd_$tag.log" ||
            die "retentiond ($db, anonymize, $mode) failed with exit $?: $(tail -5 "$WORK/rd_$tag.log")"
        t1=$(now)
        unset RETENTIOND_DATABASE__URL
        rows=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['policies'][0]['affected'])" "$WORK/rd_$tag.json")
        rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time_$tag.txt")
        python3 "$LIB" record --out "$RESULTS" "db=$db" "variant=anon_rd${mode/#default/}" "rep=$rep" \
            "rows=$rows" "seconds=$(elapsed "$t0" "$t1")" "rss_kb=$rss"
    done
}

# Archiving: the same expired messages copied to an archive, verified there, then deleted.
ARCHIVE_POLICY="${MESSAGES_POLICY/action = \"delete\"/action = \"archive\"}"
ARCHIVE_DB="${BENCH_DB}_archive"

archive_fresh() { # db -> the [archive] url of a new, empty archive
    case "$1" in
        postgres)
            rm -f "$WORK/archive.db"
            python3 -c "import sqlite3, sys; sqlite3.connect(sys.argv[1]).close()" "$WORK/archive.db"
            echo "sqlite://$WORK/archive.db"
            ;;
        mariadb)
            myq -e "DROP DATABASE IF EXISTS $ARCHIVE_DB; CREATE DATABASE $ARCHIVE_DB CHARACTER SET utf8mb4"
            echo "mysql://$MY_USER@$MY_HOST:$MY_PORT/$ARCHIVE_DB"
            ;;
    esac
}

# "count sum" of the ids the archive holds as archived (retentiond) or at all (pt-archiver),
# and of the ids gone from the live copy: they must be the same rows.
archived_ids() { # db state|-
    local where=""
    [[ "$2" != - ]] && where="WHERE retentiond_state = '$2'"
    case "$1" in
        postgres) python3 -c "import sqlite3, sys; print(*sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone())" \
            "$WORK/archive.db" "SELECT COUNT(*), COALESCE(SUM(id), 0) FROM messages $where" ;;
        mariadb) myq -N -B "$ARCHIVE_DB" -e "SELECT COUNT(*), COALESCE(SUM(id), 0) FROM messages $where" | tr '\t' ' ' ;;
    esac
}
gone_ids() { # db -> "count sum" of the pristine copy's ids gone from messages
    case "$1" in
        postgres) pgval "SELECT count(*) || ' ' || COALESCE(sum(s.id), 0) FROM messages_src s WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = s.id)" ;;
        mariadb) myval "SELECT CONCAT(COUNT(*), ' ', COALESCE(SUM(s.id), 0)) FROM messages_src s LEFT JOIN messages m ON m.id = s.id WHERE m.id IS NULL" ;;
    esac
}
verify_archive() { # db variant reported state|-
    local db=$1 variant=$2 reported=$3 gone held
    verify "$db" "$variant" "$reported"
    gone=$(gone_ids "$db")
    held=$(archived_ids "$db" "$4")
    [[ "$gone" == "$held" ]] || die "$db $variant: the archive holds (count, sum of ids) $held, but $gone are gone live"
}

run_rd_archive() { # db rep
    local db=$1 rep=$2 cfg tag rows batches rss url
    tag="${db}_archive_$rep"
    cfg="$WORK/retentiond-$db-archive.toml"
    restore "$db"
    url=$(archive_fresh "$db")
    rd_config "$db" fast "$cfg" "$ARCHIVE_POLICY"
    printf '[archive]\nurl = "%s"\n' "$url" >>"$cfg"
    oltp_start "$db" "rd_archive_$rep"
    T0=$(now)
    rd_env "$db"
    if [[ "$db" == mariadb && -n "${MYSQL_PWD:-}" ]]; then
        export RETENTIOND_ARCHIVE__URL="mysql://$MY_USER:$MYSQL_PWD@$MY_HOST:$MY_PORT/$ARCHIVE_DB"
    fi
    /usr/bin/time -v -o "$WORK/time_$tag.txt" "$RD" --config "$cfg" run --json \
        >"$WORK/rd_$tag.json" 2>"$WORK/rd_$tag.log" ||
        die "retentiond ($db, archive) failed: $(tail -5 "$WORK/rd_$tag.log")"
    T1=$(now)
    unset RETENTIOND_DATABASE__URL RETENTIOND_ARCHIVE__URL
    oltp_stop "$db" "$T0" "$T1" >"$WORK/oltp.json"
    rows=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['policies'][0]['affected'])" "$WORK/rd_$tag.json")
    batches=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['policies'][0]['batches'])" "$WORK/rd_$tag.json")
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time_$tag.txt")
    verify_archive "$db" retentiond-archive "$rows" archived
    record "$db" archive_rd "$rep" "$T0" "$T1" "$rows" "batches=$batches" "rss_kb=$rss" \
        "batch_avg_ms=$(python3 -c "print(($T1 - $T0) * 1000 / max(1, int('${batches:-0}' or 0)))")"
}

run_pt_archive() { # rep (MariaDB only): the same rows to a second database, LOAD DATA per chunk
    local rep=$1 rows dsn dest
    restore mariadb
    archive_fresh mariadb >/dev/null
    # The copy's table as the source's, without its foreign key.
    myq "$ARCHIVE_DB" -e "CREATE TABLE messages LIKE $BENCH_DB.messages_src"
    dsn="h=$MY_HOST,P=$MY_PORT,u=$MY_USER,D=$BENCH_DB,t=messages,A=utf8mb4"
    dest="h=$MY_HOST,P=$MY_PORT,u=$MY_USER,D=$ARCHIVE_DB,t=messages,A=utf8mb4,L=1"
    [[ -n "${MYSQL_PWD:-}" ]] && dsn="$dsn,p=$MYSQL_PWD" && dest="$dest,p=$MYSQL_PWD"
    oltp_start mariadb "pt_archive_$rep"
    T0=$(now)
    pt-archiver --source "$dsn" --dest "$dest" --where "$PT_WHERE" --limit 1000 --commit-each \
        --bulk-insert --bulk-delete --no-safe-auto-increment --statistics \
        >"$WORK/pt_archive_$rep.out" 2>&1 ||
        die "pt-archiver --dest failed: $(tail -5 "$WORK/pt_archive_$rep.out")"
    T1=$(now)
    oltp_stop mariadb "$T0" "$T1" >"$WORK/oltp.json"
    rows=$(awk '$1 == "DELETE" { print $2 }' "$WORK/pt_archive_$rep.out")
    verify_archive mariadb pt-archiver-dest "$rows" -
    record mariadb archive_pt "$rep" "$T0" "$T1" "$rows"
}

run_retentiond() { # db mode rep
    local db=$1 mode=$2 rep=$3 cfg tag rows batches rss limit="" rc=0 status=done
    tag="${db}_${mode}_$rep"
    cfg="$WORK/retentiond-$db-$mode.toml"
    if [[ "$mode" == default ]] && (( DEFAULT_SECONDS > 0 )); then limit="${DEFAULT_SECONDS}s"; fi
    rd_config "$db" "$mode" "$cfg" "$MESSAGES_POLICY" "" "$limit"
    restore "$db"
    oltp_start "$db" "rd_${mode}_$rep"
    T0=$(now)
    rd_env "$db"
    /usr/bin/time -v -o "$WORK/time_$tag.txt" "$RD" --config "$cfg" run --json \
        >"$WORK/rd_$tag.json" 2>"$WORK/rd_$tag.log" || rc=$?
    T1=$(now)
    unset RETENTIOND_DATABASE__URL
    # A run stopped by its time limit exits 1 and says so in its report; anything else failed.
    if (( rc != 0 )) && ! { [[ -n "$limit" ]] && grep -q max_runtime "$WORK/rd_$tag.json" 2>/dev/null; }; then
        die "retentiond ($db, $mode) failed with exit $rc: $(tail -5 "$WORK/rd_$tag.log")"
    fi
    oltp_stop "$db" "$T0" "$T1" >"$WORK/oltp.json"
    rows=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['policies'][0]['affected'])" "$WORK/rd_$tag.json")
    batches=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['policies'][0]['batches'])" "$WORK/rd_$tag.json")
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time_$tag.txt")
    if (( rc != 0 )); then
        verify_partial "$db" "retentiond-$mode" "$rows"
        status=capped
    else
        verify "$db" "retentiond-$mode" "$rows"
    fi
    case "$db" in
        postgres) pgval "SELECT recorded_at FROM retentiond_audit ORDER BY id" ;;
        mariadb) myval "SELECT recorded_at FROM retentiond_audit ORDER BY id" ;;
    esac >"$WORK/audit_$tag.txt"
    python3 "$LIB" batches <"$WORK/audit_$tag.txt" >"$WORK/batch.json"
    local first last
    first=$(python3 -c "import sys; sys.path.insert(0, '$BENCH/lib'); import bench; print(bench.parse_ts(open('$WORK/audit_$tag.txt').readline()))")
    last=$(python3 -c "import sys; sys.path.insert(0, '$BENCH/lib'); import bench; print(bench.parse_ts(open('$WORK/audit_$tag.txt').readlines()[-1]))")
    record "$db" "rd_$mode" "$rep" "$T0" "$T1" "$rows" "@batch=$WORK/batch.json" \
        "batches=$batches" "rss_kb=$rss" \
        "before_first_batch_s=$(elapsed "$T0" "$first")" "batches_s=$(elapsed "$first" "$last")" \
        "after_last_batch_s=$(elapsed "$last" "$T1")" "status=$status" "limit_s=${limit%s}"
}

# ---------------------------------------------------------------------------------------------
# 4. The trade-off curve (--curve): purge speed against the load's p99 at several pacing
# settings, each point from a fresh copy under the OLTP load, at most --curve-seconds long.

CURVE_N=0
curve_record() { # db method setting rows status [key=value...]  (T0, T1, $WORK/oltp.json)
    local db=$1 method=$2 setting=$3 rows=$4 status=$5
    shift 5
    record "$db" curve curve "$T0" "$T1" "$rows" "method=$method" "setting=$setting" \
        "status=$status" "limit_s=$CURVE_SECONDS" "$@"
}

# The curve's retentiond config must pass `check` without a write budget, so that a refusal
# with one is the budget's.
rd_check_curve_config() { # db
    local db=$1 cfg="$WORK/retentiond-$1-check-plain.toml"
    rd_config "$db" curve "$cfg" "$MESSAGES_POLICY"
    rd_env "$db"
    "$RD" --config "$cfg" check >"$WORK/check-plain.out" 2>&1 ||
        die "retentiond check ($db) refused the curve's config even without write_budget: $(tail -5 "$WORK/check-plain.out")"
    unset RETENTIOND_DATABASE__URL
}

# Succeeds, printing check's words, when this retentiond refuses the write budget (a build
# without the key, or a value it does not take).
rd_refuses_budget() { # db budget
    local db=$1 budget=$2 cfg="$WORK/retentiond-$1-check-paced.toml" rc=0
    rd_config "$db" curve "$cfg" "$MESSAGES_POLICY" "$budget"
    rd_env "$db"
    "$RD" --config "$cfg" check >"$WORK/check-paced.out" 2>&1 || rc=$?
    unset RETENTIOND_DATABASE__URL
    (( rc != 0 )) || return 1
    # The line that names the key, without its position in the generated file.
    { grep -m1 'write_budget' "$WORK/check-paced.out" || head -3 "$WORK/check-paced.out"; } |
        tr '\n' ' ' | sed 's/^[[:space:]-]*//; s/^line [0-9]*, column [0-9]*: //; s/[[:space:]]*$//'
}

curve_retentiond() { # db budget
    local db=$1 budget=$2 cfg tag rows rc status
    CURVE_N=$((CURVE_N + 1))
    tag="${db}_curve_$CURVE_N"
    cfg="$WORK/retentiond-$db-curve-$CURVE_N.toml"
    rd_config "$db" curve "$cfg" "$MESSAGES_POLICY" "$budget"
    restore "$db"
    oltp_start "$db" "curve_$CURVE_N"
    T0=$(now)
    rd_env "$db"
    rc=0
    "$RD" --config "$cfg" run --json >"$WORK/rd_$tag.json" 2>"$WORK/rd_$tag.log" || rc=$?
    T1=$(now)
    unset RETENTIOND_DATABASE__URL
    oltp_stop "$db" "$T0" "$T1" >"$WORK/oltp.json"
    # Stopping at max_runtime is a run that did not finish (exit 1), which is the point here.
    if (( rc != 0 )) && ! grep -q max_runtime "$WORK/rd_$tag.json" 2>/dev/null; then
        die "retentiond ($db, write_budget = \"$budget\") failed with exit $rc: $(tail -5 "$WORK/rd_$tag.log")"
    fi
    rows=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['policies'][0]['affected'])" "$WORK/rd_$tag.json")
    status=$(verify_point "$db" "retentiond write_budget = \"$budget\"" "$rows" "$(elapsed "$T0" "$T1")")
    pg_or_my_audit "$db" | python3 "$LIB" batches >"$WORK/batch.json"
    curve_record "$db" rd "$budget" "$rows" "$status" "@batch=$WORK/batch.json"
}

pg_or_my_audit() { # db -> the audit rows' timestamps, one per batch
    case "$1" in
        postgres) pgval "SELECT recorded_at FROM retentiond_audit ORDER BY id" ;;
        mariadb) myval "SELECT recorded_at FROM retentiond_audit ORDER BY id" ;;
    esac
}

curve_best_loop() { # db sleep_ms
    local db=$1 sleep_ms=$2 rows status
    CURVE_N=$((CURVE_N + 1))
    restore "$db"
    oltp_start "$db" "curve_$CURVE_N"
    T0=$(now)
    rows=$(best_loop "$db" "$sleep_ms" "$((CURVE_SECONDS * 1000))")
    T1=$(now)
    oltp_stop "$db" "$T0" "$T1" >"$WORK/oltp.json"
    status=$(verify_point "$db" "(e) with a $sleep_ms ms sleep" "$rows" "$(elapsed "$T0" "$T1")")
    batch_log "$db" e >"$WORK/batch.json"
    curve_record "$db" e "sleep $sleep_ms ms" "$rows" "$status" "@batch=$WORK/batch.json"
}

curve_pt_archiver() { # setting ("none" or pt-archiver's own options)
    local setting=$1 rows status dsn pacing=()
    CURVE_N=$((CURVE_N + 1))
    if [[ "$setting" != none ]]; then read -ra pacing <<<"$setting"; fi
    restore mariadb
    dsn="h=$MY_HOST,P=$MY_PORT,u=$MY_USER,D=$BENCH_DB,t=messages,A=utf8mb4"
    [[ -n "${MYSQL_PWD:-}" ]] && dsn="$dsn,p=$MYSQL_PWD"
    oltp_start mariadb "curve_$CURVE_N"
    T0=$(now)
    pt-archiver --source "$dsn" --purge --where "$PT_WHERE" --limit 1000 --commit-each \
        --bulk-delete --no-safe-auto-increment --statistics --run-time "${CURVE_SECONDS}s" \
        "${pacing[@]}" >"$WORK/pt_curve_$CURVE_N.out" 2>&1 ||
        die "pt-archiver ($setting) failed: $(tail -5 "$WORK/pt_curve_$CURVE_N.out")"
    T1=$(now)
    oltp_stop mariadb "$T0" "$T1" >"$WORK/oltp.json"
    rows=$(awk '$1 == "DELETE" { print $2 }' "$WORK/pt_curve_$CURVE_N.out")
    status=$(verify_point mariadb "pt-archiver $setting" "${rows:-0}" "$(elapsed "$T0" "$T1")")
    curve_record mariadb c "$setting" "${rows:-0}" "$status"
}

run_curve() { # db
    local db=$1 budget sleep_ms setting reason budgets sleeps
    log "$db: trade-off curve, each point at most $CURVE_SECONDS s"
    # The reference line: the load alone, unless the repetitions measured it already.
    if ! want idle; then run_idle "$db" curve; say_last; fi
    rd_check_curve_config "$db"
    local -A skipped=()
    IFS=',' read -ra budgets <<<"$CURVE_BUDGETS"
    for budget in "${budgets[@]}"; do
        budget=$(echo "$budget" | sed 's/^ *//; s/ *$//')
        if reason=$(rd_refuses_budget "$db" "$budget"); then
            log "$db: skipping retentiond at write_budget = \"$budget\": retentiond check refuses it: $reason"
            skipped[$reason]+="${skipped[$reason]:+, }\"$budget\""
        else
            curve_retentiond "$db" "$budget"
            say_last
        fi
    done
    for reason in "${!skipped[@]}"; do
        python3 "$LIB" meta --file "$META" "$db.curve_notes=retentiond's points skipped (write_budget = ${skipped[$reason]}): \`retentiond check\` refused the key: $reason"
    done
    IFS=',' read -ra sleeps <<<"$CURVE_SLEEPS"
    for sleep_ms in "${sleeps[@]}"; do
        curve_best_loop "$db" "$sleep_ms"
        say_last
    done
    if [[ "$db" == mariadb ]]; then
        for setting in "${PT_CURVE[@]}"; do
            curve_pt_archiver "$setting"
            say_last
        done
    fi
}

say_last() { # print the last result line briefly
    python3 - "$RESULTS" <<'EOF' >&2
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
o = r.get("oltp") or {}
msg = f"    {r['db']} {r['variant']} rep {r['rep']}:"
if r.get("variant") == "curve":
    msg = f"    {r['db']} curve {r['method']} {r['setting']} ({r['status']}):"
if r.get("rows"):
    msg += f" {r['rows']} rows in {r['seconds']:.2f} s ({r['rows'] / r['seconds']:,.0f} rows/s);"
elif r.get("seconds") is not None:
    msg += f" {r['seconds']:.2f} s;"
if o.get("p99") is not None:
    msg += f" OLTP p99 {o['p99']:.1f} ms (n={o['n']})"
print(msg)
EOF
}

# ---------------------------------------------------------------------------------------------

START=$(now)
rm -rf "$WORK"
mkdir -p "$WORK" "$BENCH/results"
prepare
python3 "$LIB" meta --file "$META" \
    "command=bench/run.sh${ORIG_ARGS:+ $ORIG_ARGS}" "scale=$SCALE" "reps=$REPS" \
    "date=$(date -u '+%Y-%m-%d %H:%M UTC')" \
    "host=$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB RAM", $2 / 1048576 }' /proc/meminfo)" \
    "notes=OLTP load: $OLTP_CLIENTS clients at $OLTP_RATE tx/s (read a customer, update it, insert a message for an active customer); latency from the scheduled start; n = transactions scheduled during the purge."

if [[ -n "$MY_POOL" ]] && [[ " ${DB_LIST[*]} " == *" mariadb "* ]]; then
    MY_POOL_ORIG=$(myq -N -e "SELECT @@innodb_buffer_pool_size")
    pool_bytes=$(python3 -c "
s='$MY_POOL'.strip().upper(); m={'K':1<<10,'M':1<<20,'G':1<<30}
print(int(float(s[:-1]) * m[s[-1]]) if s[-1] in m else int(s))")
    log "mariadb: innodb_buffer_pool_size $MY_POOL_ORIG -> $pool_bytes for this run"
    myq -e "SET GLOBAL innodb_buffer_pool_size = $pool_bytes"
    sleep 3
fi

for db in "${DB_LIST[@]}"; do
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    "setup_$db"
    for rep in $(seq 1 "$REPS"); do
        log "$db: repetition $rep of $REPS"
        if want idle; then run_idle "$db" "$rep"; say_last; fi
        if want a; then run_single_delete "$db" "$rep"; say_last; fi
        if want b; then run_server_loop "$db" "$rep"; say_last; fi
        if want e; then run_best_loop "$db" "$rep"; say_last; fi
        if want c && [[ "$db" == mariadb ]]; then run_pt_archiver "$rep"; say_last; fi
        if want default; then run_retentiond "$db" default "$rep"; say_last; fi
        if want fast; then run_retentiond "$db" fast "$rep"; say_last; fi
        # Right after a complete purge (fast's), so that the related-clock run finds nothing.
        if want nothing; then run_nothing_to_do "$db" "$rep"; say_last; fi
        if want archive; then
            if [[ "$db" == mariadb ]]; then run_pt_archive "$rep"; say_last; fi
            run_rd_archive "$db" "$rep"; say_last
        fi
        if want anon; then
            run_anonymize "$db" "$rep" default unpaced; say_last
        elif want anon-unpaced; then
            run_anonymize "$db" "$rep" unpaced; say_last
        fi
    done
    if (( CURVE )); then run_curve "$db"; fi
    # Other work on the machine skews every number: record the load average around the section.
    python3 "$LIB" meta --file "$META" "$db.notes=Load average (1/5/15 min) before this section: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)."
    if (( KEEP == 0 )); then
        case "$db" in
            postgres) pgq -d postgres -q -c "DROP DATABASE IF EXISTS $BENCH_DB" ;;
            mariadb) myq -e "DROP DATABASE IF EXISTS $BENCH_DB; DROP DATABASE IF EXISTS $ARCHIVE_DB" ;;
        esac
    fi
done

END=$(now)
python3 "$LIB" meta --file "$META" "notes=Whole run (build, data, all variants): $(python3 -c "print(f'{($END - $START) / 60:.1f}')") min."
echo
python3 "$LIB" report --results "$RESULTS" --meta "$META" --md "$BENCH/results/latest.md" --svg-dir "$BENCH/results"
log "done in $(python3 -c "print(f'{$END - $START:.0f}')") s; table written to bench/results/latest.md"
