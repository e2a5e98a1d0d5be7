"""A process killed (SIGKILL) at every filesystem step of publishing a version, ALTER (the
default version), RENAME and DROP, and at random times, leaves a registry that lists only
whole versions, never hands out a version number twice, still serves a version that loads,
and takes the next operation. A full disk and a read-only registry give a clear error and
leave the previous version serving. Files only: no Flink.

The kills come from udfs.model_store's fault-injection hook (set_crash_plan: kill at the
k-th step), in a forked child (a fork costs milliseconds, a new interpreter a second).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import os
import random
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from mlsql.errors import RegistryWriteError
from mlsql.models.registry import Registry
from udfs import model_store
from udfs.predictors import load_predictor

PREDICTOR = {"format": 1, "task": "regression", "algorithm": "linear", "coef": [[2.0]],
             "features": {"standardize": False, "encoding": "one_hot", "columns": [
                 {"name": "x", "kind": "numeric", "mean": 0.0, "std": 1.0}]},
             "outputs": [{"name": "predicted_value", "type": "DOUBLE"}]}
MIN_KILLS = 100


def write_version(path: Path, serial: int, weights: int = 16 * 1024) -> None:
    """A version that scores 2x + serial: `serial` tells one version's content from any
    other's."""
    (path / "metadata.json").write_text(json.dumps({
        "serial": serial, "inputs": [{"name": "x", "type": "DOUBLE", "kind": "numeric"}],
        "outputs": PREDICTOR["outputs"]}))
    (path / "predictor.json").write_text(json.dumps({**PREDICTOR, "intercept": [serial]}))
    (path / "weights.bin").write_bytes(os.urandom(weights))


def publish(registry: Registry, name: str, serial: int, weights: int = 16 * 1024) -> int:
    with registry.new_version(name) as staged:
        write_version(staged.path, serial, weights)
    assert staged.version is not None
    return staged.version


def serving_value(registry: Registry, name: str) -> tuple[int, int]:
    """(serving version, its serial), after loading its predictor and scoring with it."""
    served = registry.resolve(name)
    predictor = load_predictor(str(served.path))
    value = predictor.predict([pd.Series([1.0])])["predicted_value"].iloc[0]
    serial = served.metadata["serial"]
    assert value == 2.0 + serial, f"{served.path} scores {value}, not 2 + {serial}"
    return served.version, serial


@dataclass
class Ledger:
    """Every (model id, version number) ever seen in the registry, with its content's serial:
    a number that comes back with other content was handed out twice."""
    registry: Registry
    numbers: dict[tuple[str, int], int] = field(default_factory=dict)
    serials: Iterator[int] = field(default_factory=lambda: iter(range(1, 10**9)))
    checked: set[tuple[str, int]] = field(default_factory=set)

    def publish(self, name: str) -> int:
        serial = next(self.serials)
        version = publish(self.registry, name, serial)
        key = (self.model_id(name), version)
        assert key not in self.numbers, f"{name} version {version} was handed out twice"
        self.numbers[key] = serial
        return version

    def model_id(self, name: str) -> str:
        return self.registry.model_info(name)["id"]

    def record(self, model_id: str, version: int, serial: int, where: str) -> None:
        known = self.numbers.setdefault((model_id, version), serial)
        assert known == serial, f"{where}: version {version} was handed out twice " \
                                f"(serials {known} and {serial})"

    def observe(self) -> None:
        """Every version of every model is whole (checked once: a version is immutable), its
        number unique; the serving ones load."""
        registry = self.registry
        for name in registry.model_names():
            model_id = self.model_id(name)
            for version in registry.versions(name):
                path = registry.root / name / f"v{version}"
                serial = json.loads((path / "metadata.json").read_text())["serial"]
                if (model_id, version) not in self.checked:
                    model_store.check_version(path)
                    self.checked.add((model_id, version))
                self.record(model_id, version, serial, str(path))
        for served in registry.list():
            assert "damaged" not in served.metadata, served.metadata
            serving_value(registry, served.name)


def leftovers(root: Path) -> list[Path]:
    """What a killed writer left: staging directories, trash, partial files."""
    staging = root / model_store.STAGING
    found = list(staging.iterdir()) if staging.exists() else []
    return found + [p for p in root.glob("*/.*") if p.name != model_store.NUMBERS]


CHILD_TIMEOUT = 60.0


