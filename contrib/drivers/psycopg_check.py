"""psycopg 3 against a pooler in transaction mode (contrib/drivers/run.sh).

DRV_CONNS connections per user of DRV_USERS run DRV_TX transactions each in
threads, every statement prepared at once (prepare_threshold=0), and check
every value; then one connection runs the edge cases.  Prints PASS or FAIL
as its last line; exits 1 on the first wrong value or unexpected error."""
import os
import subprocess
import sys
import threading

import psycopg
from psycopg import errors

HOST = os.environ["DRV_HOST"]
PORT = int(os.environ["DRV_PORT"])
DB = os.environ["DRV_DB"]
USERS = [u.split(":", 1) for u in os.environ["DRV_USERS"].split(",")]
CONNS = int(os.environ.get("DRV_CONNS", "8"))
TX = int(os.environ.get("DRV_TX", "200"))
RECONNECT = os.environ["DRV_RECONNECT"]
DRIVER = "psycopg"


class Failure(Exception):
    pass


def check(got, want, what):
    if got != want:
        raise Failure(f"{what}: got {got!r}, want {want!r}")


def connect(user, password, threshold=0):
    conn = psycopg.connect(host=HOST, port=PORT, dbname=DB, user=user, password=password,
                           autocommit=True, connect_timeout=10)
    conn.prepare_threshold = threshold
    return conn


def workload(conn, tag, k, pids):
    """TX transactions of four kinds, each checking its values."""
    mine = f"SELECT %s::int * {1000 + k} AS v, pg_backend_pid() AS pid"
    for i in range(TX):
        kind = (i + k) % 4
        if kind == 0:
            row = conn.execute("SELECT %s::int + %s::int AS v", (i, k)).fetchone()
            check(row[0], i + k, f"{tag} add {i}")
        elif kind == 1:
            v, pid = conn.execute(mine, (i,)).fetchone()
            check(v, i * (1000 + k), f"{tag} mine {i}")
            pids.add(pid)
        elif kind == 2:
            with conn.transaction():
                conn.execute("INSERT INTO drv_rows (driver, conn, i, v) VALUES (%s, %s, %s, %s)",
                             (DRIVER, tag, i, i * 3))
                row = conn.execute("SELECT v FROM drv_rows WHERE driver = %s AND conn = %s AND i = %s",
                                   (DRIVER, tag, i)).fetchone()
                check(row[0], i * 3, f"{tag} row {i}")
        else:
            # prepare=True asks for it explicitly, whatever the threshold.
            row = conn.execute("SELECT %s::text || '-' || %s::text AS s", (tag, str(i)),
                               prepare=True).fetchone()
            check(row[0], f"{tag}-{i}", f"{tag} text {i}")
    n = conn.execute("SELECT count(*) FROM drv_rows WHERE driver = %s AND conn = %s",
                     (DRIVER, tag)).fetchone()[0]
    check(n, sum(1 for i in range(TX) if (i + k) % 4 == 2), f"{tag} rows committed")


def expect_error(conn, sql, params, exc, what):
    try:
        conn.execute(sql, params)
    except exc:
        return
    raise Failure(f"{what}: no {exc.__name__}")


