#!/usr/bin/env python3
"""Statistics, the MariaDB OLTP load and the report for bench/run.sh (Python stdlib only).

Subcommands:
  latency    --format pgbench|plain --from T0 --to T1 FILE...   OLTP latencies in a time window
  batches                                                       per-batch times from timestamps on stdin
  oltp-mysql --out FILE --rate R --clients C --ncust N --nactive M [--seconds S] ...
  record     --out FILE key=value|@key=JSONFILE ...             append one measurement (JSON line)
  report     --results FILE --meta FILE --md FILE               the table: medians over repetitions
"""
import argparse
import json
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone


def pct(sorted_values, p):
    """Nearest-rank percentile of an ascending list (p in 0..100)."""
    if not sorted_values:
        return None
    k = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[k - 1]


# ---------------------------------------------------------------------------------------------
# OLTP latencies


def read_latencies(fmt, files, t_from, t_to):
    """Latencies (ms) of the transactions *scheduled* inside [t_from, t_to]: scheduled start =
    end - latency. (Selecting by end time would drop the transactions a purge stalls until
    after it has finished, which are exactly the slow ones.)"""
    out = []
    errors = 0
    for path in files:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if not parts:
                    continue
                try:
                    if fmt == "pgbench":
                        # client_id transaction_no latency_us script_no epoch_s epoch_us [lag_us]
                        # With -R the latency counts from the scheduled start (lag included).
                        if parts[2] in ("skipped", "failed"):
                            errors += 1
                            continue
                        end = int(parts[4]) + int(parts[5]) / 1e6
                        lat = int(parts[2]) / 1000.0
                    else:
                        # end_epoch latency_ms [error]
                        end = float(parts[0])
                        lat = float(parts[1])
                        if len(parts) > 2:
                            errors += 1
                except (IndexError, ValueError):
                    continue  # a line cut short when the load was stopped
                if t_from <= end - lat / 1000.0 <= t_to:
                    out.append(lat)
    return out, errors


def cmd_latency(a):
    lats, errors = read_latencies(a.format, a.files, a.t_from, a.t_to)
    lats.sort()
    span = max(a.t_to - a.t_from, 1e-9)
    res = {
        "n": len(lats),
        "p50": pct(lats, 50),
        "p99": pct(lats, 99),
        "max": lats[-1] if lats else None,
        "tps": len(lats) / span,
        "errors": errors,
    }
    print(json.dumps(res))


# ---------------------------------------------------------------------------------------------
# Per-batch times


def parse_ts(s):
    s = s.strip()
    try:
        return float(s)
    except ValueError:
        pass
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(s[:26], fmt).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            continue
    raise ValueError(f"not a timestamp: {s!r}")


