"""The FeatureSet: what :class:`course.features.FeatureBuilder` returns, one row per impression."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["FeatureSet", "BINARY_TARGETS", "FLOAT_TARGETS"]

BINARY_TARGETS = ("click", "like", "collect", "share", "comment", "follow")
FLOAT_TARGETS = ("watch_time", "completion")


@dataclass
class FeatureSet:
    """Model-ready features of n impressions (rows in the order they were given).

    Attributes
    ----------
    categorical : ndarray of int64, shape (n, n_categorical)
        Codes per field, ``0`` = missing or unseen when the builder was fitted.
    numeric : ndarray of float32, shape (n, n_numeric)
        log1p'd counts and smoothed rates, standardised with the fit rows' mean and standard
        deviation; a missing value is 0 (the fit rows' mean).
    categorical_fields, numeric_fields : tuple of str
        Field names, the columns' order.
    cardinalities : tuple of int
        Number of codes of each categorical field (code 0 included): the embedding table sizes.
    targets : dict of str to ndarray of shape (n,)
        ``click … follow`` as int8 (post-click actions are 0 without a click), ``watch_time``
        and ``completion`` as float32 (NaN where not observed: no click, or an image note);
        only the label columns the impressions had.
    user_id, item_id, day : ndarray of int64, shape (n,)
        The world's ids and day of each row, for GAUC and the oracle.
    observed : ndarray of bool, shape (n, n_categorical + n_numeric)
        Whether each field's value was present (categorical fields first); the basis of
        :meth:`FeatureBuilder.coverage`.
    index : ndarray, shape (n,)
        The impressions' index labels, to join back to the logs (hour, position, request).
    """

    categorical: np.ndarray
    numeric: np.ndarray
    categorical_fields: tuple
    numeric_fields: tuple
    cardinalities: tuple
    targets: dict = field(repr=False)
    user_id: np.ndarray = field(repr=False)
    item_id: np.ndarray = field(repr=False)
    day: np.ndarray = field(repr=False)
    observed: np.ndarray = field(repr=False)
    index: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return len(self.categorical)

    def __repr__(self) -> str:
        return (f"FeatureSet({len(self):,} rows, {len(self.categorical_fields)} categorical and "
                f"{len(self.numeric_fields)} numeric fields, targets {sorted(self.targets)})")

    def subset(self, rows) -> "FeatureSet":
        """The rows selected by a boolean mask of length n or an array of row positions.

        Examples
        --------
        >>> z = np.zeros((3, 1))
        >>> fs = FeatureSet(z.astype(np.int64), z.astype(np.float32), ("a",), ("b",), (2,),
        ...                 {"click": np.array([1, 0, 1], dtype=np.int8)}, *[np.arange(3)] * 3,
        ...                 np.ones((3, 2), dtype=bool), np.arange(3))
        >>> fs.subset(np.array([True, False, True])).targets["click"].tolist()
        [1, 1]
        """
        rows = np.asarray(rows)
        if rows.dtype == bool:
            if rows.shape != (len(self),):
                raise ValueError(f"a boolean mask must have shape ({len(self)},), got {rows.shape}")
        elif rows.dtype.kind in "iu":
            if rows.ndim != 1:
                raise ValueError(f"row positions must be 1-D, got shape {rows.shape}")
            if rows.size and (rows.min() < -len(self) or rows.max() >= len(self)):
                raise ValueError(f"row positions must lie in [0, {len(self)}), got min "
                                 f"{rows.min()}, max {rows.max()}")
        else:
            raise TypeError(f"rows must be a boolean mask or integer positions, got dtype {rows.dtype}")
        return FeatureSet(self.categorical[rows], self.numeric[rows], self.categorical_fields,
                          self.numeric_fields, self.cardinalities,
                          {name: values[rows] for name, values in self.targets.items()},
                          self.user_id[rows], self.item_id[rows], self.day[rows],
                          self.observed[rows], self.index[rows])
