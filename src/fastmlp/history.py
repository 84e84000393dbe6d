"""History: what happened in each epoch of a training run."""
from __future__ import annotations

from typing import Any

FIELDS = ("epoch", "train_cost", "train_accuracy", "val_cost", "val_accuracy", "lr", "seconds")


class History:
    """Per-epoch records of one `Network.fit` run (or of successive partial_fit calls).

    Each field is a list with one entry per epoch, as an attribute or by key
    (``history.val_accuracy`` or ``history["val_accuracy"]``):

    epoch
        1 for the first epoch of the network's life; a second `fit` continues the count.
    train_cost, train_accuracy
        Averages over the epoch's mini-batches, each measured on the forward pass just
        before its update (so they trail the end-of-epoch network slightly).  The cost
        leaves out the L2 term.  Accuracy is None for an identity (regression) output.
    val_cost, val_accuracy
        Of the network at the end of the epoch on ``validation_data`` (None without it).
    lr
        The learning rate used during the epoch.
    seconds
        Wall time of the epoch, validation included.

    ``stopped`` says why training ended: "epochs", "early_stopping", "lr_schedule",
    "callback", "interrupted" (Ctrl-C: the interrupted epoch was rolled back and is not
    recorded) or "diverged"; ``best_epoch`` is the epoch whose weights early stopping
    restored.  `Network.partial_fit` appends one epoch per call.
    """

    epoch: list[int]
    train_cost: list[float]
    train_accuracy: list[float | None]
    val_cost: list[float | None]
    val_accuracy: list[float | None]
    lr: list[float]
    seconds: list[float]

    def __init__(self) -> None:
        for field in FIELDS:
            setattr(self, field, [])
        self.stopped: str | None = None
        self.best_epoch: int | None = None

    def append(self, **record: Any) -> None:
        """Add one epoch's record: a keyword argument for every field."""
        for field in FIELDS:
            getattr(self, field).append(record[field])

    def __getitem__(self, field: str) -> list[Any]:
        if field not in FIELDS:
            raise KeyError(f"{field!r} is not one of {', '.join(FIELDS)}")
        return getattr(self, field)

    def __len__(self) -> int:
        return len(self.epoch)

    def records(self) -> list[dict[str, Any]]:
        """One dict per epoch."""
        return [dict(zip(FIELDS, values)) for values in zip(*(self[f] for f in FIELDS))]

    def __repr__(self) -> str:
        if not self.epoch:
            return "History(no epochs)"
        last = self.records()[-1]
        shown = ", ".join(f"{k}={v:.4g}" for k, v in last.items()
                          if k != "epoch" and v is not None)
        return f"History({len(self)} epochs, last: epoch {last['epoch']}: {shown})"
