"""What a gateway session's policy refuses, and what a trusted session still may do."""

from __future__ import annotations

import pytest

from mlsql.core.policy import TRUSTED, PolicyError, SessionPolicy
from mlsql.errors import MlsqlError
from mlsql.models.registry import Registry
from mlsql.syntax.splitter import split_statements
from mlsql.syntax.words import statement_words

GATEWAY = SessionPolicy.restricted(model_dirs=())


def words(sql: str) -> list[str]:
    (statement,) = split_statements(sql)
    return statement_words(statement)


@pytest.mark.parametrize("sql", [
    "ADD JAR '/tmp/evil.jar'",
    "CREATE FUNCTION f AS 'evil.f' LANGUAGE PYTHON",
    "create temporary system function f as 'evil.f' language python",
    "CREATE FUNCTION f AS 'com.evil.F' USING JAR '/tmp/evil.jar'",
])
def test_code_loading_statements_are_refused(sql):
    with pytest.raises(PolicyError, match="loads code"):
        GATEWAY.check_statement(words(sql))
    TRUSTED.check_statement(words(sql))  # mlsql run's user may


@pytest.mark.parametrize("sql", [
    "CREATE FUNCTION f AS 'org.example.F' LANGUAGE JAVA",  # already on the classpath
    "CREATE TABLE python (language STRING) WITH ('connector' = 'datagen')",
    "SELECT 'ADD JAR' AS text",
])
def test_other_statements_pass(sql):
    GATEWAY.check_statement(words(sql))


@pytest.mark.parametrize("key", ["python.executable", "python.files", "pipeline.jars",
                                 "execution.target", "rest.address", "jobmanager.rpc.address"])
def test_code_and_deployment_options_are_locked(key):
    with pytest.raises(PolicyError, match=key):
        GATEWAY.check_option(key)
    TRUSTED.check_option(key)


def test_harmless_options_stay_settable():
    for key in ("parallelism.default", "table.exec.mini-batch.enabled",
                "python.fn-execution.bundle.size", "mlsql.predict.refresh-interval"):
        GATEWAY.check_option(key)
    assert SessionPolicy.restricted(allow_code=True).allows_option("python.files")
    assert not SessionPolicy.restricted(allow_code=True).allows_option("rest.port")


def test_model_files_only_from_allowed_directories(tmp_path):
    allowed = tmp_path / "models"
    allowed.mkdir()
    (allowed / "m.onnx").write_bytes(b"x")
    policy = SessionPolicy.restricted(model_dirs=(allowed,))
    assert policy.check_model_file(allowed / "m.onnx") == (allowed / "m.onnx").resolve()
    outside = tmp_path / "secret.onnx"
    outside.write_bytes(b"x")
    (allowed / "link.onnx").symlink_to(outside)
    for path in (outside, allowed / ".." / "secret.onnx", allowed / "link.onnx"):
        with pytest.raises(PolicyError, match="outside the directories"):
            policy.check_model_file(path)
    with pytest.raises(PolicyError, match="allowed: none"):
        GATEWAY.check_model_file(allowed / "m.onnx")


@pytest.mark.parametrize("name", ["../other/m", "/etc", "a/b", ".."])
def test_model_names_cannot_leave_the_registry(tmp_path, name):
    registry = Registry(tmp_path / "registry")
    for act in (lambda: registry.resolve(name), lambda: registry.drop(name),
                lambda: registry.rename(name, "fine"), lambda: registry.rename("x", name)):
        with pytest.raises(MlsqlError, match="invalid model name"):
            act()