def cmd_batches(a):
    """Timestamps (one per line, in batch order) -> batch durations as consecutive differences."""
    ts = [parse_ts(line) for line in sys.stdin if line.strip()]
    d = sorted((b - a_) * 1000.0 for a_, b in zip(ts, ts[1:]))
    seq = [(b - a_) * 1000.0 for a_, b in zip(ts, ts[1:])]
    tenth = max(1, len(seq) // 10)
    res = {
        "batches": len(d),
        "p50": pct(d, 50),
        "p99": pct(d, 99),
        "max": d[-1] if d else None,
        # Does the batch time stay flat? Median of the first and of the last tenth of the batches
        # (the very last, short, batch excluded), and the last batch on its own.
        "first10_p50": statistics.median(seq[:tenth]) if seq else None,
        "last10_p50": statistics.median(seq[-tenth - 1:-1] or seq[-1:]) if seq else None,
        "last": seq[-1] if seq else None,
    }
    print(json.dumps(res))


# ---------------------------------------------------------------------------------------------
# MariaDB OLTP load: each client is one `mariadb` client process fed through a pipe, so the
# load needs no Python driver. Open loop at a fixed rate: latency counts from the scheduled
# start (like pgbench -R), so a stalled transaction also delays the ones queued behind it.

STOP = threading.Event()


def oltp_client(idx, a, lock, out, deadline):
    cmd = [a.client, "-h", a.host, "-P", str(a.port), "-u", a.user, "--batch",
           "--skip-column-names", "--unbuffered", "--force", a.database]
    if a.password:
        cmd.insert(1, f"-p{a.password}")
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True, bufsize=1)
    rng = random.Random(1000 + idx)
    interval = a.clients / a.rate
    start = time.time() + idx * interval / a.clients
    i = 0
    try:
        while not STOP.is_set():
            scheduled = start + i * interval
            if deadline and scheduled > deadline:
                break
            now = time.time()
            if scheduled > now:
                if STOP.wait(scheduled - now):
                    break
            cid = rng.randint(1, a.ncust)
            act = rng.randint(1, a.nactive)
            marker = f"done-{idx}-{i}"
            sql = (
                "START TRANSACTION;"
                f"SELECT id, name, email, last_seen_at FROM customers WHERE id = {cid};"
                f"UPDATE customers SET last_seen_at = UTC_TIMESTAMP() WHERE id = {cid};"
                "INSERT INTO messages (customer_id, sent_at, direction, subject, body) "
                "SELECT customer_id, UTC_TIMESTAMP(), 'in', 'Hello', REPEAT('x', 500) "
                f"FROM bench_active WHERE n = {act};"
                f"SET @rc = ROW_COUNT(); COMMIT; SELECT @rc, '{marker}';\n"
            )
            p.stdin.write(sql)
            p.stdin.flush()
            while True:
                line = p.stdout.readline()
                if not line:
                    raise RuntimeError("the mariadb client ended")
                if line.rstrip("\n").endswith(marker):
                    # "1<TAB>marker" when the INSERT went through; a failed statement (e.g. a
                    # lock wait timeout) leaves -1 or NULL and counts as an error.
                    ok = line.split("\t")[0].strip() == "1"
                    break
            end = time.time()
            with lock:
                out.write(f"{end:.6f} {(end - scheduled) * 1000.0:.3f}{'' if ok else ' error'}\n")
            i += 1
    finally:
        try:
            p.stdin.close()
            p.wait(timeout=5)
        except Exception:
            p.kill()


