"""A fit that does not finish leaves the estimator as it was."""

import functools

__all__ = ["keeps_fitted_state_on_error"]


def keeps_fitted_state_on_error(fit):
    """Decorate a ``fit`` method so that an exception, ``KeyboardInterrupt`` included, restores
    the estimator's state from before the call.

    The state is every attribute that is not a constructor parameter (``network_``,
    ``loss_curve_``, ...): a re-fit that is interrupted keeps the previous fitted model, a first
    fit leaves none. The saved copy is shallow, which suffices because the fits build their
    fitted attributes anew instead of changing the previous ones in place.
    """

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        parameters = set(self.get_params(deep=False))
        saved = {key: value for key, value in vars(self).items() if key not in parameters}
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            for key in [key for key in vars(self) if key not in parameters]:
                delattr(self, key)
            vars(self).update(saved)
            raise

    return wrapper