def reap(pid: int, timeout: float = CHILD_TIMEOUT) -> int:
    """The child's wait status. A child that hangs (a fork of a threaded process can block
    on a lock another thread held) is killed and fails the test instead of hanging it."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"the child process hung for {timeout:.0f} s")
        time.sleep(0.002)


def run_child(action: Callable[[], None], plan: str | None = None,
              kill_after: float | None = None) -> bool:
    """Run `action` in a forked child under the crash plan (or SIGKILLed by this process
    after `kill_after` seconds); True if it was killed, False if it finished."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            model_store.set_crash_plan(plan)
            action()
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)
    if kill_after is not None:
        time.sleep(kill_after)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    status = reap(pid)  # reaped: its staging directory's owner is gone
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return True
    assert os.WEXITSTATUS(status) == 0, "the operation failed in the child (its traceback " \
                                        "is above)"
    return False


def count_steps(root: Path, scratch: Path, action: Callable[[Registry], object]) -> list[str]:
    """The steps `action` takes from the registry's present state (run on a copy)."""
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(root, scratch)
    log = scratch.with_suffix(".steps")
    log.unlink(missing_ok=True)
    assert not run_child(lambda: action(Registry(scratch)), f"log:{log}")
    return log.read_text().split()


@dataclass
class Operation:
    """An operation to kill at every step: `prepare` brings the registry to its starting
    state (normal operations) and returns what `check` needs; `run` is the operation;
    `check` runs after each kill and `recover` then finishes the work normally."""
    name: str
    prepare: Callable[[Ledger], dict]
    run: Callable[[Registry, dict], None]
    check: Callable[[Ledger, dict], None]
    recover: Callable[[Ledger, dict], None] = lambda ledger, state: None


def _versions(ledger: Ledger, count: int, default: int | None = None,
              name: str = "m") -> dict:
    """`name` with at least `count` versions and the given default version (an index
    into its versions)."""
    registry = ledger.registry
    while not registry.exists(name) or len(registry.versions(name)) < count:
        ledger.publish(name)
    versions = registry.versions(name)
    chosen = None if default is None else versions[default]
    registry.set_default_version(name, chosen)
    return {"name": name, "versions": versions, "default": chosen,
            "serving": serving_value(registry, name)[0], "id": ledger.model_id(name)}


def _serves(ledger: Ledger, state: dict, *allowed: int) -> None:
    version, _ = serving_value(ledger.registry, state["name"])
    assert version in allowed, f"version {version} serves, not one of {allowed}"


def _published_or_not(ledger: Ledger, state: dict) -> None:
    versions = ledger.registry.versions(state["name"])
    new = [v for v in versions if v not in state["versions"]]
    assert versions[:len(versions) - len(new)] == state["versions"] and len(new) <= 1
    assert all(v > max(state["versions"]) for v in new)
    _serves(ledger, state, state["default"] or versions[-1])


def _dropped_or_not(ledger: Ledger, state: dict, version: int) -> None:
    versions = ledger.registry.versions(state["name"])
    assert versions in (state["versions"], [v for v in state["versions"] if v != version])
    latest = max(v for v in state["versions"] if v != version)
    _serves(ledger, state, state["serving"], latest)


def _first_version_or_none(ledger: Ledger, state: dict) -> None:
    registry = ledger.registry
    assert registry.versions(state["name"]) in ([], [1])
    if registry.exists(state["name"]):
        _serves(ledger, state, 1)


def _renamed_or_not(ledger: Ledger, state: dict) -> None:
    registry = ledger.registry
    here = [n for n in ("m", "m_renamed") if registry.exists(n)]
    assert len(here) == 1, f"the model is under {here}"
    assert registry.versions(here[0]) == state["versions"]
    assert ledger.model_id(here[0]) == state["id"]
    assert registry.model_info(here[0])["name"] == here[0]
    assert serving_value(registry, here[0])[0] == state["serving"]


def _rename_back(ledger: Ledger, state: dict) -> None:
    if ledger.registry.exists("m_renamed"):
        ledger.registry.rename("m_renamed", "m")


def _whole_or_gone(ledger: Ledger, state: dict) -> None:
    registry = ledger.registry
    if registry.exists(state["name"]):
        assert registry.versions(state["name"]) == state["versions"]
        _serves(ledger, state, state["serving"])
    else:
        assert state["name"] not in [m.name for m in registry.list()]


