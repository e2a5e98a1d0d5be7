"""How long each long-running README command takes to exit after its last line of output.

    python tests/benchmarks/shutdown.py [--commands 1,3,5,8,9] [--full-stream]

Each command runs as the README gives it (command 3, the streaming demo, with a shorter live
stream unless --full-stream); every line it writes, on stdout or stderr, is stamped as it
arrives. A command that looks hung is one whose last line comes long before it exits.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import summary

ROOT = Path(__file__).resolve().parents[2]
FRAUD = ROOT / "examples" / "fraud"
COMMANDS = {
    "1": [str(FRAUD / "run.py")],
    "3": [str(FRAUD / "streaming" / "run.py")],
    "5": [str(FRAUD / "gateway.py")],
    "8": [str(FRAUD / "table_api.py")],
    "9": [str(FRAUD / "flink_client.py")],
}
SHORT_STREAM = ["--cards", "300", "--history-days", "6", "--seconds", "5", "--rate", "500"]


def timed_run(arguments: list[str]) -> tuple[float, float, str]:
    """(seconds in all, seconds from the last output line to exit, that line)."""
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, *arguments], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, errors="replace")
    last = [started, ""]

    def read(stream) -> None:
        for line in stream:
            if line.strip():
                last[:] = [time.monotonic(), line.strip()]

    readers = [threading.Thread(target=read, args=(s,), daemon=True)
               for s in (process.stdout, process.stderr)]
    for reader in readers:
        reader.start()
    code = process.wait()
    ended = time.monotonic()
    for reader in readers:
        reader.join(5)
    if code != 0:
        sys.exit(f"{' '.join(arguments)} exited {code}")
    return ended - started, ended - last[0], str(last[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", default=",".join(COMMANDS))
    parser.add_argument("--full-stream", action="store_true")
    args = parser.parse_args()
    for number in args.commands.split(","):
        arguments = COMMANDS[number] + ([] if number != "3" or args.full_stream
                                        else SHORT_STREAM)
        total, silent, line = timed_run(arguments)
        print(f"command {number}: {total:.1f} s; its last line, {silent:.2f} s before it "
              f"exited: {line[:100]}", file=sys.stderr, flush=True)
        print(summary("shutdown", command=number, total_s=f"{total:.1f}",
                      last_line_to_exit_s=f"{silent:.2f}"), flush=True)


if __name__ == "__main__":
    main()
