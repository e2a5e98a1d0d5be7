"""A Pipeline API like Flink ML's over PyFlink Tables:

    from mlsql.pipeline import Pipeline, StandardScaler, StringIndexer, OneHotEncoder, ...
    model = Pipeline([StandardScaler(columns=["amount"]),
                      StringIndexer(columns=["merchant"], output_cols=["merchant_index"]),
                      OneHotEncoder(columns=["merchant_index"], output_cols=["merchant"]),
                      LogisticRegression(label="is_fraud")]).fit(table, name="fraud")
    scored = model.predict(table)            # a Table; PipelineModel.load("fraud") reads it back

Every model type has its estimator class (mlsql.pipeline.estimators)."""

from mlsql.pipeline.estimators import ESTIMATORS, Estimator, class_name
from mlsql.pipeline.evaluation import BinaryClassificationEvaluator
from mlsql.pipeline.pipeline import FittedStage, Pipeline, PipelineModel
from mlsql.pipeline.recommendation import Swing
from mlsql.pipeline.splitter import RandomSplitter
from mlsql.pipeline.stages import (
    DCT,
    IDF,
    TRANSFORMERS,
    Binarizer,
    Bucketizer,
    CountVectorizer,
    ElementwiseProduct,
    FeatureHasher,
    HashingTF,
    Imputer,
    IndexToString,
    Interaction,
    KBinsDiscretizer,
    MaxAbsScaler,
    MinMaxScaler,
    NGram,
    Normalizer,
    OneHotEncoder,
    PolynomialExpansion,
    RegexTokenizer,
    RobustScaler,
    SQLTransformer,
    StandardScaler,
    StopWordsRemover,
    StringIndexer,
    Tokenizer,
    Transformer,
    UnivariateFeatureSelector,
    ValueOneHotEncoder,
    VarianceThresholdSelector,
    VectorAssembler,
    VectorIndexer,
    VectorSlicer,
)
from mlsql.pipeline.stats import ANOVATest, ChiSqTest, FValueTest

globals().update(ESTIMATORS)

__all__ = ["ANOVATest", "DCT", "IDF", "TRANSFORMERS", "Binarizer", "BinaryClassificationEvaluator",
           "Bucketizer", "ChiSqTest", "CountVectorizer", "ElementwiseProduct", "Estimator",
           "FValueTest", "FeatureHasher", "FittedStage", "HashingTF", "Imputer", "IndexToString",
           "Interaction", "KBinsDiscretizer", "MaxAbsScaler", "MinMaxScaler", "NGram", "Normalizer",
           "OneHotEncoder", "Pipeline", "PipelineModel", "PolynomialExpansion", "RandomSplitter",
           "RegexTokenizer", "RobustScaler", "SQLTransformer", "StandardScaler", "StopWordsRemover",
           "Swing", "StringIndexer", "Tokenizer", "Transformer", "UnivariateFeatureSelector",
           "ValueOneHotEncoder", "VarianceThresholdSelector", "VectorAssembler", "VectorIndexer",
           "VectorSlicer", "class_name", *ESTIMATORS]