def _drop_if_there(ledger: Ledger, state: dict) -> None:
    if ledger.registry.exists(state["name"]):
        ledger.registry.drop(state["name"])


def _publish_then_drop(ledger: Ledger, state: dict) -> None:
    ledger.publish(state["name"])  # the user's next CREATE MODEL: cleans what was left
    ledger.registry.drop(state["name"])


_NEW_NAMES = itertools.count(1)


def _first_name(ledger: Ledger) -> dict:
    return {"name": f"new_{next(_NEW_NAMES)}"}


OPERATIONS = [
    Operation("publish a model's first version", _first_name,
              lambda r, s: publish(r, s["name"], 10**6 + len(r.model_names())),
              _first_version_or_none, _publish_then_drop),
    Operation("publish a new version", lambda ledger: _versions(ledger, 2),
              lambda r, s: publish(r, "m", 2 * 10**6 + max(s["versions"])),
              _published_or_not),
    Operation("publish while a default version is set", lambda ledger: _versions(ledger, 2, 0),
              lambda r, s: publish(r, "m", 3 * 10**6 + max(s["versions"])),
              _published_or_not),
    Operation("ALTER ... SET default_version", lambda ledger: _versions(ledger, 2),
              lambda r, s: r.set_default_version("m", s["versions"][0]),
              lambda ledger, s: _serves(ledger, s, s["serving"], s["versions"][0])),
    Operation("ALTER ... RESET default_version (the latest)",
              lambda ledger: _versions(ledger, 2, 0),
              lambda r, s: r.set_default_version("m", None),
              lambda ledger, s: _serves(ledger, s, s["serving"], s["versions"][-1])),
    Operation("RENAME", lambda ledger: _versions(ledger, 2, 0),
              lambda r, s: r.rename("m", "m_renamed"), _renamed_or_not, _rename_back),
    Operation("DROP the newest version", lambda ledger: _versions(ledger, 3),
              lambda r, s: r.drop("m", s["versions"][-1]),
              lambda ledger, s: _dropped_or_not(ledger, s, s["versions"][-1])),
    Operation("DROP the serving (default) version", lambda ledger: _versions(ledger, 3, -2),
              lambda r, s: r.drop("m", s["default"]),
              lambda ledger, s: _dropped_or_not(ledger, s, s["default"])),
    Operation("DROP the model", lambda ledger: _versions(ledger, 2, name="gone"),
              lambda r, s: r.drop("gone"), _whole_or_gone, _drop_if_there),
]


def _after_a_kill(ledger: Ledger, operation: Operation, state: dict, where: str) -> None:
    try:
        ledger.observe()
        operation.check(ledger, state)
        operation.recover(ledger, state)
        ledger.publish("m")  # the next normal operation: a number never handed out
        assert leftovers(ledger.registry.root) == []
    except AssertionError as error:
        raise AssertionError(f"{operation.name}, killed {where}: {error}") from error


def kill_at_every_step(ledger: Ledger, operation: Operation, scratch: Path) -> list[str]:
    """Kill `operation` at each of its steps in turn; returns the steps."""
    state = operation.prepare(ledger)
    steps = count_steps(ledger.registry.root, scratch, lambda r: operation.run(r, state))
    assert steps, operation.name
    for k, name in enumerate(steps, 1):
        state = state if k == 1 else operation.prepare(ledger)
        assert run_child(lambda s=state: operation.run(ledger.registry, s), str(k)), \
            f"{operation.name} was not killed at step {k} ({name})"
        _after_a_kill(ledger, operation, state, f"at step {k} ({name})")
    return steps


def random_operations(root: Path, log: Path, seed: int) -> None:
    """The child of a random-time kill: operations on model 'r' until killed; each version
    it publishes logged as 'model-id number serial'."""
    registry, rng = Registry(root), random.Random(seed)
    for i in range(10**6):
        versions, roll = registry.versions("r"), rng.random()
        if roll < 0.45 or len(versions) < 3:
            version = publish(registry, "r", seed * 1000 + i, weights=256 * 1024)
            with log.open("a") as out:
                out.write(f"{registry.model_info('r')['id']} {version} {seed * 1000 + i}\n")
        elif roll < 0.65:
            registry.drop("r", rng.choice([versions[0], versions[-1]]))
        elif roll < 0.8:
            registry.set_default_version("r", rng.choice(versions))
        elif roll < 0.9:
            registry.set_default_version("r", None)
        else:
            registry.rename("r", "r2")
            registry.rename("r2", "r")