def cmd_oltp_mysql(a):
    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    signal.signal(signal.SIGINT, lambda *_: STOP.set())
    deadline = time.time() + a.seconds if a.seconds else None
    lock = threading.Lock()
    with open(a.out, "w", buffering=1) as out:
        threads = [threading.Thread(target=oltp_client, args=(i, a, lock, out, deadline), daemon=True)
                   for i in range(a.clients)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(timeout=0.2)


# ---------------------------------------------------------------------------------------------
# Results


def cmd_meta(a):
    """Sets keys (dotted paths nest) in a JSON file, creating it if needed."""
    meta = {}
    if os.path.exists(a.file):
        with open(a.file) as f:
            meta = json.load(f)
    for kv in a.pairs:
        k, _, v = kv.partition("=")
        try:
            val = json.loads(v)
        except json.JSONDecodeError:
            val = v
        cur = meta
        parts = k.split(".")
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
        if parts[-1].endswith("notes"):
            cur.setdefault(parts[-1], []).append(val)
        else:
            cur[parts[-1]] = val
    with open(a.file, "w") as f:
        json.dump(meta, f, indent=1)


def cmd_record(a):
    rec = {}
    for kv in a.pairs:
        k, _, v = kv.partition("=")
        if k.startswith("@"):  # @name=FILE: the JSON in FILE
            with open(v) as f:
                rec[k[1:]] = json.load(f)
            continue
        try:
            rec[k] = json.loads(v)
        except json.JSONDecodeError:
            rec[k] = v
    with open(a.out, "a") as f:
        f.write(json.dumps(rec) + "\n")


VARIANTS = {
    "postgres": [
        ("idle", "no purge (OLTP load only)"),
        ("a", "(a) one DELETE (semi-join)"),
        ("b", "(b) server-side loop, 1000 rows + COMMIT"),
        ("e", "(e) best loop: expired customers once, 1000 rows + COMMIT"),
        ("rd_default", "(d) retentiond, defaults (1000 rows)"),
        ("rd_fast", "(d) retentiond, fast (10000 rows, no pause)"),
        ("archive_rd", "(f) retentiond archive to a SQLite file, fast (10000 rows)"),
    ],
    "mariadb": [
        ("idle", "no purge (OLTP load only)"),
        ("a", "(a) one DELETE (multi-table JOIN)"),
        ("b", "(b) stored-procedure loop, 1000 rows + COMMIT"),
        ("e", "(e) best loop: expired customers once, 1000 rows + COMMIT"),
        ("c", "(c) pt-archiver --bulk-delete --limit 1000"),
        ("rd_default", "(d) retentiond, defaults (1000 rows)"),
        ("rd_fast", "(d) retentiond, fast (10000 rows, no pause)"),
        ("archive_pt", "(g) pt-archiver --dest (2nd database) --bulk-insert --bulk-delete --limit 1000"),
        ("archive_rd", "(f) retentiond archive to a 2nd database, fast (10000 rows)"),
    ],
}


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def get(rec, path):
    cur = rec
    for p in path.split("."):
        if not isinstance(cur, dict) or p not in cur:
            return None
        cur = cur[p]
    return cur


def fmt(v, nd=1, unit=""):
    if v is None:
        return "–"
    if isinstance(v, float) and nd == 0:
        return f"{v:,.0f}{unit}"
    if isinstance(v, int):
        return f"{v:,}{unit}"
    return f"{v:,.{nd}f}{unit}"


def cmd_report(a):
    recs = []
    with open(a.results) as f:
        for line in f:
            if line.strip():
                recs.append(json.loads(line))
    meta = {}
    if a.meta and os.path.exists(a.meta):
        with open(a.meta) as f:
            meta = json.load(f)
    lines = []
    lines.append(f"Command: `{meta.get('command', '?')}`  ")
    lines.append(
        f"Scale {meta.get('scale')} · {meta.get('reps')} repetition(s), medians shown · "
        f"{meta.get('date', '')} · {meta.get('host', '')}  "
    )
    if meta.get("notes"):
        for n in meta["notes"]:
            lines.append(f"{n}  ")
    lines.append("")
    for db, variants in VARIANTS.items():
        dbrecs = [r for r in recs if r.get("db") == db]
        if not dbrecs:
            continue
        m = meta.get(db, {})
        lines.append(f"### {db}: purge of messages 6 months after the last subscription ended")
        lines.append("")
        if m:
            lines.append(
                f"{m.get('version', '')} · {m.get('settings', '')} · messages: {m.get('messages', '?'):,} rows "
                f"({m.get('messages_size', '?')}), expired: {m.get('expected', '?'):,} · "
                f"customers {m.get('customers', '?'):,}, subscriptions {m.get('subscriptions', '?'):,}, "
                f"invoices {m.get('invoices', '?'):,}, payments {m.get('payments', '?'):,}, "
                f"consents {m.get('consents', '?'):,} · dataset generated in {m.get('gen_seconds', 0):.1f} s"
            )
            for n in m.get("notes", []):
                lines.append(f"{n}  ")
            lines.append("")
        lines.append(
            "| variant | rows deleted | s | rows/s | batches | batch p50 / p99 / max ms | "
            "OLTP p50 / p99 / max ms (n) | peak RSS MB |"
        )
        lines.append("|---|---:|---:|---:|---:|---|---|---:|")
        summary = {}
        for key, label in variants:
            rs = [r for r in dbrecs if r.get("variant") == key]
            if not rs:
                continue
            rows = med([r.get("rows") for r in rs])
            secs = med([r.get("seconds") for r in rs])
            rps = med([r["rows"] / r["seconds"] for r in rs if r.get("rows") and r.get("seconds")])
            summary[key] = rps
            nb = med([r.get("batches", get(r, "batch.batches")) for r in rs])
            bavg = med([get(r, "batch_avg_ms") for r in rs])
            b50 = med([get(r, "batch.p50") for r in rs])
            b99 = med([get(r, "batch.p99") for r in rs])
            bmax = med([get(r, "batch.max") for r in rs])
            if b50 is not None:
                bcol = f"{fmt(b50)} / {fmt(b99)} / {fmt(bmax)}"
            elif bavg is not None:
                bcol = f"avg {fmt(bavg)}"
            else:
                bcol = "–"
            o50 = med([get(r, "oltp.p50") for r in rs])
            o99 = med([get(r, "oltp.p99") for r in rs])
            omax = med([get(r, "oltp.max") for r in rs])
            on = med([get(r, "oltp.n") for r in rs])
            oerr = sum(get(r, "oltp.errors") or 0 for r in rs)
            ocol = "–" if o99 is None else (
                f"{fmt(o50)} / {fmt(o99)} / {fmt(omax)} ({fmt(int(on)) if on is not None else '?'})"
                + (f", {oerr} errors" if oerr else "")
            )
            rss = med([r.get("rss_kb") for r in rs])
            capped = [r.get("limit_s") for r in rs if r.get("status") == "capped"]
            if capped:
                label += f", stopped at its {capped[0]} s limit ({len(capped)} of {len(rs)})"
            lines.append(
                f"| {label} | {fmt(int(rows)) if rows is not None else '–'} | {fmt(secs, 2)} | "
                f"{fmt(rps, 0)} | {fmt(int(nb)) if nb is not None else '–'} | {bcol} | {ocol} | "
                f"{fmt(rss / 1024.0, 1) if rss else '–'} |"
            )
        lines.append("")
        idle99 = med([get(r, "oltp.p99") for r in dbrecs if r.get("variant") == "idle"])
        for rk, rl in (("rd_default", "retentiond defaults"), ("rd_fast", "retentiond fast")):
            p99 = med([get(r, "oltp.p99") for r in dbrecs if r.get("variant") == rk])
            if idle99 and p99 is not None:
                lines.append(f"OLTP p99 under {rl}: {p99 / idle99:.1f}× its idle p99 "
                             f"({fmt(p99)} against {fmt(idle99)} ms).  ")
        lines.append("")
        ratio_cols = [k for k in ("a", "b", "c", "e") if summary.get(k)]
        if ratio_cols and (summary.get("rd_default") or summary.get("rd_fast")):
            head = " | ".join(f"retentiond / ({k})" for k in ratio_cols)
            lines.append(f"| rows/s ratio | {head} |")
            lines.append("|---|" + "---:|" * len(ratio_cols))
            for rk, rl in (("rd_default", "retentiond defaults"), ("rd_fast", "retentiond fast")):
                if summary.get(rk):
                    cells = " | ".join(f"{summary[rk] / summary[k]:.2f}×" for k in ratio_cols)
                    lines.append(f"| {rl} | {cells} |")
            lines.append("")
        if summary.get("archive_rd"):
            against = [(k, label) for k, label in (("archive_pt", "pt-archiver --dest (g)"),
                                                   ("rd_fast", "retentiond's plain delete, fast (d)"))
                       if summary.get(k)]
            if against:
                lines.append("Archiving (f) against: " + ", ".join(
                    f"{label} {summary['archive_rd'] / summary[k]:.2f}×" for k, label in against) + ".")
                lines.append("")
        anon = {k: [r for r in dbrecs if r.get("variant") == k]
                for k in ("anon_a", "anon_rd", "anon_rdunpaced")}
        if anon["anon_a"] and (anon["anon_rd"] or anon["anon_rdunpaced"]):
            lines.append("Anonymization of former customers (name redacted, e-mail hashed, IP truncated), no load:")
            lines.append("")
            lines.append("| variant | rows | s | rows/s | peak RSS MB |")
            lines.append("|---|---:|---:|---:|---:|")
            rps = {}
            for k, label in (("anon_a", "one UPDATE (SHA-256 in SQL)"),
                             ("anon_rd", "retentiond, defaults (keyed HMAC)"),
                             ("anon_rdunpaced", 'retentiond, write_budget = "off" (keyed HMAC)')):
                rs = anon[k]
                if not rs:
                    continue
                rows = med([r.get("rows") for r in rs])
                rps[k] = med([r["rows"] / r["seconds"] for r in rs if r.get("rows") and r.get("seconds")])
                rss = med([r.get("rss_kb") for r in rs])
                lines.append(f"| {label} | {fmt(int(rows)) if rows is not None else '–'} | "
                             f"{fmt(med([r.get('seconds') for r in rs]), 2)} | {fmt(rps[k], 0)} | "
                             f"{fmt(rss / 1024.0, 1) if rss else '–'} |")
            ratios = [f"{rps[k] / rps['anon_a']:.2f}× {how}"
                      for k, how in (("anon_rd", "with the defaults"), ("anon_rdunpaced", "unpaced"))
                      if rps.get("anon_a") and rps.get(k)]
            if ratios:
                lines.append("")
                lines.append("retentiond / one UPDATE: " + ", ".join(ratios))
            lines.append("")
        own = med([r.get("seconds") for r in dbrecs if r.get("variant") == "idle_own"])
        rel = med([r.get("seconds") for r in dbrecs if r.get("variant") == "idle_related"])
        if own is not None or rel is not None:
            lines.append(
                f"A run that finds nothing (whole command, median of 3): {fmt(own, 2)} s with an indexed "
                f"clock (invoices.issued_at, {m.get('invoices', 0):,} rows), {fmt(rel, 2)} s for the messages "
                "policy right after its purge (related clock: every message is checked).")
            lines.append("")
        # Where the time goes: retentiond's time before the first batch (connect, checks, the
        # plan's counts), in the batches, after the last batch (backlog count); and whether the
        # batch time stays flat from the first batch to the last.
        for rk, rl in (("b", "(b) server-side loop"), ("e", "(e) best loop"),
                       ("rd_default", "retentiond defaults"),
                       ("rd_fast", "retentiond fast")):
            rs = [r for r in dbrecs if r.get("variant") == rk]
            if not rs or not any(get(r, "batch.batches") for r in rs):
                continue
            f10 = med([get(r, "batch.first10_p50") for r in rs])
            l10 = med([get(r, "batch.last10_p50") for r in rs])
            last = med([get(r, "batch.last") for r in rs])
            text_ = f"- {rl}: "
            if rk.startswith("rd_"):
                pre = med([r.get("before_first_batch_s") for r in rs])
                dur = med([r.get("batches_s") for r in rs])
                post = med([r.get("after_last_batch_s") for r in rs])
                text_ += (f"{fmt(pre, 2)} s before the first batch, {fmt(dur, 2)} s of batches, "
                          f"{fmt(post, 2)} s after the last; ")
            text_ += (f"batch time p50 over the first tenth of the batches {fmt(f10)} ms, over the last "
                      f"tenth {fmt(l10)} ms, the final (short) batch {fmt(last)} ms.")
            lines.append(text_)
        lines.append("")
        points = curve_points(dbrecs)
        if points:
            idle = med([get(r, "oltp.p99") for r in dbrecs if r.get("variant") == "idle"])
            lines.extend(curve_table(db, points, idle, m, meta))
            if a.svg_dir:
                name = f"curve-{db}.svg"
                with open(os.path.join(a.svg_dir, name), "w") as f:
                    f.write(curve_svg(db, points, idle, meta))
                lines.append(f"![{db}: rows/s against the load's p99]({name})")
                lines.append("")
    text = "\n".join(lines)
    print(text)
    if a.md:
        with open(a.md, "w") as f:
            f.write("# retentiond benchmark: latest run\n\n")
            f.write("Written by `bench/run.sh`; see bench/README.md for what is measured.\n\n")
            f.write(text + "\n")


# ---------------------------------------------------------------------------------------------
# The trade-off curve: purge speed against the load's p99 at several pacing settings

CURVE_METHODS = [
    # method, legend, colour, marker
    ("rd", "retentiond, [run] write_budget", "#1f5fa8", "circle"),
    ("e", "(e) best loop, sleep after each batch", "#c8372d", "square"),
    ("c", "(c) pt-archiver --sleep / --sleep-coef", "#2e8b3a", "triangle"),
]


def curve_points(dbrecs):
    """One point per curve measurement, in the order measured."""
    out = []
    for r in dbrecs:
        if r.get("variant") != "curve":
            continue
        rps = r["rows"] / r["seconds"] if r.get("rows") and r.get("seconds") else None
        out.append({
            "method": r.get("method"), "setting": str(r.get("setting")), "rows": r.get("rows"),
            "seconds": r.get("seconds"), "rps": rps, "status": r.get("status"),
            "limit": r.get("limit_s"), "p50": get(r, "oltp.p50"), "p99": get(r, "oltp.p99"),
            "max": get(r, "oltp.max"), "n": get(r, "oltp.n"), "errors": get(r, "oltp.errors") or 0,
            "b50": get(r, "batch.p50"), "b99": get(r, "batch.p99"),
        })
    return out


def curve_table(db, points, idle, m, meta):
    limit = next((p["limit"] for p in points if p["limit"]), None)
    lines = [
        f"#### {db}: trade-off curve (purge speed against the load's p99)",
        "",
        f"Each point: a fresh copy, the same OLTP load, the purge for at most {fmt(limit)} s "
        "(\"stopped at the limit\": it reached that limit with part of the expired rows deleted, all of them "
        "expired; rows/s is over its own run). One run per point. OLTP p99 with no purge: "
        f"{fmt(idle)} ms.",
        "",
    ]
    for n in m.get("curve_notes", []):
        lines.append(f"{n}  ")
    if m.get("curve_notes"):
        lines.append("")
    lines.append("| method | setting | rows deleted | s | rows/s | batch p50 / p99 ms | "
                 "OLTP p50 / p99 / max ms (n) | p99 × no purge | |")
    lines.append("|---|---|---:|---:|---:|---|---|---:|---|")
    names = {k: label for k, label, _, _ in CURVE_METHODS}
    order = {k: i for i, (k, _, _, _) in enumerate(CURVE_METHODS)}
    for p in sorted(points, key=lambda p: (order.get(p["method"], 9), -(p["rps"] or 0))):
        ocol = "–" if p["p99"] is None else (
            f"{fmt(p['p50'])} / {fmt(p['p99'])} / {fmt(p['max'])} ({fmt(p['n'])})"
            + (f", {p['errors']} errors" if p["errors"] else ""))
        ratio = f"{p['p99'] / idle:.1f}×" if p["p99"] and idle else "–"
        bcol = "–" if p["b50"] is None else f"{fmt(p['b50'])} / {fmt(p['b99'])}"
        lines.append(
            f"| {names.get(p['method'], p['method'])} | `{p['setting']}` | {fmt(p['rows'])} | "
            f"{fmt(p['seconds'], 1)} | {fmt(p['rps'], 0)} | {bcol} | {ocol} | {ratio} | "
            f"{'stopped at the limit' if p['status'] == 'capped' else ''} |")
    lines.append("")
    return lines


def nice_log_ticks(lo, hi):
    """1-2-5 ticks between lo and hi (both > 0)."""
    ticks = []
    k = math.floor(math.log10(lo))
    while 10 ** k <= hi * 10:
        for f in (1, 2, 5):
            v = f * 10 ** k
            if lo <= v <= hi:
                ticks.append(v)
        k += 1
    return ticks


def tick_label(v):
    if v >= 1000:
        return f"{v / 1000:g}k"
    return f"{v:g}"


def curve_svg(db, points, idle, meta):
    """The curve as an SVG drawn by hand: log x = rows/s, log y = OLTP p99 ms, one line per
    method through its points in order of speed, each point labelled with its setting, the
    no-purge p99 as a dashed reference line."""
    from xml.sax.saxutils import escape

    pts = [p for p in points if p["rps"] and p["p99"]]
    W, H = 900, 600
    left, right, top, bottom = 80, 40, 86, 64
    pw, ph = W - left - right, H - top - bottom
    xs = [p["rps"] for p in pts] or [1.0]
    ys = [p["p99"] for p in pts] + ([idle] if idle else []) or [1.0]
    x_lo, x_hi = min(xs) / 1.6, max(xs) * 1.6
    y_lo, y_hi = min(ys) / 1.6, max(ys) * 1.8

    def X(v):
        return left + (math.log10(v) - math.log10(x_lo)) / (math.log10(x_hi) - math.log10(x_lo)) * pw

    def Y(v):
        return top + ph - (math.log10(v) - math.log10(y_lo)) / (math.log10(y_hi) - math.log10(y_lo)) * ph

    o = []
    o.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
             'font-family="Helvetica, Arial, sans-serif" font-size="12">')
    o.append(f'<rect width="{W}" height="{H}" fill="white"/>')
    title = (f"{db}: purge speed against the website's p99 latency "
             f"(scale {meta.get('scale', '?')}, {meta.get('date', '')})")
    o.append(f'<text x="{W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">'
             f'{escape(title)}</text>')
    # Legend above the plot, where no point can be; an entry that would not fit starts a
    # second row (the width of a label is estimated: SVG has no text measurement).
    entries = [(label, colour, marker, None) for key, label, colour, marker in CURVE_METHODS
               if any(p["method"] == key for p in pts)]
    if idle:
        entries.append(("no purge", "#777", None, "6,4"))
    lx, ly = left, 48
    for label, colour, marker, dash in entries:
        width = 50 + 6.2 * len(label)
        if lx > left and lx + width > W - right:
            lx, ly = left, ly + 20
        o.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 28}" y2="{ly}" stroke="{colour}" stroke-width="2"'
                 + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
        if marker:
            o.append(svg_marker(marker, lx + 14, ly, colour))
        o.append(f'<text x="{lx + 34}" y="{ly + 4}">{escape(label)}</text>')
        lx += width
    # Grid and axes.
    o.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    for v in nice_log_ticks(x_lo, x_hi):
        x = X(v)
        o.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#e4e4e4"/>')
        o.append(f'<text x="{x:.1f}" y="{top + ph + 18}" text-anchor="middle">{tick_label(v)}</text>')
    for v in nice_log_ticks(y_lo, y_hi):
        y = Y(v)
        o.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#e4e4e4"/>')
        o.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{tick_label(v)}</text>')
    o.append(f'<text x="{left + pw / 2}" y="{H - 16}" text-anchor="middle" font-size="13">'
             'rows deleted per second (log scale) — faster →</text>')
    o.append(f'<text transform="translate(22 {top + ph / 2}) rotate(-90)" text-anchor="middle" '
             'font-size="13">OLTP p99 latency during the purge, ms (log scale)</text>')
    if idle:
        y = Y(idle)
        o.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#777" '
                 'stroke-width="1.5" stroke-dasharray="6,4"/>')
        o.append(f'<text x="{left + pw - 6}" y="{y - 6:.1f}" text-anchor="end" fill="#555">'
                 f'no purge: p99 {idle:.1f} ms</text>')
    for key, _, colour, marker in CURVE_METHODS:
        mine = sorted((p for p in pts if p["method"] == key), key=lambda p: p["rps"])
        if not mine:
            continue
        path = " ".join(f"{X(p['rps']):.1f},{Y(p['p99']):.1f}" for p in mine)
        o.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        # Neighbouring points' labels alternate above and below, so that close ones stay legible.
        for i, p in enumerate(mine):
            x, y = X(p["rps"]), Y(p["p99"])
            o.append(svg_marker(marker, x, y, colour))
            o.append(f'<text x="{x + 8:.1f}" y="{y - 8 if i % 2 == 0 else y + 16:.1f}" fill="{colour}" font-size="11" '
                     'stroke="white" stroke-width="3" paint-order="stroke">'
                     f'{escape(p["setting"])}</text>')
    o.append("</svg>")
    return "\n".join(o) + "\n"


