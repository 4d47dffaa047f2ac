"""Payment-date prediction: plain Python + numpy + LightGBM, no ORM.

The features of an item (an invoice) describe what was known when it was issued (training) or
at the cut-off date (prediction): the customer's history of days late before it, the item's
amount against the customer's usual amount, its terms and due date, the customer's dunning,
promise and dispute record. The target is the item's days late (payment date - due date).

Four LightGBM models are trained on the paid items: quantile regressors for the 10 %, 50 % and
90 % quantiles of the days late (the band and the expected value) and a binary classifier for
"paid more than 30 days late". Training is deterministic (fixed seed, one thread,
``deterministic=True``): the same ledger gives the same boosters.

``pred_contrib=True`` splits each prediction of the median model into one contribution per
feature plus a base value (SHAP values): their sum is the prediction (in days late); the
largest contributions explain the prediction in words (:func:`explain`). They are computed for
the predictions a user reads (:func:`contributions`), from the features stored with each
prediction: the same numbers as at prediction time, without computing them for every item.
"""

import math
import os

import numpy as np

# Feature columns, in the order of the SQL's output and of the model's input.
FEATURES = (
    "hist_mean_late",  # customer's mean days late before the item (NaN: no history)
    "hist_median_late",  # customer's median days late before the item
    "hist_trend",  # mean days late of the last 5 payments - mean of the earlier ones
    "amount_ratio",  # item amount / the customer's median amount before the item
    "term_days",  # payment term in days (due date - invoice date)
    "due_weekday",  # 0 = Monday
    "due_month",  # 1-12
    "dunning_days",  # highest dunning level reached before (the level's days overdue)
    "broken_promises",  # promises to pay broken before
    "disputes",  # disputes opened before
    "late_share",  # share of the earlier invoices paid late (0-1)
    "relationship_days",  # days since the customer's first invoice
    "hist_count",  # number of paid invoices before the item
    "rule_late",  # the rule's estimate: the customer's amount-weighted average days late (0: none)
)
# The models learn the residual days late - the rule's estimate (:data:`RULE`): without a
# pattern beyond the customer's average they predict about the rule.
RULE = FEATURES.index("rule_late")
# Features that name a category, not an amount: the month of the due date. As a number, a
# month without history (a ledger of less than a year before the cut-off: the months after it)
# would get the effect of its neighbour (after August's holidays, September's items were
# predicted as late as August's); as a category, a month the model has not seen gets no effect.
CATEGORICAL = ("due_month",)

LATE_DAYS = 30  # the classifier's threshold: paid more than this many days late
MIN_TRAINING_SAMPLES = 30  # fewer paid items: no model, everything follows the rule
MIN_HISTORY = 3  # a customer with fewer paid invoices before the item follows the rule
MAX_TRAINING_SAMPLES = 20000  # the most recent paid items a model learns from

_QUANTILES = {"q10": 0.1, "q50": 0.5, "q90": 0.9}
NUM_ROUNDS = 120  # boosting rounds, at the learning rate of _params()
# The expected date's rounds (the first trees of the median model) are chosen per company by a
# backtest one period earlier (:func:`backtest`'s "best_rounds"): 0 keeps the rule's date
# (the band and the probability stay the models'); more rounds follow the company's patterns
# more closely and, on a ledger without patterns beyond the customer's average, fit noise.
# The band always reads the median model at NUM_ROUNDS.
MEDIAN_ROUNDS = (0, 10, 20, 40, 60, 80, 120, 200)
BAND_LEVEL = 0.8  # the share of payments the 10-90 % band should hold
CALIBRATION_SHARE = 0.2  # the most recent share of the training items that calibrates the band
MIN_CALIBRATION = 20  # fewer calibration items: the band stays as the quantile models give it