def random_time_kills(ledger: Ledger, log: Path, kills: int) -> int:
    """Kill a child running random operations at random times; returns how many kills left
    something to clean up (a kill mid-operation)."""
    rng = random.Random(29)
    midway = 0
    for kill in range(kills):
        log.unlink(missing_ok=True)
        seed = 10**4 + kill
        assert run_child(lambda s=seed: random_operations(ledger.registry.root, log, s),
                         kill_after=rng.uniform(0.005, 0.06)), "the child ended by itself"
        try:
            midway += bool(leftovers(ledger.registry.root))
            if ledger.registry.exists("r2"):
                ledger.registry.rename("r2", "r")
            ledger.observe()
            for line in log.read_text().splitlines() if log.exists() else []:
                model_id, version, serial = line.split()
                ledger.record(model_id, int(version), int(serial), f"random kill {kill}")
            ledger.publish("r")
            assert leftovers(ledger.registry.root) == []
        except AssertionError as error:
            raise AssertionError(f"random-time kill {kill} (seed {seed}): {error}") from error
    return midway


def test_a_kill_at_any_step_or_time_leaves_whole_versions_and_unique_numbers(tmp_path, capsys):
    ledger = Ledger(Registry(tmp_path / "registry"))
    kills = {}
    started = time.monotonic()
    for operation in OPERATIONS:
        steps = kill_at_every_step(ledger, operation, tmp_path / "scratch")
        kills[operation.name] = steps
    random_kills = 60
    midway = random_time_kills(ledger, tmp_path / "random.log", random_kills)
    total = sum(map(len, kills.values())) + random_kills
    root = ledger.registry.root
    handed_out = sum(len(list((p / model_store.NUMBERS).iterdir())) for p in root.iterdir()
                     if (p / model_store.NUMBERS).is_dir())
    with capsys.disabled():
        print(f"\n{total} kills in {time.monotonic() - started:.1f} s:")
        for name, steps in kills.items():
            print(f"  {name}: {len(steps)} ({', '.join(steps)})")
        print(f"  random times during a mix of the above: {random_kills} ({midway} left "
              "something to clean up)")
        print(f"  {len(ledger.numbers)} versions checked; in the registry now, "
              f"{handed_out} numbers handed out, versions {len(ledger.registry.versions('m'))} "
              f"of m and {len(ledger.registry.versions('r'))} of r")
    assert total >= MIN_KILLS
    assert len(ledger.numbers) > 100  # many versions were published and checked


def test_a_dropped_versions_number_is_never_handed_out_again(tmp_path):
    registry = Registry(tmp_path)
    assert [publish(registry, "m", i) for i in (1, 2, 3)] == [1, 2, 3]
    registry.drop("m", 3)  # the newest: a job pinned to m$3 must not get another model
    assert publish(registry, "m", 4) == 4
    registry.drop("m", 4)
    registry.drop("m", 2)
    assert publish(registry, "m", 5) == 5
    assert registry.versions("m") == [1, 5]


def test_what_dead_writers_left_is_removed_by_the_next_writer(tmp_path):
    registry = Registry(tmp_path)
    publish(registry, "m", 1)
    dead = next(p for p in range(2**22, 2**15, -1) if not _running(p))
    host = os.uname().nodename
    staging = tmp_path / model_store.STAGING
    (staging / "dropped-0123").mkdir()  # a DROP killed while deleting: trash
    (staging / "dropped-0123" / "weights.bin").write_bytes(b"x")
    (staging / f"{'a' * 32}.{dead}@{host}").mkdir()  # a version a killed writer was writing
    partial = tmp_path / "m" / f".model.json.{'b' * 32}.{dead}@{host}"
    partial.write_text('{"name": "m", "def')  # write_json_atomic killed mid-write
    alive = tmp_path / "m" / f".model.json.{'c' * 32}.{os.getpid()}@{host}"
    alive.write_text("{}")  # a live writer's: kept
    assert [m.version for m in registry.list()] == [1]  # leftovers never break listing
    publish(registry, "m", 2)
    assert list(staging.iterdir()) == []
    assert not partial.exists() and alive.exists()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_directory_names_the_model_when_a_rename_was_killed_before_model_json(tmp_path):
    registry = Registry(tmp_path)
    publish(registry, "m", 1)
    os.rename(tmp_path / "m", tmp_path / "m2")  # RENAME's one step, then killed
    assert registry.model_info("m2")["name"] == "m2"
    assert registry.model_names() == ["m2"] and serving_value(registry, "m2") == (1, 1)


