"""Stop words: Flink ML's StopWordsRemover as a SQL function.

    ML_STOP_WORDS_REMOVER(tokens [, stop_words [, case_sensitive [, 'locale']]])
        ARRAY<STRING>: the tokens that are not stop words, in order. stop_words is
        ARRAY['word', ...] (NULL allowed: it removes NULL tokens) or a language name whose
        list Flink ML ships ('english', the default; its lists are read from Flink ML's jar).
        case_sensitive (FALSE): otherwise both sides compare lower-cased in the locale's
        language (Turkish and Azeri: İ → i, I → ı, as Java). locale (a Java locale name,
        'en_US'). A NULL array gives NULL. A pandas UDF (udfs/text.py).
"""

from __future__ import annotations

import locale as system_locale
from typing import Any

from mlsql.errors import MlsqlError
from mlsql.feature_functions.base import (
    Arguments,
    FeatureArgumentError,
    FeatureFunction,
    Params,
    SqlOf,
)
from mlsql.feature_functions.python_udfs import register_udf
from mlsql.services.jars.flink_ml_resources import STOP_WORD_LANGUAGES, default_stop_words
from mlsql.syntax import ir
from udfs.text import StopWordsRemoverFunction

DEFAULT_LOCALE = "en_US"


def locale_problem(name: str) -> str | None:
    """Flink ML's message when `name` is not a locale (language[_COUNTRY[_variant]]), else
    None. Locales are checked against the languages Python's locale table knows."""
    language = name.split("_")[0].lower() if isinstance(name, str) else ""
    known = {key.split(".")[0].split("@")[0].split("_")[0]
             for key in system_locale.locale_alias}
    if language.isalpha() and 2 <= len(language) <= 3 and language in known:
        return None
    return f"Parameter locale is given an invalid value {name}"


def available_locales() -> list[str]:
    """The locale names locale_problem accepts, as language_COUNTRY ('en_US', 'tr_TR')."""
    names = {alias.split(".")[0].split("@")[0] for alias in system_locale.locale_alias.values()}
    return sorted(n for n in names if locale_problem(n) is None)


def stop_words_of(language: str, position: ir.Position) -> list[str]:
    try:
        return list(default_stop_words(language))
    except MlsqlError as error:
        raise FeatureArgumentError(str(error), position) from None


class StopWordsRemover(FeatureFunction):
    name = "ML_STOP_WORDS_REMOVER"
    usage = ("ML_STOP_WORDS_REMOVER(tokens [, ARRAY['word', ...] | 'language' "
             "[, case_sensitive [, 'locale']]])")

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 1, 4)
        words = self._stop_words(args[1]) if len(args) > 1 else stop_words_of(
            "english", call.position)
        case_sensitive = self.flag(args[2], "case_sensitive") if len(args) > 2 else False
        locale = self.string(args[3], "locale") if len(args) > 3 else DEFAULT_LOCALE
        if problem := locale_problem(locale):
            raise FeatureArgumentError(problem, args[3].position)
        return {"stop_words": words, "case_sensitive": case_sensitive,
                "language": locale.split("_")[0].lower()}

    def _stop_words(self, arg: ir.FeatureArgument) -> list[str | None]:
        if arg.is_literal and isinstance(arg.value, str):
            if arg.value not in STOP_WORD_LANGUAGES:
                raise FeatureArgumentError(
                    f"{self.name}: {arg.value} is not in the supported language list: "
                    f"{', '.join(STOP_WORD_LANGUAGES)}", arg.position)
            return stop_words_of(arg.value, arg.position)
        values = arg.value if arg.is_literal and isinstance(arg.value, tuple) else None
        if values is None or not all(v is None or isinstance(v, str) for v in values):
            raise FeatureArgumentError(
                f"{self.name}'s stop words are ARRAY['word', ...] or a language name, found "
                f"{arg.text!r}", arg.position)
        return list(values)

    def render(self, args: Arguments, params: Params, sql_of: SqlOf, runtime: Any) -> str:
        words, case_sensitive = params["stop_words"], params["case_sensitive"]
        language = params["language"]
        settings = f"{case_sensitive}|{language}|{words!r}"
        name = register_udf(runtime, self.name, "stop_words", settings,
                            StopWordsRemoverFunction(words, case_sensitive, language),
                            "ARRAY<STRING>")
        return f"{name}({sql_of(args[0])})"


FEATURE_FUNCTIONS = (StopWordsRemover(),)
