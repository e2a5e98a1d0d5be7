"""The fraud example through `mlsql gateway`, driven by Flink's own SQL client.

1. generate the fraud example's data (data/),
2. start `mlsql gateway` on a free port of 127.0.0.1 (in this directory: table paths are
   the gateway's), its log (training progress included) in data/gateway.log,
3. run PyFlink's bin/sql-client.sh in gateway mode with gateway_session.sql: CREATE MODEL,
   SHOW MODELS, ML_EVALUATE and ML_PREDICT, printed by the SQL client,
4. stop the gateway.

    python examples/fraud/gateway.py [--registry DIR]

Interactively: `mlsql gateway` in one terminal, `mlsql sql-client gateway --endpoint
127.0.0.1:8083` in another.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

from mlsql.services.processes import free_port  # noqa: E402

MLSQL = [sys.executable, "-m", "mlsql"]


def wait_for(url: str, gateway: subprocess.Popen, log: Path, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if gateway.poll() is not None:
            tail = "".join(log.read_text(errors="replace").splitlines(True)[-20:])
            raise SystemExit(f"the gateway exited; the end of {log}:\n{tail}")
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the gateway did not answer at {url}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", help="model registry (default: a fresh one under "
                                           "examples/fraud/data/registries/gateway)")
    args = parser.parse_args()
    os.chdir(HERE)
    generate.write(HERE / "data", 50_000, 1_000)
    registry = generate.example_registry("gateway", args.registry)
    env = {k: v for k, v in os.environ.items() if k != "PYFLINK_GATEWAY_DISABLED"}
    port = free_port()
    # The gateway's own lines (its sessions' training progress) go to a file, so that the
    # terminal shows the SQL client's session alone.
    log = HERE / "data" / "gateway.log"
    print(f"starting mlsql gateway on 127.0.0.1:{port}; its log: {log}", file=sys.stderr,
          flush=True)
    with log.open("w") as log_file:
        gateway = subprocess.Popen([*MLSQL, "gateway", "--port", str(port), "--registry",
                                    registry], env=env, stdout=log_file,
                                   stderr=subprocess.STDOUT)
    try:
        wait_for(f"http://127.0.0.1:{port}/v1/info", gateway, log)
        started = time.monotonic()
        code = subprocess.call([*MLSQL, "sql-client", "gateway", "--endpoint",
                                f"127.0.0.1:{port}", "-f", "gateway_session.sql"], env=env)
        print(f"SQL client session took {time.monotonic() - started:.1f} s; the gateway's "
              f"log, training progress included: {log}", file=sys.stderr)
        return code
    finally:
        gateway.terminate()
        gateway.wait(60)


if __name__ == "__main__":
    sys.exit(main())
