"""ML_SWING: Flink ML's Swing, item-to-item similarity from which users bought (clicked,
watched) which items, over a bounded table of (user, item) rows.

    ML_SWING(TABLE t, DESCRIPTOR(user), DESCRIPTOR(item) [, MAP[...]])
        One row per item and similar item: item, similar_item (BIGINT), score (DOUBLE), rank
        (INT, 1 the most similar), the k most similar of each item. Two items are similar
        where pairs of users both chose them: each pair of users u, v who chose item i adds
        w_u * w_v / (alpha2 + |I_u ∩ I_v|) to every other item they share, with
        w_u = (alpha1 + |I_u|) ^ -beta. Users with fewer than min_user_behavior or more than
        max_user_behavior distinct items are left out; an item chosen by more than
        max_user_num_per_item users is scored over a sample of them (reservoir sampling,
        seeded). Equal scores rank by item.

MAP options, Flink ML's defaults: 'k' (100), 'max_user_num_per_item' (1000),
'min_user_behavior' (10), 'max_user_behavior' (1000), 'alpha1' (15), 'alpha2' (0), 'beta'
(0.3), 'seed'. The distinct (user, item) pairs are one Flink job when the statement is planned;
the scores are summed from them here. A NULL user or item fails, as in Flink ML.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import Mapping

from mlsql.errors import OptionError, SchemaError, Site
from mlsql.planner.bounded import require_bounded
from mlsql.planner.call_options import call_options
from mlsql.planner.context import PlanContext, table_query
from mlsql.planner.rows import argument_column, fetch_rows
from mlsql.planner.values import table_subquery
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_identifier

COLUMNS = [("item", "BIGINT"), ("similar_item", "BIGINT"), ("score", "DOUBLE"), ("rank", "INT")]
INTEGER_ROOTS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT"}
# Flink ML's defaults; its seed is the hash code of its class name
DEFAULTS: dict[str, float] = {"k": 100, "max_user_num_per_item": 1000, "min_user_behavior": 10,
                              "max_user_behavior": 1000, "alpha1": 15, "alpha2": 0,
                              "beta": 0.3, "seed": 0}
AT_LEAST_ONE = ("k", "max_user_num_per_item", "max_user_behavior")
WHOLE = ("k", "max_user_num_per_item", "min_user_behavior", "max_user_behavior", "alpha1",
         "alpha2", "seed")


def swing_subquery(call: ir.AnalysisCall, context: PlanContext) -> str:
    assert call.table_sql is not None and call.label is not None and call.features
    options = swing_options(call_options(call, tuple(DEFAULTS)), call.where)
    columns = {c.name: c for c in context.table_argument_columns(
        call.table_sql, call.table_position or call.position)}
    for ref in (call.label, call.features[0]):
        column = argument_column(columns, ref, call)
        if column.root not in INTEGER_ROOTS:
            raise SchemaError(f"The types of user and item must be Long (or another integer "
                              f"type): {ref.name!r} is {column.type}",
                              at=Site(call.function, ref.position))
    require_bounded(context.runtime, call.table_sql, table_query(call.table_sql), call.where)
    user, item = quote_identifier(call.label.name), quote_identifier(call.features[0].name)
    pairs = fetch_rows(context, f"SELECT DISTINCT CAST({user} AS BIGINT) AS u, "
                                f"CAST({item} AS BIGINT) AS i FROM {call.table_sql}",
                       call.where)
    if pairs.isna().any().any():
        raise SchemaError("Data of user and item column must not be null.", at=call.where)
    rows = swing_scores(zip(pairs["u"].astype(int), pairs["i"].astype(int), strict=True),
                        options)
    return table_subquery(context, "__mlsql_swing", COLUMNS, rows)


def swing_options(given: Mapping[str, str], where: Site) -> dict[str, float]:
    options = dict(DEFAULTS)
    for name, text in given.items():
        try:
            value = float(text)
        except ValueError:
            raise OptionError(f"ML_SWING's {name} is a number, not {text!r}", at=where) from None
        least = 1 if name in AT_LEAST_ONE else 0
        if value < least or (name in WHOLE and value != int(value)):
            kind = "a whole number" if name in WHOLE else "a number"
            raise OptionError(f"ML_SWING's {name} must be {kind} >= {least}, not {text!r}",
                              at=where)
        options[name] = value
    if options["max_user_behavior"] < options["min_user_behavior"]:
        raise OptionError(
            "The maxUserBehavior must be greater than or equal to minUserBehavior. The current "
            f"setting: maxUserBehavior={int(options['max_user_behavior'])}, "
            f"minUserBehavior={int(options['min_user_behavior'])}.", at=where)
    return options


def swing_scores(pairs, options: Mapping[str, float]) -> list[list[float]]:
    """(item, similar item, score, rank) rows from distinct (user, item) pairs."""
    items_of: dict[int, set[int]] = defaultdict(set)
    for user, item in pairs:
        items_of[user].add(item)
    users = {u: items for u, items in items_of.items()
             if options["min_user_behavior"] <= len(items) <= options["max_user_behavior"]}
    weight = {u: (options["alpha1"] + len(items)) ** -options["beta"]
              for u, items in users.items()}
    buyers: dict[int, list[int]] = defaultdict(list)
    for user in sorted(users):
        for item in users[user]:
            buyers[item].append(user)
    sampler = random.Random(int(options["seed"]))
    rows = []
    for item in sorted(buyers):
        chosen = _reservoir(buyers[item], int(options["max_user_num_per_item"]), sampler)
        scores: dict[int, float] = defaultdict(float)
        for u, v in itertools.combinations(chosen, 2):
            shared = users[u] & users[v]
            similarity = weight[u] * weight[v] / (options["alpha2"] + len(shared))
            for other in shared - {item}:
                scores[other] += similarity
        ranked = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
        rows += [[item, other, score, rank + 1]
                 for rank, (other, score) in enumerate(ranked[: int(options["k"])])]
    return rows


def _reservoir(users: list[int], size: int, sampler: random.Random) -> list[int]:
    """At most `size` of `users`, each kept with equal chance (reservoir sampling)."""
    kept = users[:size]
    for seen, user in enumerate(users[size:], start=size + 1):
        slot = sampler.randrange(seen)
        if slot < size:
            kept[slot] = user
    return kept


ANALYSES = {ir.SWING: swing_subquery}