def edges(user, password):
    conn = connect(user, password)
    done = []
    # 1. The server changes under a prepared statement: RECONNECT closes
    # the pooler's servers, the next use lands on a new backend.
    q = "SELECT pg_backend_pid() AS pid, %s::int + 7 AS v"
    pid1, v = conn.execute(q, (1,)).fetchone()
    check(v, 8, "before reconnect")
    subprocess.run([RECONNECT], check=True)
    pid2, v = conn.execute(q, (2,)).fetchone()
    check(v, 9, "after reconnect")
    if pid1 == pid2:
        raise Failure(f"RECONNECT: still on backend {pid1}")
    done.append("server change")

    # 2. A statement error, then the same statement again, also in a block.
    div = "SELECT 10 / %s::int AS v"
    check(conn.execute(div, (2,)).fetchone()[0], 5, "div 2")
    expect_error(conn, div, (0,), errors.DivisionByZero, "div 0")
    check(conn.execute(div, (5,)).fetchone()[0], 2, "div 5 after error")
    try:
        with conn.transaction():
            check(conn.execute(div, (1,)).fetchone()[0], 10, "div 1 in block")
            conn.execute(div, (0,))
        raise Failure("div 0 in a block: no error")
    except errors.DivisionByZero:
        pass
    check(conn.execute(div, (10,)).fetchone()[0], 1, "div 10 after rollback")
    expect_error(conn, "SELEC %s::int", (1,), errors.SyntaxError, "bad parse")
    done.append("error then reuse")

    # A cancel (from another thread) while a prepared statement runs; the
    # pooler passes the CancelRequest to the server this client is on.
    sleep = "SELECT 7 FROM pg_sleep(%s::float8)"
    timer = threading.Timer(0.5, conn.cancel)
    timer.start()
    try:
        expect_error(conn, sleep, (30,), errors.QueryCanceled, "cancel")
    finally:
        timer.cancel()
    check(conn.execute(sleep, (0,)).fetchone()[0], 7, "after cancel")
    done.append("cancel")

    # 3. psycopg's own DEALLOCATE ALL: a ROLLBACK makes it forget its
    # statements and send DEALLOCATE ALL before the next query, then prepare
    # again.  A DEALLOCATE ALL or DISCARD ALL of the application's is not
    # noticed by psycopg 3.1: the next use fails with 26000 exactly as on
    # PostgreSQL itself (checked there by hand), and a ROLLBACK recovers.
    for cmd in ("DEALLOCATE ALL", "DISCARD ALL"):
        check(conn.execute(div, (2,)).fetchone()[0], 5, f"before {cmd}")
        conn.execute(cmd)
        try:
            check(conn.execute(div, (2,)).fetchone()[0], 5, f"after {cmd}")
        except errors.InvalidSqlStatementName:
            pass
        conn.execute("ROLLBACK")  # a warning outside a block; psycopg resets
        check(conn.execute(div, (2,)).fetchone()[0], 5, f"after {cmd} and reset")
        check(conn.execute(q, (3,)).fetchone()[1], 10, f"other after {cmd}")
    done.append("DEALLOCATE ALL/DISCARD ALL")

    # 4. A block that rolls back leaves nothing; one that commits stays.
    ins = "INSERT INTO drv_rows (driver, conn, i, v) VALUES (%s, 'edge', %s, %s)"
    cnt = "SELECT count(*) FROM drv_rows WHERE driver = %s AND conn = 'edge'"
    with conn.transaction():
        conn.execute(ins, (DRIVER, 1, 1))
        check(conn.execute(cnt, (DRIVER,)).fetchone()[0], 1, "inside block")
    with conn.transaction():
        conn.execute(ins, (DRIVER, 2, 2))
        check(conn.execute(cnt, (DRIVER,)).fetchone()[0], 2, "inside block 2")
        raise psycopg.Rollback()
    check(conn.execute(cnt, (DRIVER,)).fetchone()[0], 1, "after rollback")
    done.append("transaction blocks")

    # 5. Pipeline mode: several prepared executions in one round trip.
    with conn.pipeline():
        curs = [conn.execute("SELECT %s::int * 2 AS v", (n,), prepare=True) for n in range(10)]
    for n, cur in enumerate(curs):
        check(cur.fetchone()[0], n * 2, f"pipeline {n}")
    done.append("pipeline")

    # 6. More statements than psycopg's cache (prepared_max): it evicts the
    # oldest with SQL "DEALLOCATE name" (extended protocol), which a pooler
    # that renames statements must follow.  Reported, not counted as a
    # failure (PgBouncer does not follow it).
    conn.prepared_max = 5
    note = "prepared_max eviction (SQL DEALLOCATE name) works"
    try:
        for n in range(8):
            check(conn.execute(f"SELECT {n} + %s::int AS v", (1,)).fetchone()[0], n + 1, "evict")
    except psycopg.Error as e:
        note = f"prepared_max eviction (SQL DEALLOCATE name) fails: {e.sqlstate} {str(e).strip()}"
    conn.close()
    return done, note


def main():
    errors_seen = []
    pids = {}
    threads = []

    def run(user, password, k):
        tag = f"{user}/{k}"
        pids[tag] = set()
        try:
            with connect(user, password) as conn:
                workload(conn, tag, k, pids[tag])
        except Exception as e:  # noqa: BLE001 - every failure is reported
            errors_seen.append(f"{tag}: {type(e).__name__}: {e}")

    for user, password in USERS:
        for k in range(CONNS):
            threads.append(threading.Thread(target=run, args=(user, password, k)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors_seen:
        for e in errors_seen[:10]:
            print(e)
        print(f"FAIL {len(errors_seen)} of {len(threads)} connections failed; first: {errors_seen[0]}")
        return 1
    backends = len(set().union(*pids.values()))
    try:
        done, note = edges(*USERS[0])
    except Exception as e:  # noqa: BLE001
        print(f"FAIL edge cases: {type(e).__name__}: {e}")
        return 1
    print(f"note: {note}")
    print(f"PASS transactions={len(threads) * TX} connections={len(threads)} backends={backends} "
          f"edges: {', '.join(done)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
