"""PostgreSQL statements per accepted and per delivered message, counted from the server's own log.

    python bench/pg_round_trips.py --database postgresql://postgres@127.0.0.1:5432/bench \
        [--messages 500] [--connections 1,32] [--log /var/log/postgresql/postgresql-15-main.log]

Turns on `log_statement = all` for that one database (ALTER DATABASE; reset at the end), starts a gateway
with send_bench's Heliograph (the database's schema is WIPED), then for each concurrency:

1. accept  N sends with the sender paced at 0.01 MPS, so the workers leave them queued: what the API
           costs alone (the workers' wake-up claims that find nothing are counted apart);
2. deliver make them all due at once (one UPDATE of ours, not counted) and wait until every message
           is delivered and its two webhooks are acknowledged: what the workers cost.

Every statement the database executed for it is counted, grouped by kind. A statement is at most one
round trip: asyncpg sends the statements of an executemany in one pipeline, so that counts its rows.
Needs read access to the PostgreSQL log (root, or the adm group on Debian).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import send_bench as sb

MARK = "/* bench */"  # our own statements (and send_bench's CPU sampling), not counted


def psql(url: str, sql: str) -> str:
    done = subprocess.run([*sb._psql(url), "-Atc", f"{MARK} {sql}"], capture_output=True, text=True, timeout=60)
    if done.returncode:
        raise RuntimeError(done.stderr)
    return done.stdout.strip()


def kind(statement: str) -> str:
    s = re.sub(r"\s+", " ", statement).strip()
    s = re.sub(r"^(execute [^:]+: |statement: )", "", s)
    upper = s.upper()
    if upper in ("BEGIN", "COMMIT", "ROLLBACK") or upper.startswith("BEGIN ISOLATION"):
        return upper.split()[0]
    m = re.match(r"(INSERT INTO \w+|UPDATE \w+|DELETE FROM \w+|WITH|SELECT)", s, re.I)
    head = m.group(1) if m else s[:30]
    if head.upper() == "SELECT":
        tables = re.findall(r"FROM (\w+)", s)
        head = "SELECT " + (tables[0] if tables else s[7:30])
    if head.startswith("UPDATE messages") and "SKIP LOCKED" in upper:
        head += " (claim)"
    if head.startswith("UPDATE webhook_events") and "SKIP LOCKED" in upper:
        head += " (claim)"
    return head


def statements(log: Path, start: int, database: str) -> tuple[Counter, int]:
    """Statements by kind, and the round trips they took: consecutive executions of one INSERT, UPDATE or
    DELETE on one connection are one pipelined executemany, so they count as one round trip."""
    tag = f"@{database} "
    out: Counter = Counter()
    last_kind: dict[str, str] = {}
    trips = 0
    current: tuple[str, str] | None = None  # (pid, text)

    def close() -> None:
        nonlocal trips
        if current is None:
            return
        pid, text = current
        k = kind(text)
        out[k] += 1
        if last_kind.get(pid) != k or not k.startswith(("INSERT", "UPDATE", "DELETE")) or "(claim)" in k:
            trips += 1
        last_kind[pid] = k

    with log.open("rb") as f:
        f.seek(start)
        for raw in f:
            line = raw.decode(errors="replace")
            if tag in line and "LOG:  " in line:
                body = line.split("LOG:  ", 1)[1]
                if body.startswith(("statement:", "execute ")):
                    close()
                    pid = line.split("[", 1)[1].split("]", 1)[0]
                    current = (pid, body) if MARK not in body else None
                    continue
            if current is not None and line.startswith(("\t", " ")):  # a statement's continuation line
                current = (current[0], current[1] + " " + line.strip())
                continue
            close()
            current = None
        close()
    return out, trips


def send_all(hg: sb.Heliograph, n: int, connections: int, offset: int) -> None:
    def one(i: int) -> None:
        body = {"from": hg.sender, "to": f"+1312555{offset + i:04d}", "text": "round trips"}
        status, answer = hg.api("POST", "/v2/messages", body)
        if status != 200:
            raise RuntimeError(f"send answered {status}: {answer[:300]!r}")

    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(one, range(n)))


def report(name: str, found: tuple[Counter, int], n: int) -> dict:
    counts, trips = found
    total = sum(counts.values())
    print(f"  {name}: {total} statements, {total / n:.2f} per message; {trips / n:.2f} round trips per message")
    for k, v in counts.most_common():
        print(f"      {v / n:7.3f}  {k}")
    return {
        "statements_per_message": round(total / n, 3),
        "round_trips_per_message": round(trips / n, 3),
        "by_kind": dict(counts),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--connections", default="1,32")
    parser.add_argument("--log", default="/var/log/postgresql/postgresql-15-main.log")
    parser.add_argument(
        "--cpu-only",
        action="store_true",
        help="do not log statements (logging costs PostgreSQL CPU): only CPU per message, per phase",
    )
    args = parser.parse_args()
    log = Path(args.log)
    database = args.database.rsplit("/", 1)[1].split("?")[0]
    bench_args = argparse.Namespace(
        database=args.database, processes=1, dlr_delay_ms=50, sender_mps=0.01, server_env=[
            "HELIOGRAPH_QUEUE_TTL_SECONDS=100000000"
        ],
    )  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="heliograph-rt-"))
    setting = "none" if args.cpu_only else "all"
    psql(args.database.rsplit("/", 1)[0] + "/postgres", f"ALTER DATABASE {database} SET log_statement = '{setting}'")
    hg = sb.Heliograph(bench_args, work)
    results = {}
    try:
        hg.start()
        offset = 0
        for connections in [int(c) for c in args.connections.split(",")]:
            n = args.messages
            print(f"{n} messages over {connections} connection(s)")
            before = psql(args.database, "SELECT count(*) FROM messages WHERE status = 'delivered'")
            start = log.stat().st_size
            cpu0 = hg.cpu()
            wal0 = psql(args.database, "SELECT pg_current_wal_lsn()")
            t0 = time.monotonic()
            send_all(hg, n, connections, offset)
            time.sleep(1.0)  # the last statements reach the log
            cpu1 = hg.cpu()
            wal1 = psql(args.database, "SELECT pg_current_wal_lsn()")
            accept_s = time.monotonic() - t0
            accepted = statements(log, start, database)
            start = log.stat().st_size
            psql(
                args.database,
                f"UPDATE messages SET due_at = 0 WHERE status = 'queued' AND to_number >= '+1312555{offset:04d}'",
            )
            want = int(before) + n
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                done = psql(
                    args.database,
                    "SELECT (SELECT count(*) FROM messages WHERE status = 'delivered'), "
                    "(SELECT count(*) FROM webhook_events WHERE status <> 'delivered')",
                )
                delivered, owed = (int(x) for x in done.split("|"))
                if delivered >= want and owed == 0:
                    break
                time.sleep(0.5)
            time.sleep(1.0)
            cpu2 = hg.cpu()
            wal2 = psql(args.database, "SELECT pg_current_wal_lsn()")
            delivered_counts = statements(log, start, database)
            results[connections] = {
                "accepted": report("accepted (API)", accepted, n),
                "delivered": report("delivered (workers, 2 webhooks each)", delivered_counts, n),
            }
            wal = [
                int(psql(args.database, f"SELECT pg_wal_lsn_diff('{b}', '{a}')")) / n
                for a, b in ((wal0, wal1), (wal1, wal2))
            ]
            # the whole server's WAL: other databases on it add theirs (an upper bound on a shared server)
            print(f"  WAL bytes per message (server-wide): accept {wal[0]:.0f}, deliver {wal[1]:.0f}")
            for phase, a, b in (("accept", cpu0, cpu1), ("deliver", cpu1, cpu2)):
                per = {k: round(1000 * (b[k] - a[k]) / n, 3) for k in ("server", "postgres", "receiver", "pg_aux")}
                print(
                    f"  CPU ms per message, {phase}: {per}"
                    + (f" ({n / accept_s:.0f} msgs/s)" if phase == "accept" else "")
                )
            offset += n
    finally:
        hg.stop()
        sb.stop_all()
        psql(args.database.rsplit("/", 1)[0] + "/postgres", f"ALTER DATABASE {database} RESET log_statement")
    return 0


if __name__ == "__main__":
    sys.exit(main())
