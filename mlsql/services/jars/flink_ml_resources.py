"""Resources of Flink ML's library jar (resolved from Maven Central as the `flink-ml-lib`
bundle): the stop-word lists its StopWordsRemover loads, read from the jar as Flink ML
reads them from its classpath. The jar is never put on a JVM's classpath."""

from __future__ import annotations

import functools
import zipfile

from mlsql.errors import MlsqlError
from mlsql.services.jars.resolve import bundle, resolve

STOP_WORD_LANGUAGES = ("danish", "dutch", "english", "finnish", "french", "german",
                       "hungarian", "italian", "norwegian", "portuguese", "russian", "spanish",
                       "swedish", "turkish")
_STOP_WORDS = "org/apache/flink/ml/feature/stopwords/{}.txt"


@functools.cache
def default_stop_words(language: str) -> tuple[str, ...]:
    """Flink ML's stop words for `language` (one of STOP_WORD_LANGUAGES), in its order."""
    if language not in STOP_WORD_LANGUAGES:
        raise MlsqlError(f"{language} is not in the supported language list: "
                         f"{', '.join(STOP_WORD_LANGUAGES)}.")
    jar = next(j for j in resolve("flink-ml-lib") if j.name.startswith("flink-ml-lib"))
    with zipfile.ZipFile(jar) as archive:
        text = archive.read(_STOP_WORDS.format(language)).decode("utf-8")
    return tuple(text.splitlines())


def stop_words_resolved() -> bool:
    """Whether Flink ML's jar is in the cache already (reading its lists resolves nothing)."""
    return bundle("flink-ml-lib").is_resolved()
