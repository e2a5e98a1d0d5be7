"""Gaussian naive Bayes on the workers: class priors, per-class means and variances in
predictor.json (mlsql/models/naive_bayes.py)."""

from __future__ import annotations

from typing import Any

import numpy as np


class GaussianNbScorer:
    """scikit-learn's GaussianNB joint log-likelihood, term for term, and its probabilities
    by log-sum-exp."""

    def __init__(self, payload: dict[str, Any], directory: str) -> None:
        self.log_prior = np.log(np.asarray(payload["class_prior"], dtype=np.float64))
        self.theta = np.asarray(payload["theta"], dtype=np.float64)
        self.var = np.asarray(payload["var"], dtype=np.float64)
        self.log_norm = -0.5 * np.sum(np.log(2.0 * np.pi * self.var), axis=1)

    def _terms(self, x: np.ndarray, k: int) -> np.ndarray:
        """-1/2 (x_j - theta_kj)^2 / var_kj per row and encoded feature."""
        return -0.5 * ((x - self.theta[k]) ** 2) / self.var[k]

    def joint_log_likelihood(self, x: np.ndarray) -> np.ndarray:
        jll = np.empty((len(x), len(self.theta)))
        for k, (theta, var) in enumerate(zip(self.theta, self.var, strict=True)):
            jll[:, k] = self.log_prior[k] + (
                self.log_norm[k] - 0.5 * np.sum(((x - theta) ** 2) / var, axis=1))
        return jll

    def scores(self, x: np.ndarray) -> np.ndarray:
        jll = self.joint_log_likelihood(x)
        top = jll.max(axis=1, keepdims=True)
        log_total = top + np.log(np.exp(jll - top).sum(axis=1, keepdims=True))
        return np.exp(jll - log_total)

    def contributions(self, x: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Two classes: the log-odds of the second, log p1 - log p0, per encoded feature (its
        two log-likelihood terms' difference) and a baseline (the priors' and the
        normalizers' difference). More: the predicted class's log-likelihood against the
        classes' mean log-likelihood, split the same way."""
        constant = self.log_prior + self.log_norm
        terms = np.stack([self._terms(x, k) for k in range(len(self.theta))])  # k x n x d
        if len(self.theta) == 2:
            return terms[1] - terms[0], np.full(len(x), constant[1] - constant[0])
        best = np.asarray(scores).argmax(axis=1)
        rows = np.arange(len(x))
        encoded = terms[best, rows] - terms.mean(axis=0)
        return encoded, constant[best] - constant.mean()


SCORERS = {"gaussian_nb": GaussianNbScorer}