def test_a_model_directory_left_by_a_killed_first_publish_does_not_block_a_rename(tmp_path):
    registry = Registry(tmp_path)
    publish(registry, "m", 1)
    (tmp_path / "m2").mkdir()  # CREATE MODEL m2 killed before model.json and its version
    (tmp_path / "m2" / model_store.NUMBERS).mkdir()
    registry.rename("m", "m2")
    assert registry.versions("m2") == [1] and serving_value(registry, "m2") == (1, 1)


# --- a full disk and a read-only registry -------------------------------------------------

@contextlib.contextmanager
def small_disk(path: Path, size: str = "1m") -> Iterator[bool]:
    """A tmpfs of `size` at `path` (yields True), or a plain directory (False) where this
    process may not mount."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True).returncode == 0
    try:
        yield mounted
    finally:
        if mounted and subprocess.run(["umount", str(path)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(path)], check=True)


def in_child(action: Callable[[], object], uid: int | None = None,
             file_limit: int | None = None) -> str:
    """Run `action` in a forked child (as `uid`, under a file size limit); returns the text
    of the error it raised: '<class name>: <message>', or '' if none."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            if file_limit is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))
            if uid is not None:
                os.setgid(uid)
                os.setuid(uid)
            action()
            text = ""
        except BaseException as error:
            text = f"{type(error).__name__}: {error}"
        finally:
            os.write(write, text.encode())
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        ready, _, _ = select.select([pipe], [], [], CHILD_TIMEOUT)
        text = pipe.read().decode() if ready else ""
    reap(pid)
    return text


def _serves_the_same(registry: Registry, before: tuple[int, int]) -> None:
    assert serving_value(Registry(registry.root), "m") == before
    assert [m.version for m in Registry(registry.root).list()] == [before[0]]


def test_a_full_disk_gives_a_clear_error_and_the_previous_version_serves(tmp_path):
    with small_disk(tmp_path / "disk") as mounted:
        registry = Registry(tmp_path / "disk" / "registry")
        publish(registry, "m", 1)
        publish(registry, "m", 2)
        registry.set_default_version("m", 1)
        before = serving_value(registry, "m")
        if mounted:  # a version bigger than the free space
            with pytest.raises(RegistryWriteError) as raised:
                publish(registry, "m", 3, weights=2 * 1024 * 1024)
            error = f"RegistryWriteError: {raised.value}"
        else:  # no tmpfs: a file size limit, a real write failure too (EFBIG)
            error = in_child(lambda: publish(registry, "m", 3, weights=2 * 1024 * 1024),
                             file_limit=1024 * 1024)
        assert error.startswith("RegistryWriteError: "), error
        reason = "no space left on the device of" if mounted else "a file in"
        assert f"cannot publish a new version of model 'm': {reason} registry " \
               f"{registry.root} (" in error
        assert "nothing was published; version 1 still serves" in error
        assert registry.versions("m") == [1, 2] and leftovers(registry.root) == []
        _serves_the_same(registry, before)
        if mounted:
            _a_disk_full_to_the_last_byte(registry, before)
        assert publish(registry, "m", 9) > 2  # space again: the next version publishes


def _a_disk_full_to_the_last_byte(registry: Registry, before: tuple[int, int]) -> None:
    """The disk fills up after the version's files were written: publishing's own writes
    fail (metadata.json's version, model.json of a new model), and ALTER's."""
    filler = registry.root.parent / "filler"

    def fill() -> None:
        with contextlib.suppress(OSError), filler.open("ab") as out:
            while True:
                out.write(b"\0" * 4096)
                out.flush()

    def publish_filled(name: str) -> None:
        with registry.new_version(name) as staged:
            write_version(staged.path, 5, weights=0)
            fill()

    for action, message in [
            (lambda: publish_filled("m"), "publish a new version of model 'm'"),
            (lambda: (fill(), registry.set_default_version("m", 2)), "change model 'm'"),
            (lambda: publish_filled("other"), "publish a new version of model 'other'")]:
        with pytest.raises(RegistryWriteError, match=f"cannot {message}: no space left"):
            action()
        assert leftovers(registry.root) == [] and not (registry.root / "other").exists()
        _serves_the_same(registry, before)
    registry.drop("m", 2)  # needs no space
    filler.unlink()