def _params(n_samples, objective, **extra):
    return {
        "objective": objective,
        # small steps, many rounds (NUM_ROUNDS): on a ledger without patterns beyond the
        # customer's average the residual stays near 0, i.e. the prediction near the rule
        "learning_rate": 0.03,
        "num_leaves": 8,
        "min_data_in_leaf": max(3, min(10, n_samples // 20)),
        "min_data_in_bin": 1,
        "feature_fraction": 1.0,
        "bagging_fraction": 1.0,
        "lambda_l2": 1.0,
        "seed": 42,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        "verbose": -1,
        **extra,
    }


def matrix(rows):
    """The feature matrix (float64, NaN for missing) of ``rows``: dicts or sequences in
    :data:`FEATURES` order."""
    if not len(rows):
        return np.empty((0, len(FEATURES)))
    if isinstance(rows[0], dict):
        rows = [[row.get(name) for name in FEATURES] for row in rows]
    # numpy reads None as NaN in a float array
    return np.array(rows, dtype=np.float64)


def rule_of(features):
    """The rule's estimate of each row of ``features`` (days late; 0 without history)."""
    return np.nan_to_num(np.asarray(features, dtype=np.float64)[:, RULE])


def _dataset(lgb, features, label, reference=None):
    return lgb.Dataset(
        features,
        label=label,
        feature_name=list(FEATURES),
        categorical_feature=list(CATEGORICAL),
        reference=reference,
        free_raw_data=False,
    )


def _fit(lgb, features, label, params, num_rounds):
    return lgb.train(params, _dataset(lgb, features, label), num_boost_round=num_rounds)


def band_widening(features, target, num_rounds=NUM_ROUNDS):
    """Conformal calibration of the 10-90 % band (conformalized quantile regression): the
    10 % / 90 % models trained on the older part of ``features`` (rows in time order) predict
    the most recent :data:`CALIBRATION_SHARE`; the nonconformity of an item is how far its
    days late lie outside its band (negative inside); the band is widened (or narrowed) by
    their :data:`BAND_LEVEL` quantile (finite-sample corrected), so that about that share of
    the recent items would have been inside. 0.0 with too few items to split."""
    import lightgbm as lgb  # noqa: PLC0415

    n_samples = len(target)
    n_calib = int(n_samples * CALIBRATION_SHARE)
    if n_calib < MIN_CALIBRATION or n_samples - n_calib < MIN_TRAINING_SAMPLES:
        return 0.0
    fit_x, fit_y = features[:-n_calib], target[:-n_calib]
    cal_x, cal_y = features[-n_calib:], target[-n_calib:]
    fit_residual = fit_y - rule_of(fit_x)
    bounds = [
        rule_of(cal_x)
        + _fit(lgb, fit_x, fit_residual, _params(len(fit_y), "quantile", alpha=alpha), num_rounds).predict(
            cal_x
        )
        for alpha in (_QUANTILES["q10"], _QUANTILES["q90"])
    ]
    low, high = np.minimum(*bounds), np.maximum(*bounds)
    scores = np.maximum(low - cal_y, cal_y - high)
    level = min(1.0, math.ceil((n_calib + 1) * BAND_LEVEL) / n_calib)
    return float(np.quantile(scores, level, method="higher"))


def train(features, target, num_rounds=NUM_ROUNDS, median_rounds=None):
    """Train the four models on ``features`` (n x len(FEATURES), rows in time order) and
    ``target`` (days late): the quantile models learn the residual target - the rule's
    estimate, with ``num_rounds`` boosting rounds (tests pass fewer); the expected date reads
    the first ``median_rounds`` trees of the median model (default: ``num_rounds``; 0: the
    rule's date; the median model gets as many rounds as either needs). Returns
    {"q10"|"q50"|"q90"|"late": booster model string (or a constant), "band": the band's
    conformal widening in days (:func:`band_widening`), "band_rounds": ``num_rounds``,
    "median_rounds"}; raises ValueError with fewer than :data:`MIN_TRAINING_SAMPLES`
    samples."""
    import lightgbm as lgb  # noqa: PLC0415 - heavy import only where a model is trained

    features = np.asarray(features, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    n_samples = len(target)
    if n_samples < MIN_TRAINING_SAMPLES:
        raise ValueError(f"{n_samples} paid items, at least {MIN_TRAINING_SAMPLES} needed")
    models = {}
    residual = target - rule_of(features)
    median_rounds = num_rounds if median_rounds is None else median_rounds
    for key, alpha in _QUANTILES.items():
        rounds = max(num_rounds, median_rounds) if key == "q50" else num_rounds
        booster = _fit(lgb, features, residual, _params(n_samples, "quantile", alpha=alpha), rounds)
        models[key] = booster.model_to_string()
    models["band_rounds"] = num_rounds
    models["median_rounds"] = median_rounds
    late = (target > LATE_DAYS).astype(np.float64)
    if 0 < late.sum() < n_samples:
        models["late"] = _fit(lgb, features, late, _params(n_samples, "binary"), num_rounds).model_to_string()
    else:
        # one class only: the probability is that class's (stored as a constant)
        models["late"] = float(late.mean()) if n_samples else 0.0
    models["band"] = band_widening(features, target, num_rounds)
    return models


def load(models, keys=None):
    """Boosters of :func:`train`'s strings (the classifier may be a constant probability);
    ``keys``: only those (e.g. ("q50",) for :func:`contributions`)."""
    import lightgbm as lgb  # noqa: PLC0415

    return {
        key: (lgb.Booster(model_str=value) if isinstance(value, str) else float(value))
        for key, value in models.items()
        if keys is None or key in keys
    }


def _predict_one(booster, features, rounds=None, **kwargs):
    """``booster``'s predictions for ``features`` from its first ``rounds`` trees (None: all;
    0: none, i.e. 0.0); a constant (a model :func:`train` left out) predicts itself for every
    row."""
    if isinstance(booster, float):
        return np.full(len(features), booster)
    if rounds is not None:
        if not rounds:
            return np.zeros(len(features))
        kwargs["num_iteration"] = int(rounds)
    return booster.predict(features, num_threads=num_threads(), **kwargs)


def _rounds(boosters, key):
    """The rounds ``boosters`` say to read of the median model for ``key`` ("band_rounds" or
    "median_rounds"; None: all trees, as files trained before the choice have them)."""
    value = boosters.get(key)
    return None if value is None else int(value)


def predict(boosters, features):
    """Predictions of the loaded ``boosters`` for ``features``: a dict of arrays q10, q50, q90
    (days late, the band's quantiles: the outer ones sorted so that q10 <= q50 <= q90),
    point (the expected days late: the median model's first "median_rounds" trees, see
    :data:`MEDIAN_ROUNDS`), late (probability of paying more than :data:`LATE_DAYS` days
    late), raw_q50 (= point: what :func:`contributions` sum to) and widening (the band's
    calibration). The
    contributions are not computed here (they cost more than the four predictions together):
    :func:`contributions` gives them for the rows a user looks at."""
    features = np.asarray(features, dtype=np.float64)
    n = len(features)
    if not n:
        empty = np.empty(0)
        return {
            "q10": empty,
            "q50": empty,
            "q90": empty,
            "point": empty,
            "late": empty,
            "raw_q50": empty,
            "widening": 0.0,
        }
    rule = rule_of(features)
    band_rounds = _rounds(boosters, "band_rounds")
    raw = {
        key: rule + _predict_one(boosters[key], features, band_rounds if key == "q50" else None)
        for key in _QUANTILES
    }
    point = rule + _predict_one(boosters["q50"], features, _rounds(boosters, "median_rounds"))
    late = _predict_one(boosters["late"], features)
    stacked = np.sort(np.vstack([raw["q10"], raw["q50"], raw["q90"]]), axis=0)
    return {
        "q10": stacked[0],
        "q50": raw["q50"],
        "q90": stacked[2],
        "point": point,
        "late": late,
        "raw_q50": point,
        "widening": max(float(boosters.get("band", 0.0)), 0.0),
    }


def contributions(boosters, features):
    """Each feature's contribution (SHAP values, days late) to the median prediction of
    ``features``: n x (len(FEATURES) + 1), the base value last (the rule's estimate + the
    residual model's base); each row sums to :func:`predict`'s raw_q50. ``boosters``: a dict
    with at least the loaded "q50" booster."""
    features = np.asarray(features, dtype=np.float64)
    if not len(features):
        return np.empty((0, len(FEATURES) + 1))
    rounds = _rounds(boosters, "median_rounds")
    if rounds == 0:
        # the expected date is the rule's (see MEDIAN_ROUNDS): no feature contributes beyond it
        contrib = np.zeros((len(features), len(FEATURES) + 1))
    else:
        contrib = _predict_one(boosters["q50"], features, rounds, pred_contrib=True)
    contrib[:, -1] += rule_of(features)
    return contrib


def num_threads():
    """LightGBM's threads for predicting: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_LEVELS = np.array([0.0, 0.1, 0.5, 0.9, 1.0])


def _knots(result):
    """Per item, the days late at the levels :data:`_LEVELS` of a piecewise-linear distribution
    through the three predicted quantiles: the lower tail as dense as the 10-50 % segment, the
    upper tail (late payers pay very late) four times wider than the 50-90 % segment."""
    q10, q50, q90 = result["q10"], np.maximum(result["q50"], result["q10"] + 0.01), result["q90"]
    q90 = np.maximum(q90, q50 + 0.01)
    return np.stack(
        [q10 - np.maximum((q50 - q10) / 4, 0.5), q10, q50, q90, q90 + np.maximum(q90 - q50, 1.0)], axis=1
    )


def _cdf(knots, days):
    level = np.where(days >= knots[:, -1], 1.0, 0.0)
    for k in range(4):
        inside = (days >= knots[:, k]) & (days < knots[:, k + 1])
        share = (days - knots[:, k]) / (knots[:, k + 1] - knots[:, k])
        level = np.where(inside, _LEVELS[k] + share * (_LEVELS[k + 1] - _LEVELS[k]), level)
    return level


def _quantile(knots, level):
    days = knots[:, -1].copy()
    for k in range(4):
        inside = (level >= _LEVELS[k]) & (level < _LEVELS[k + 1])
        share = (level - _LEVELS[k]) / (_LEVELS[k + 1] - _LEVELS[k])
        days = np.where(inside, knots[:, k] + share * (knots[:, k + 1] - knots[:, k]), days)
    return days


def clamp_band(result, min_late):
    """Low/mid/high days late of items still open ``min_late`` days after their due date (the
    cut-off - due date): the 10/50/90 % quantiles of the predicted distribution given that the
    item is paid no earlier than that (read from the three quantiles, see :func:`_knots`); past
    the distribution's upper end, the cut-off plus the 10/50/90 % of that tail's width."""
    min_late = np.asarray(min_late, dtype=np.float64)
    widening = result.get("widening", 0.0)
    # the expected date: the point prediction in the band's distribution
    middle = _band(_knots(dict(result, q50=result.get("point", result["q50"]))), min_late, 0.5)
    if widening:
        # the calibrated band (see band_widening): the outer quantiles moved apart
        result = dict(result, q10=result["q10"] - widening, q90=result["q90"] + widening)
    knots = _knots(result)
    low, high = _band(knots, min_late, 0.1), _band(knots, min_late, 0.9)
    mid = np.maximum(middle, low)
    return low, mid, np.maximum(high, mid)


def _band(knots, min_late, level):
    """The ``level`` quantile of the distribution of ``knots`` given paid no earlier than
    ``min_late`` (see :func:`clamp_band`)."""
    paid_share = _cdf(knots, min_late)  # predicted share paid before the cut-off
    conditional = _quantile(knots, paid_share + (1.0 - paid_share) * level)
    beyond = min_late + level * (knots[:, -1] - knots[:, -2])
    return np.maximum(np.where(paid_share >= 0.999, beyond, conditional), min_late)


def top_contributions(values, contrib, labels, top=3):
    """The ``top`` largest contributions (by absolute days) of one prediction: a list of
    (feature index, rounded days) by decreasing weight, leaving out features without a label in
    ``labels``, missing values (NaN) and zero-day contributions."""
    order = sorted(range(len(FEATURES)), key=lambda i: (-abs(contrib[i]), i))
    result = []
    for i in order:
        days = round(float(contrib[i]))
        value = values[i]
        if FEATURES[i] not in labels or not days or value is None or math.isnan(float(value)):
            continue
        result.append((i, days))
        if len(result) == top:
            break
    return result


def top_contributions_matrix(features, contrib, top=3):
    """:func:`top_contributions` of every row of ``features`` at once (every feature labelled):
    per row, the list of (feature index, rounded days) of the ``top`` largest contributions of
    known values (not NaN) that round to at least a day, by decreasing weight (ties: the
    feature's order)."""
    width = len(FEATURES)
    weights = np.asarray(contrib)[:, :width]
    days = np.rint(weights)
    valid = (days != 0) & ~np.isnan(features)
    order = np.argsort(np.where(valid, -np.abs(weights), np.inf), axis=1, kind="stable")[:, :top]
    picked_valid = np.take_along_axis(valid, order, axis=1).tolist()
    picked_days = np.take_along_axis(days, order, axis=1).astype(np.int64).tolist()
    return [
        [(index, day) for index, day, ok in zip(indices, day_row, ok_row, strict=True) if ok]
        for indices, day_row, ok_row in zip(order.tolist(), picked_days, picked_valid, strict=True)
    ]


def explain(values, contrib, labels, top=3):
    """The :func:`top_contributions` in words: ``labels`` maps a feature name to a
    callable(value) -> phrase (e.g. "this invoice is 4× the usual amount"). Returns the list of
    (phrase, rounded days)."""
    return [
        (labels[FEATURES[i]](values[i]), days) for i, days in top_contributions(values, contrib, labels, top)
    ]


def backtest(
    train_features,
    train_target,
    test_features,
    test_actual,
    test_rule,
    test_min_late,
    num_rounds=NUM_ROUNDS,
    median_rounds=None,
):
    """Time-split backtest: train on ``train_*`` (items paid up to the cut-off), predict the
    items open at the cut-off whose payment is known (``test_actual`` days late), compare with
    the rule (``test_rule`` days late). Both predictions are clamped at the cut-off
    (``test_min_late``); as in production, an item of a customer with fewer than
    :data:`MIN_HISTORY` earlier payments gets the rule's date (the band stays the model's).
    The model's figures are those of a median model of ``median_rounds`` rounds (default
    ``num_rounds``); every count of :data:`MEDIAN_ROUNDS` is tried as well (one median model,
    its first trees: boosting is sequential and training deterministic), for the next period's
    choice. Returns mae_model, mae_rule (mean absolute
    error in days), coverage (share of actual payments inside the model's band, 0-1), count,
    median_rounds, curve ({rounds: mae_model}) and best_rounds (the count of
    :data:`MEDIAN_ROUNDS` with the lowest error, the fewest on a tie); the model's figures are
    None when there is too little history to train."""
    actual = np.asarray(test_actual, dtype=np.float64)
    min_late = np.asarray(test_min_late, dtype=np.float64)
    rule = np.maximum(np.asarray(test_rule, dtype=np.float64), min_late)
    median_rounds = num_rounds if median_rounds is None else median_rounds
    result = {
        "count": len(actual),
        "mae_rule": None,
        "mae_model": None,
        "coverage": None,
        "median_rounds": median_rounds,
        "curve": {},
        "best_rounds": None,
    }
    if not len(actual):
        return result
    result["mae_rule"] = float(np.mean(np.abs(rule - actual)))
    if len(train_target) < MIN_TRAINING_SAMPLES:
        return result
    tried = sorted(set(MEDIAN_ROUNDS) | {median_rounds})
    boosters = load(train(train_features, train_target, num_rounds=num_rounds, median_rounds=tried[-1]))
    test_features = np.asarray(test_features, dtype=np.float64)
    fallback = np.nan_to_num(test_features[:, FEATURES.index("hist_count")]) < MIN_HISTORY
    for rounds in tried:
        boosters["median_rounds"] = rounds
        low, mid, high = clamp_band(predict(boosters, test_features), min_late)
        mid = np.where(fallback, rule, mid)
        result["curve"][rounds] = float(np.mean(np.abs(mid - actual)))
        if rounds == median_rounds:
            result["mae_model"] = result["curve"][rounds]
            result["coverage"] = float(np.mean((actual >= np.floor(low)) & (actual <= np.ceil(high))))
    result["best_rounds"] = min(MEDIAN_ROUNDS, key=lambda rounds: (result["curve"][rounds], rounds))
    return result
