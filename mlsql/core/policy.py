"""What a session may do beyond querying: load code, import model files, redirect its jobs.

`mlsql run` and `Session()` trust their user (everything allowed). A gateway session serves
whoever reaches the port, so the gateway gives its sessions a stricter policy: no code named
in SQL (the `python` provider, Python or jar functions, `ADD JAR`, the `python.*` and jar
options), model files only from directories its operator allowed, and no `SET` of where jobs
run. A session cannot loosen its policy: it is fixed when the session is built.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mlsql.errors import MlsqlError

# Options that make Flink load code (an interpreter, Python files, jars).
_CODE_OPTIONS = {"python.executable", "python.client.executable", "python.files",
                 "python.archives", "python.requirements", "python.pythonpath",
                 "pipeline.jars", "pipeline.classpaths"}
# Options that say where jobs go (and so where the session sends requests).
_DEPLOYMENT_PREFIXES = ("execution.target", "rest.", "jobmanager.", "high-availability")
_ALLOW_CODE = "the gateway's operator can allow it with --allow-python-provider"


class PolicyError(MlsqlError):
    """A statement asked for something this session's policy does not allow."""


@dataclass(frozen=True)
class SessionPolicy:
    allow_code: bool = True
    # None: any path; otherwise model files must lie under one of these directories.
    model_dirs: tuple[Path, ...] | None = None
    allow_deployment_options: bool = True

    @classmethod
    def restricted(cls, allow_code: bool = False,
                   model_dirs: Sequence[str | os.PathLike[str]] = ()) -> SessionPolicy:
        return cls(allow_code, tuple(Path(d).resolve() for d in model_dirs), False)

    def check_provider(self, provider: str) -> None:
        if provider == "python" and not self.allow_code:
            raise PolicyError("the python provider (which imports code named in SQL) is not "
                              f"allowed in this session; {_ALLOW_CODE}")

    def check_model_file(self, path: Path) -> Path:
        """The file to import, resolved (symlinks and '..' followed), if it is allowed."""
        resolved = path.resolve()
        if self.model_dirs is not None and not any(
                resolved.is_relative_to(directory) for directory in self.model_dirs):
            allowed = ", ".join(str(d) for d in self.model_dirs) or "none"
            raise PolicyError(
                f"model file {path} is outside the directories this session may import "
                f"from (allowed: {allowed}); the gateway's operator can add one with "
                "--allow-model-path DIR")
        return resolved

    def allows_option(self, key: str) -> bool:
        if key in _CODE_OPTIONS and not self.allow_code:
            return False
        return self.allow_deployment_options or not key.startswith(_DEPLOYMENT_PREFIXES)

    def check_option(self, key: str) -> None:
        if not self.allows_option(key):
            reason = ("it loads code" if key in _CODE_OPTIONS else
                      "it says where the gateway's jobs run")
            raise PolicyError(f"this session may not SET {key!r}: {reason}"
                              + (f"; {_ALLOW_CODE}" if key in _CODE_OPTIONS else ""))

    def check_statement(self, words: Sequence[str]) -> None:
        """A plain Flink statement (its words, upper case) that would load code."""
        if self.allow_code:
            return
        function = words[:1] == ["CREATE"] and "FUNCTION" in words[:5]
        loads = words[:2] == ["ADD", "JAR"] or (function and (
            "PYTHON" in _after(words, "LANGUAGE") or "JAR" in _after(words, "USING")))
        if loads:
            raise PolicyError(f"{' '.join(words[:2])} ... loads code (a jar or a Python module) "
                              f"and is not allowed in this session; {_ALLOW_CODE}")


def _after(words: Sequence[str], keyword: str) -> list[str]:
    return [words[i + 1] for i, word in enumerate(words[:-1]) if word == keyword]


TRUSTED = SessionPolicy()
