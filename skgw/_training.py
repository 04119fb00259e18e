"""The training loop of the estimators that learn torch parameters: epochs, an optional
learning-rate schedule and validation, the best epoch's weights kept, a stop on a non-finite
loss, and a progress bar."""

import copy
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

from ._progress import progress

__all__ = ["TrainingHistory", "train"]


@dataclass
class TrainingHistory:
    """What :func:`train` saw: one entry per completed epoch.

    Attributes
    ----------
    loss_curve : list of float
        Training loss of each epoch (what ``run_epoch`` returned).
    validation_loss_curve : list of float
        Validation loss of each epoch (empty without ``validate``).
    best_epoch : int
        Epoch whose weights were kept (0-based): the lowest validation loss, or the lowest
        training loss without ``validate``.
    """

    loss_curve: list = field(default_factory=list)
    validation_loss_curve: list = field(default_factory=list)
    best_epoch: int = -1


def train(
    run_epoch,
    n_epochs,
    *,
    module=None,
    validate=None,
    schedule=None,
    advice="lower learning_rate or use dtype='float64'",
    verbose=0,
    desc=None,
):
    """Run ``n_epochs`` epochs of ``run_epoch`` and keep the best weights of ``module``.

    Parameters
    ----------
    run_epoch : callable
        ``run_epoch(epoch) -> float``: one epoch of optimisation steps, returning its mean loss.
    n_epochs : int
    module : torch.nn.Module, default=None
        Put in train mode for ``run_epoch`` and in eval mode for ``validate``; its weights at the
        end of the best epoch (lowest validation loss, or lowest training loss without
        ``validate``) are loaded back at the end.
    validate : callable, default=None
        ``validate() -> float``, run without gradient after each epoch.
    schedule : torch.optim.lr_scheduler.LRScheduler, default=None
        Stepped after each epoch.
    advice : str
        What the error or warning on a non-finite loss tells the user to do.
    verbose : int, default=0
        A progress bar over the epochs, with the losses, when positive.
    desc : str, default=None
        Label of the progress bar.

    Returns
    -------
    history : TrainingHistory

    Raises
    ------
    FloatingPointError
        When an epoch's loss is not finite and there are no earlier weights to fall back on
        (the first epoch, or no ``module``). Otherwise training stops with a
        ``RuntimeWarning``, and the weights of the best epoch so far are kept.
    """
    history = TrainingHistory()
    best_loss, best_state = np.inf, None
    epochs = progress(range(n_epochs), verbose=verbose, desc=desc, unit="epoch")
    for epoch in epochs:
        if module is not None:
            module.train()
        loss = run_epoch(epoch)
        validation_loss = None
        if validate is not None:
            if module is not None:
                module.eval()
            with torch.no_grad():
                validation_loss = validate()
        watched = loss if validate is None else validation_loss
        if not np.isfinite(watched):
            kind = "training" if validate is None else "validation"
            message = f"The {kind} loss became {watched} at epoch {epoch}; {advice}."
            if best_state is None:
                raise FloatingPointError(message)
            warnings.warn(
                f"{message} Training stopped; the weights of epoch {history.best_epoch} are kept.",
                RuntimeWarning,
                stacklevel=3,
            )
            break
        history.loss_curve.append(loss)
        if validate is None:
            epochs.set_postfix(loss=f"{loss:.4g}")
        else:
            history.validation_loss_curve.append(validation_loss)
            epochs.set_postfix(loss=f"{loss:.4g}", validation=f"{validation_loss:.4g}")
        if watched < best_loss or module is None:
            best_loss, history.best_epoch = watched, epoch
            if module is not None:
                best_state = copy.deepcopy(module.state_dict())
        if schedule is not None:
            schedule.step()
    if best_state is not None:
        module.load_state_dict(best_state)
    if module is not None:
        module.eval()
    return history
