"""What the gateway costs: opening a session, a statement's round trip, paging a result.

Starts `mlsql gateway` on a free port and talks to it over its REST API (the SQL client and
JDBC driver make these same calls), next to an in-process `Session` doing the same work:

- open: POST /sessions until the session answers (a worker process and its JVM start);
- round trip: SHOW MODELS through execute + status + fetch, against `Session.sql`;
- paging: a bounded datagen query of N rows fetched page by page (rowFormat=JSON), against
  `Session.sql(...)` collecting it into a DataFrame.

    python tests/benchmarks/gateway.py [--rows 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.common import free_port, load, summary, timed, timed_value

QUERY = "SELECT id, x FROM bench_rows WHERE x >= 0"
TABLE = ("CREATE TABLE bench_rows (id BIGINT, x DOUBLE) WITH ('connector' = 'datagen', "
         "'number-of-rows' = '{rows}', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', "
         "'fields.id.end' = '{rows}', 'fields.x.min' = '0', 'fields.x.max' = '1')")


class Client:
    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read())

    def run(self, session: str, statement: str) -> int:
        """Execute, then fetch every page; the number of rows."""
        handle = self.call("POST", f"/v4/sessions/{session}/statements",
                           {"statement": statement})["operationHandle"]
        uri, rows = f"/v4/sessions/{session}/operations/{handle}/result/0?rowFormat=JSON", 0
        while uri:
            page = self.call("GET", uri)
            if page["resultType"] == "NOT_READY":
                time.sleep(0.01)
            rows += len(page.get("results", {}).get("data", []))
            uri = page.get("nextResultUri")
        self.call("DELETE", f"/v4/sessions/{session}/operations/{handle}/close")
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    registry = tempfile.mkdtemp(prefix="mlsql-bench-registry-")
    port = free_port(8083)
    mlsql = Path(sys.executable).with_name("mlsql")
    gateway = subprocess.Popen([str(mlsql), "gateway", "--port", str(port), "--registry",
                                registry], stderr=subprocess.DEVNULL)
    client = Client(f"http://127.0.0.1:{port}")
    try:
        for _ in range(240):
            try:
                client.call("GET", "/v1/info")
                break
            except OSError:
                time.sleep(0.5)
        opened: list[float] = []
        for _ in range(args.repeat):
            seconds, reply = timed_value(lambda: client.call("POST", "/v4/sessions", {}))
            opened.append(seconds)
            client.call("DELETE", f"/v4/sessions/{reply['sessionHandle']}")
        session = client.call("POST", "/v4/sessions", {})["sessionHandle"]
        client.run(session, "SET 'execution.runtime-mode' = 'batch'")
        client.run(session, TABLE.format(rows=args.rows))

        from mlsql.session import Session

        local = Session(registry, mode="batch")
        local.sql(TABLE.format(rows=args.rows))
        trips = {"gateway": [], "session": []}
        pages = {"gateway": [], "session": []}
        for _ in range(args.repeat):  # interleaved, so both see the same machine load
            trips["gateway"].append(timed(lambda: client.run(session, "SHOW MODELS")))
            trips["session"].append(timed(lambda: local.sql("SHOW MODELS")))
            seconds = timed(lambda: _check(client.run(session, QUERY), args.rows))
            pages["gateway"].append(seconds)
            pages["session"].append(timed(lambda: _check(len(local.sql(QUERY)), args.rows)))
        client.call("DELETE", f"/v4/sessions/{session}")
    finally:
        gateway.terminate()
        gateway.wait(60)
    med = {k: statistics.median(v) for k, v in pages.items()}
    print(load())
    print(f"open a session: median {statistics.median(opened):.2f} s "
          f"(min {min(opened):.2f}, max {max(opened):.2f})")
    print(f"SHOW MODELS round trip: gateway {statistics.median(trips['gateway']) * 1000:.0f} ms, "
          f"in-process Session {statistics.median(trips['session']) * 1000:.0f} ms")
    for name, seconds in med.items():
        print(f"{args.rows:,} rows, {name}: {seconds:.2f} s ({args.rows / seconds:,.0f} rows/s)")
    print(summary("gateway", open_s=statistics.median(opened),
                  paging_ratio=med["session"] / med["gateway"],
                  gateway_rows_per_s=args.rows / med["gateway"]))


def _check(rows: int, expected: int) -> None:
    if rows != expected:
        raise SystemExit(f"fetched {rows} rows, expected {expected}")


if __name__ == "__main__":
    main()