def test_a_file_size_limit_gives_a_clear_error(tmp_path):
    registry = Registry(tmp_path)
    publish(registry, "m", 1)
    error = in_child(lambda: publish(registry, "m", 2, weights=2 * 1024 * 1024),
                     file_limit=1024 * 1024)
    assert error.startswith(f"RegistryWriteError: cannot publish a new version of model 'm': "
                            f"a file in registry {tmp_path} exceeds this process's file size "
                            "limit (File too large); nothing was published; version 1 still "
                            "serves"), error
    assert registry.versions("m") == [1] and leftovers(tmp_path) == []


@pytest.mark.parametrize("how", ["remount read-only", "permissions"])
def test_a_read_only_registry_gives_a_clear_error_and_still_serves(tmp_path, how):
    disk = Path(tempfile.mkdtemp(prefix="mlsql-ro-"))  # others may enter: a uid may change
    disk.chmod(0o755)
    try:
        with small_disk(disk) as mounted:
            _read_only(Registry(disk / "registry"), mounted and how == "remount read-only")
    finally:
        shutil.rmtree(disk, ignore_errors=True)


def _read_only(registry: Registry, remount: bool) -> None:
    registry.root.parent.chmod(0o755)
    publish(registry, "m", 1)
    publish(registry, "m", 2)
    before = serving_value(registry, "m")
    uid = None
    if remount:
        subprocess.run(["mount", "-o", "remount,ro", str(registry.root.parent)], check=True)
        reason = f"registry {registry.root} is read-only"
    else:
        for path in (registry.root, registry.root / "m", registry.root / model_store.STAGING):
            path.chmod(0o555)
        uid = 65534 if os.geteuid() == 0 else None  # root ignores permissions
        reason = f"permission denied in registry {registry.root}"
    actions = {
        "publish a new version of model 'm'": lambda: publish(Registry(registry.root), "m", 3),
        "change model 'm'": lambda: Registry(registry.root).set_default_version("m", 1),
        "rename model 'm'": lambda: Registry(registry.root).rename("m", "m2"),
        "drop model 'm' version 2": lambda: Registry(registry.root).drop("m", 2),
        "drop model 'm'": lambda: Registry(registry.root).drop("m")}
    for action, run in actions.items():
        error = in_child(run, uid=uid)
        assert error.startswith(f"RegistryWriteError: cannot {action}: {reason} ("), error
        _serves_the_same(registry, before)
        assert registry.versions("m") == [1, 2]
    assert publish_allowed_after(registry, remount) == 3


def publish_allowed_after(registry: Registry, remount: bool) -> int:
    """Writable again, the next version publishes."""
    if remount:
        subprocess.run(["mount", "-o", "remount,rw", str(registry.root.parent)], check=True)
    else:
        for path in (registry.root, registry.root / "m", registry.root / model_store.STAGING):
            path.chmod(0o755)
    return publish(registry, "m", 3)


def test_the_crash_hook_is_read_from_the_environment(tmp_path):
    code = ("import json, sys; from pathlib import Path; from udfs import model_store; "
            "root = Path(sys.argv[1]); staged = model_store.staging_dir(root); "
            "(staged / 'metadata.json').write_text('{}'); "
            "model_store.publish(root, 'm', staged)")
    env = {**os.environ, "MLSQL_REGISTRY_CRASH_AT": "publish.rename:1"}
    killed = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env)
    assert killed.returncode == -signal.SIGKILL
    assert model_store.versions(tmp_path / "m") == []
    env["MLSQL_REGISTRY_CRASH_AT"] = ""
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env, check=True)
    assert model_store.versions(tmp_path / "m") == [2]  # 1: reserved by the killed writer


def test_a_trainings_own_storage_error_is_not_called_the_registrys(tmp_path):
    """A full /tmp under a training (a file elsewhere, or a write() naming no file while the
    registry has room) passes through as it is, not as 'no space left ... registry'."""
    registry = Registry(tmp_path / "registry")
    publish(registry, "m", 1)
    for error in (OSError(errno.ENOSPC, "No space left on device", "/tmp/elsewhere/rows.csv"),
                  OSError(errno.ENOSPC, "No space left on device")):
        with pytest.raises(OSError) as raised, registry.new_version("m"):
            raise error
        assert raised.value is error
    assert registry.versions("m") == [1] and leftovers(registry.root) == []
