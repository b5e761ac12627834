"""The engine's estimators keep scikit-learn's estimator contract: every check of `parametrize_with_checks`.

Small, fast parameters (a few boosting rounds, two folds) keep the whole set to a few seconds; the checks
are about the API (validation, fitted attributes, sample weights, feature names, pickling, invariances),
not about how well the models score.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from matcher.engine.model import QuantisedBoosting, RulePrior, StayModel


@parametrize_with_checks([RulePrior(), StayModel(max_iter=5, cv=2), QuantisedBoosting(max_iter=5)])
def test_sklearn_estimator_checks(estimator, check):
    # One OpenMP thread: the checks fit hundreds of tiny models, and a second thread only adds waiting.
    with threadpool_limits(limits=1, user_api="openmp"):
        check(estimator)
