"""The model statements: CREATE MODEL (batch or online training, or IMPORT), SHOW MODELS,
DESCRIBE MODEL, SHOW CREATE MODEL, ALTER MODEL and DROP MODEL."""

from __future__ import annotations

import pandas as pd

from mlsql.errors import FlinkError
from mlsql.planner import manage, train
from mlsql.planner.import_model import import_model
from mlsql.runtime.bad_data import explain_bad_data
from mlsql.runtime.job_handle import JobHandle
from mlsql.statements.dispatch import handles
from mlsql.statements.host import Host
from mlsql.streaming import online
from mlsql.syntax import ir
from mlsql.syntax.splitter import Statement
from mlsql.tuning import resolve_options


@handles(ir.CreateModel)
def create_model(host: Host, statement: Statement, parsed: ir.CreateModel,
                 collect: bool) -> pd.DataFrame | JobHandle | None:
    host.kafka.check_brokers(statement.tokens)
    options = resolve_options(parsed.option_map)  # once: every option checked before a job
    try:
        if options.model_type.online:
            job = online.start_training(parsed, options.model_type, options.values,
                                        host.context)
            return job and host.track(job)
        return train.train(parsed, host.context, options).to_frame()
    except FlinkError as error:  # a malformed record in the training data: where is it?
        raise explain_bad_data(error, statement.tokens, host.runtime.t_env) from None


@handles(ir.ImportModel)
def import_(host: Host, statement: Statement, parsed: ir.ImportModel,
            collect: bool) -> pd.DataFrame:
    return import_model(parsed, host.context)


@handles(ir.ShowModels)
def show_models(host: Host, statement: Statement, parsed: ir.ShowModels,
                collect: bool) -> pd.DataFrame:
    return manage.show_models(parsed, host.registry)


@handles(ir.DescribeModel)
def describe_model(host: Host, statement: Statement, parsed: ir.DescribeModel,
                   collect: bool) -> pd.DataFrame:
    return manage.describe_model(parsed, host.context)


@handles(ir.ShowCreateModel)
def show_create_model(host: Host, statement: Statement, parsed: ir.ShowCreateModel,
                      collect: bool) -> pd.DataFrame:
    return manage.show_create_model(parsed, host.context)


@handles(ir.AlterModel)
def alter_model(host: Host, statement: Statement, parsed: ir.AlterModel,
                collect: bool) -> None:
    return manage.alter_model(parsed, host.registry)


@handles(ir.DropModel)
def drop_model(host: Host, statement: Statement, parsed: ir.DropModel,
               collect: bool) -> None:
    return manage.drop_model(parsed, host.registry)
