"""Silence one harmless traceback of PyFlink's in-process Python workers.

On the embedded mini-cluster Python UDFs run in this process (Beam's "loopback" workers).
When a job with such UDFs is cancelled (a notebook preview at its limit, Ctrl-C, a gateway
client closing its query), the worker's data-plane reader thread ends with gRPC's
CANCELLED "Multiplexer hanging up" and Python prints that thread's traceback to stderr,
in a notebook into whatever cell runs next. It is the cancellation itself, not a failure:
drop exactly that, and hand every other thread exception to the hook that was there.
"""

from __future__ import annotations

import threading

_READER_THREAD = "read_grpc_client_inputs"  # apache_beam.runners.worker.data_plane
_installed = False


def quiet_cancelled_workers() -> None:
    """Install the filter once per process."""
    global _installed
    if _installed:
        return
    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if not _is_cancelled_reader(args):
            previous(args)

    threading.excepthook = hook
    _installed = True


def _is_cancelled_reader(args: threading.ExceptHookArgs) -> bool:
    if args.thread is None or args.thread.name != _READER_THREAD:
        return False
    import grpc

    error = args.exc_value
    return isinstance(error, grpc.RpcError) and error.code() == grpc.StatusCode.CANCELLED
