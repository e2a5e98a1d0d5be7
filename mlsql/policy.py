"""What a session may import: code named in SQL (the `python` provider) and model files.

`mlsql run` and `Session()` trust their user (everything allowed). A gateway session serves
whoever reaches the port, so the gateway gives its sessions a stricter policy: no `python`
provider and model files only from directories its operator allowed. A session cannot
loosen its policy with SET: it is not an option, it is fixed when the session is built.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mlsql.errors import MlsqlError


class PolicyError(MlsqlError):
    """A statement asked for something this session's policy does not allow."""


@dataclass(frozen=True)
class ImportPolicy:
    allow_python_provider: bool = True
    # None: any path; otherwise model files must lie under one of these directories.
    model_dirs: tuple[Path, ...] | None = None

    @classmethod
    def restricted(cls, allow_python_provider: bool = False,
                   model_dirs: tuple[str | os.PathLike[str], ...] = ()) -> ImportPolicy:
        return cls(allow_python_provider,
                   tuple(Path(directory).resolve() for directory in model_dirs))

    def check_provider(self, provider: str) -> None:
        if provider == "python" and not self.allow_python_provider:
            raise PolicyError(
                "the python provider (which imports code named in SQL) is not allowed in "
                "this session; the gateway's operator can allow it with "
                "--allow-python-provider")

    def check_model_file(self, path: Path) -> None:
        if self.model_dirs is None:
            return
        resolved = path.resolve()
        if not any(resolved.is_relative_to(directory) for directory in self.model_dirs):
            allowed = ", ".join(str(d) for d in self.model_dirs) or "none"
            raise PolicyError(
                f"model file {path} is outside the directories this session may import "
                f"from (allowed: {allowed}); the gateway's operator can add one with "
                "--allow-model-path DIR")


TRUSTED = ImportPolicy()
