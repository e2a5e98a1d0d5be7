"""What `mlsql compile` refuses before planning anything."""

from __future__ import annotations

import pytest

from mlsql.errors import MlsqlError
from mlsql.export.job import _python_feature_functions, compile_job


def test_pandas_udf_feature_functions_are_refused(tmp_path):
    with pytest.raises(MlsqlError, match="ML_HASHING_TF, ML_NGRAMS"):
        compile_job(None, "SELECT ML_NGRAMS(ML_TOKENIZE(memo), 2), "
                          "ML_HASHING_TF(ML_TOKENIZE(memo), 16) FROM notes", tmp_path)
    assert not any(tmp_path.iterdir())


def test_their_names_in_strings_and_comments_are_not_calls():
    assert _python_feature_functions(
        "SELECT 'ML_NGRAMS(x, 2)' AS s -- ML_HASHING_TF(x)\nFROM t") == []
