"""scikit-learn's own estimator checks, run for real on 2-D tables (rows read as point clouds)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skgw import (
    FGWKernel,
    FUGWPlanPredictor,
    GromovWassersteinFactorization,
    GWBarycenterKMeans,
)

ESTIMATORS = [
    GromovWassersteinFactorization(
        n_components=3,
        max_iter=2,
        transform_max_iter=2,
        random_state=0,
        solver_params={"max_iter": 10},
    ),
    FGWKernel(),
    FGWKernel(backend="torch", device="cpu"),
    GWBarycenterKMeans(n_clusters=3, max_iter=3, barycenter_max_iter=2, random_state=0),
    FUGWPlanPredictor(
        hidden_dim=8,
        gcn_dim=4,
        attention_dim=8,
        n_layers=1,
        max_iter=2,
        n_pairs_per_epoch=32,
        batch_size=16,
        n_validation_pairs=8,
        device="cpu",
        random_state=0,
    ),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
