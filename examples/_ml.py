"""Tiny pure-Python ML helpers that the examples' steps use: synthetic data, logistic regression, AUC.

Real steps would call scikit-learn or PyTorch; these keep the examples runnable anywhere, in
well under a second, with the standard library only.
"""

from __future__ import annotations

import math
import random

FEATURES = ["tenure_months", "monthly_spend", "support_tickets", "discount_rate"]
SEGMENTS = ["web", "store", "partner"]

# How the synthetic labels depend on the features (the "truth" a model should recover).
_TRUE_WEIGHTS = [-1.2, 0.6, 1.1, -0.4]
_SEGMENT_EFFECT = {"web": 0.8, "store": -0.6, "partner": 0.0}


def synthetic_customers(rows: int, seed: int, null_rate: float = 0.01) -> tuple[
    list[list[float | None]], list[str], list[int]
]:
    """Standardised customer features, a sales segment per customer and a churn label (1 = churned)."""
    rng = random.Random(seed)
    features: list[list[float | None]] = []
    segments: list[str] = []
    labels: list[int] = []
    for _ in range(rows):
        x = [rng.gauss(0.0, 1.0) for _ in FEATURES]
        segment = rng.choice(SEGMENTS)
        logit = sum(w * v for w, v in zip(_TRUE_WEIGHTS, x)) + _SEGMENT_EFFECT[segment] - 0.3
        labels.append(1 if rng.random() < sigmoid(logit) else 0)
        features.append([None if rng.random() < null_rate else round(v, 4) for v in x])
        segments.append(segment)
    return features, segments, labels


def segment_embeddings(dim: int, seed: int) -> dict[str, list[float]]:
    """A small embedding per segment; its first coordinate carries the segment's real effect."""
    rng = random.Random(seed)
    return {
        segment: [round(_SEGMENT_EFFECT[segment] + rng.gauss(0.0, 0.05), 4)]
        + [round(rng.gauss(0.0, 0.3), 4) for _ in range(dim - 1)]
        for segment in SEGMENTS
    }


def sigmoid(z: float) -> float:
    if z < -30:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))


def split(n: int, holdout: float, seed: int) -> tuple[list[int], list[int]]:
    """Shuffled row indices for training and for the held-out evaluation set."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    cut = int(n * (1.0 - holdout))
    return order[:cut], order[cut:]


def train_logistic(
    x: list[list[float]], y: list[int], *, epochs: int = 120, learning_rate: float = 0.5, l2: float = 1e-3
) -> tuple[list[float], float]:
    """Logistic regression by full-batch gradient descent: (weights, bias)."""
    n, d = len(x), len(x[0])
    weights, bias = [0.0] * d, 0.0
    for _ in range(epochs):
        grad_w, grad_b = [0.0] * d, 0.0
        for row, label in zip(x, y):
            error = sigmoid(sum(w * v for w, v in zip(weights, row)) + bias) - label
            grad_b += error
            for j, v in enumerate(row):
                grad_w[j] += error * v
        weights = [w - learning_rate * (g / n + l2 * w) for w, g in zip(weights, grad_w)]
        bias -= learning_rate * grad_b / n
    return weights, bias


def predict(weights: list[float], bias: float, rows: list[list[float]]) -> list[float]:
    return [sigmoid(sum(w * v for w, v in zip(weights, row)) + bias) for row in rows]


def auc(labels: list[int], scores: list[float]) -> float:
    """Area under the ROC curve: the chance that a random positive outscores a random negative."""
    ranked = sorted(zip(scores, labels))
    rank_sum, positives, i = 0.0, 0, 0
    while i < len(ranked):  # average ranks over ties
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        tied_positives = sum(label for _, label in ranked[i:j])
        rank_sum += tied_positives * (i + 1 + j) / 2
        positives += tied_positives
        i = j
    negatives = len(ranked) - positives
    if positives == 0 or negatives == 0:
        return 0.5
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def log_loss(labels: list[int], scores: list[float]) -> float:
    eps = 1e-9
    return -sum(y * math.log(p + eps) + (1 - y) * math.log(1 - p + eps) for y, p in zip(labels, scores)) / len(labels)