def svg_marker(kind, x, y, colour):
    if kind == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}"/>'
    if kind == "triangle":
        return (f'<polygon points="{x:.1f},{y - 5:.1f} {x - 5:.1f},{y + 4:.1f} {x + 5:.1f},{y + 4:.1f}" '
                f'fill="{colour}"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}"/>'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("latency")
    p.add_argument("--format", choices=["pgbench", "plain"], required=True)
    p.add_argument("--from", dest="t_from", type=float, required=True)
    p.add_argument("--to", dest="t_to", type=float, required=True)
    p.add_argument("files", nargs="+")
    p.set_defaults(fn=cmd_latency)

    p = sub.add_parser("batches")
    p.set_defaults(fn=cmd_batches)

    p = sub.add_parser("oltp-mysql")
    p.add_argument("--out", required=True)
    p.add_argument("--rate", type=float, default=200)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--ncust", type=int, required=True)
    p.add_argument("--nactive", type=int, required=True)
    p.add_argument("--seconds", type=float, default=0)
    p.add_argument("--client", default="mariadb")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3306)
    p.add_argument("--user", default="root")
    p.add_argument("--password", default="")
    p.add_argument("--database", default="rd_bench")
    p.set_defaults(fn=cmd_oltp_mysql)

    p = sub.add_parser("record")
    p.add_argument("--out", required=True)
    p.add_argument("pairs", nargs="*")
    p.set_defaults(fn=cmd_record)

    p = sub.add_parser("meta")
    p.add_argument("--file", required=True)
    p.add_argument("pairs", nargs="*")
    p.set_defaults(fn=cmd_meta)

    p = sub.add_parser("report")
    p.add_argument("--results", required=True)
    p.add_argument("--meta")
    p.add_argument("--md")
    p.add_argument("--svg-dir", help="where the curve's SVGs go (curve-<db>.svg)")
    p.set_defaults(fn=cmd_report)

    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
