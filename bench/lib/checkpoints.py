"""Do the OLTP load's slow transactions line up with PostgreSQL's checkpoints?

Reads the server log (log_checkpoints = on, the default since PostgreSQL 15) and pgbench's
per-transaction logs that `bench/run.sh --keep` leaves in bench/work/, and prints per log: how
many WAL-triggered checkpoints overlapped the load, which share of the time their fsync phase
took, and how many of the transactions slower than 20 ms started inside such a phase.

    python3 bench/lib/checkpoints.py /var/log/postgresql/postgresql-15-main.log bench/work/pgblog_*
"""

import datetime
import re
import sys

SLOW_MS = 20.0


def checkpoints(server_log):
    """(start, fsync start, end) of every checkpoint started by WAL volume, in epoch seconds."""
    found, start = [], None
    stamp = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) UTC")
    for line in open(server_log, errors="replace"):
        m = stamp.match(line)
        if not m:
            continue
        ts = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
        ts = ts.replace(tzinfo=datetime.timezone.utc).timestamp()
        if "checkpoint starting: wal" in line:
            start = ts
        elif "checkpoint complete" in line and start is not None:
            sync = re.search(r"sync=([0-9.]+) s", line)
            found.append((start, ts - float(sync.group(1)) if sync else ts, ts))
            start = None
    return found


def transactions(pgbench_log):
    """(scheduled start, latency ms) of each transaction (pgbench -l with --rate)."""
    out = []
    for line in open(pgbench_log):
        f = line.split()
        if len(f) < 7:
            continue
        latency_ms = (int(f[2]) + int(f[6])) / 1000
        out.append((int(f[4]) + int(f[5]) / 1e6 - latency_ms / 1000, latency_ms))
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cps = checkpoints(sys.argv[1])
    for path in sys.argv[2:]:
        tx = transactions(path)
        if not tx:
            continue
        t0, t1 = tx[0][0], tx[-1][0]
        mine = [c for c in cps if c[2] >= t0 and c[0] <= t1]
        fsync = [(b, c) for _, b, c in mine]
        share = sum(max(0.0, min(c, t1) - max(b, t0)) for b, c in fsync) / max(t1 - t0, 1e-9)
        slow = [t for t, ms in tx if ms > SLOW_MS]
        inside = sum(1 for t in slow if any(b <= t <= c for b, c in fsync))
        print(
            f"{path}: {len(tx)} transactions, {len(mine)} WAL checkpoints, fsync phases "
            f"{share:.0%} of the time; {len(slow)} slower than {SLOW_MS:.0f} ms, "
            f"{inside} of them inside an fsync phase"
        )


if __name__ == "__main__":
    main()
