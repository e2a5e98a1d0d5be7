"""Only a cancelled job's Beam data-plane reader is silenced; other thread errors still print."""

from __future__ import annotations

import threading

import grpc

from mlsql.runtime.worker_noise import _is_cancelled_reader


class _Rpc(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code


def _args(error: BaseException, thread_name: str) -> threading.ExceptHookArgs:
    thread = threading.Thread(name=thread_name)
    return threading.ExceptHookArgs((type(error), error, None, thread))


def test_the_cancelled_reader_is_silenced():
    assert _is_cancelled_reader(_args(_Rpc(grpc.StatusCode.CANCELLED),
                                      "read_grpc_client_inputs"))


def test_other_errors_and_threads_are_not():
    assert not _is_cancelled_reader(_args(_Rpc(grpc.StatusCode.UNAVAILABLE),
                                          "read_grpc_client_inputs"))
    assert not _is_cancelled_reader(_args(ValueError("real"), "read_grpc_client_inputs"))
    assert not _is_cancelled_reader(_args(_Rpc(grpc.StatusCode.CANCELLED), "worker"))
