"""scikit-learn's own estimator checks, run for real on 2-D tables (rows read as point clouds)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skgw import FGWKernel, GromovWassersteinFactorization, GWBarycenterKMeans

ESTIMATORS = [
    GromovWassersteinFactorization(
        n_components=3, max_iter=2, n_solver_iter=10, transform_max_iter=2, random_state=0
    ),
    FGWKernel(),
    FGWKernel(solver="torch", device="cpu"),
    GWBarycenterKMeans(n_clusters=3, max_iter=3, barycenter_max_iter=2, random_state=0),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
