"""Who sees which strategy: hash bucketing (分桶), layers (分层实验), holdout and reverse buckets.

The note's path to launch is offline test → small-traffic online A/B test (小流量) → full
launch (推全). Users are split by hashing their id into buckets (分桶); traffic is scarce, so
experiments live in layers (分层实验): experiments in one layer are mutually exclusive
(同层互斥, a user sees at most one recall experiment), experiments in different layers are
orthogonal (不同层正交, a user's recall bucket says nothing about their ranking bucket).
After launch a small reverse bucket (反转桶) stays on the old strategy to watch lagging
metrics such as retention (反转实验).

Why a real hash, not the note's ``hash(id) = id % 3``
-----------------------------------------------------
The note says the hash should send users with close ids to very different buckets, but
``id % n`` does the opposite: consecutive ids walk through the buckets in order, so any
structure in the ids leaks into the buckets (ids issued in batches of 100 to one city, ids whose
last digit encodes the sign-up platform: with ``n = 10`` each bucket is one platform). Worse,
two layers using ``id % n`` give the same bucket to every user, so the layers are perfectly
dependent instead of orthogonal: every user in recall experiment A is also in ranking
experiment B, and their effects cannot be separated. A salted 64-bit mixing function fixes
both: each bit of the output depends on every bit of the id and of the salt.

Python's built-in ``hash()`` is no substitute: for strings it is randomised per process
(``PYTHONHASHSEED``), so a user would change bucket on every restart of the server.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from course._arrays import splitmix64

__all__ = ["assign_bucket", "Layer", "ExperimentPlatform"]

# Ids are hashed with SplitMix64 (course._arrays.splitmix64): a bijection of uint64, so distinct
# ids never collide before the final `% n_buckets`.


def _salt_key(salt: str) -> np.uint64:
    """A 64-bit key from the salt: blake2b is stable across processes and machines."""
    digest = hashlib.blake2b(salt.encode("utf-8"), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


def assign_bucket(user_ids, n_buckets: int, salt: str) -> np.ndarray:
    """Hash user ids into buckets (分桶): ``bucket = splitmix64(id XOR blake2b(salt)) % n``.

    Stable (the same id, bucket count and salt give the same bucket in every process), close
    to uniform whatever the structure of the ids, and independent across salts, which is what
    makes two layers orthogonal.

    Parameters
    ----------
    user_ids : array-like of non-negative int, shape (n_users,)
    n_buckets : int
        Number of buckets, at least 1.
    salt : str
        Layer-specific string; different salts give independent bucketings.

    Returns
    -------
    ndarray of int64, shape (n_users,)
        Bucket of each user, in ``[0, n_buckets)``. (The modulo bias is at most
        ``n_buckets / 2**64``, far below any sampling noise.)

    Examples
    --------
    >>> buckets = assign_bucket([0, 1, 2, 3], n_buckets=10, salt="recall")
    >>> buckets.shape, bool(((buckets >= 0) & (buckets < 10)).all())
    ((4,), True)
    >>> bool((assign_bucket([0, 1, 2, 3], 10, "recall") == buckets).all())
    True
    """
    if isinstance(n_buckets, bool) or not isinstance(n_buckets, (int, np.integer)):
        raise TypeError(f"n_buckets must be an int, got {type(n_buckets).__name__}")
    if n_buckets < 1:
        raise ValueError(f"n_buckets must be at least 1, got {n_buckets}")
    if not isinstance(salt, str):
        raise TypeError(f"salt must be a str, got {type(salt).__name__}")
    ids = np.asarray(user_ids)
    if ids.ndim != 1:
        raise ValueError(f"user_ids must be 1-d, got shape {ids.shape}")
    if ids.size and (ids.dtype.kind not in "iu" or ids.dtype == bool):
        raise TypeError(f"user_ids must be integers, got dtype {ids.dtype}")
    if ids.dtype.kind == "i" and (ids < 0).any():
        raise ValueError("user_ids must be non-negative")
    with np.errstate(over="ignore"):
        hashed = splitmix64(ids.astype(np.uint64) ^ _salt_key(salt))
    return (hashed % np.uint64(n_buckets)).astype(np.int64)


class Layer:
    """One layer (层) of a layered experiment platform: disjoint sets of buckets per experiment.

    Every bucket belongs to at most one experiment, so the experiments of a layer are mutually
    exclusive (同层互斥); the layer's salt decides its bucketing, so layers with different salts
    are orthogonal (不同层正交). Within an experiment, its buckets are split evenly among arms.

    Parameters
    ----------
    name : str
        Layer name, e.g. ``"recall"``; it is also the column name in the assignments.
    n_buckets : int, default 100
        Traffic granularity: one bucket is ``1 / n_buckets`` of the users.
    salt : str, optional
        Hash salt; defaults to ``name``.

    Examples
    --------
    >>> layer = Layer("recall", n_buckets=100)
    >>> layer.add_experiment("swing", 0.1)          # 10 buckets: 5 control, 5 treatment
    >>> layer.add_experiment("new_itemcf", 20)      # 20 buckets: 10 control, 10 treatment
    >>> layer.free_buckets
    70
    >>> sorted(set(layer.assign(range(10_000))) - {None})[:2]
    ['new_itemcf/control', 'new_itemcf/treatment']
    """

    def __init__(self, name: str, n_buckets: int = 100, salt: str | None = None):
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty str, got {name!r}")
        assign_bucket([], n_buckets, name if salt is None else salt)  # validates both
        self.name = name
        self.n_buckets = int(n_buckets)
        self.salt = name if salt is None else salt
        # label of each bucket, "experiment/arm" or None when the bucket is free
        self.bucket_labels = np.full(self.n_buckets, None, dtype=object)
        self.experiments: dict[str, tuple[str, ...]] = {}  # experiment name -> arms

    @property
    def free_buckets(self) -> int:
        """Number of buckets not used by any experiment."""
        return int(sum(label is None for label in self.bucket_labels))

    def add_experiment(self, name: str, n_buckets_or_share, arms=("control", "treatment")):
        """Give an experiment the lowest free buckets, split evenly among its arms.

        Parameters
        ----------
        name : str
            Experiment name, unique within the layer.
        n_buckets_or_share : int or float
            An int is a number of buckets; a float in (0, 1] a share of the layer's traffic.
        arms : sequence of str, default ("control", "treatment")
            At least two distinct arm names; the first is the control.
        """
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"experiment name must be a non-empty str without '/', got {name!r}")
        if name in self.experiments:
            raise ValueError(f"layer {self.name!r} already has an experiment {name!r}")
        arms = tuple(arms)
        if len(arms) < 2 or len(set(arms)) != len(arms) or not all(isinstance(a, str) for a in arms):
            raise ValueError(f"arms must be at least two distinct str, got {arms!r}")
        size = self._buckets_for(n_buckets_or_share)
        if size % len(arms):
            raise ValueError(f"{size} buckets cannot be split evenly into {len(arms)} arms")
        free = np.flatnonzero([label is None for label in self.bucket_labels])
        if size > free.size:
            raise ValueError(f"layer {self.name!r} is out of traffic: experiment {name!r} needs "
                             f"{size} buckets, {free.size} of {self.n_buckets} are free")
        per_arm = size // len(arms)
        for index, arm in enumerate(arms):
            self.bucket_labels[free[index * per_arm:(index + 1) * per_arm]] = f"{name}/{arm}"
        self.experiments[name] = arms

    def remove_experiment(self, name: str) -> None:
        """Stop an experiment and free its buckets."""
        if name not in self.experiments:
            raise KeyError(f"layer {self.name!r} has no experiment {name!r}")
        mine = [isinstance(label, str) and label.split("/")[0] == name for label in self.bucket_labels]
        self.bucket_labels[np.asarray(mine, dtype=bool)] = None
        del self.experiments[name]

    def assign(self, user_ids) -> np.ndarray:
        """Label per user, ``"experiment/arm"`` or None: object ndarray of shape (n_users,)."""
        return self.bucket_labels[assign_bucket(user_ids, self.n_buckets, self.salt)]

    def _buckets_for(self, n_buckets_or_share) -> int:
        value = n_buckets_or_share
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            size = int(value)
        elif isinstance(value, (float, np.floating)) and 0 < value <= 1:
            size = int(round(value * self.n_buckets))
        else:
            raise ValueError(f"n_buckets_or_share must be an int or a float in (0, 1], got {value!r}")
        if size < 1:
            raise ValueError(f"{value!r} is less than one bucket of layer {self.name!r} "
                             f"({self.n_buckets} buckets)")
        return size

    def __repr__(self) -> str:
        return (f"Layer({self.name!r}, n_buckets={self.n_buckets}, salt={self.salt!r}, "
                f"experiments={list(self.experiments)})")


class ExperimentPlatform:
    """Layers + holdout + reverse buckets after launch: who sees which strategy.

    The holdout (留出用户) is decided first, by its own salt: those users are in no experiment
    and get no launch, so comparing them with everyone else measures the total effect of all of
    a period's launches. Every other user gets one label per layer.

    Parameters
    ----------
    holdout_share : float, default 0.0
        Share of users excluded from every layer, in [0, 1), in steps of 1/1000.
    holdout_salt : str, default "holdout"

    Examples
    --------
    >>> platform = ExperimentPlatform(holdout_share=0.1)
    >>> recall = platform.add_layer(Layer("recall"))
    >>> recall.add_experiment("swing", 0.5)
    >>> launch_layer = platform.launch("recall", "swing", reverse_share=0.05)
    >>> table = platform.assignments(range(100_000))
    >>> list(table.columns)
    ['holdout', 'recall', 'launch:swing']
    >>> launched = table.loc[~table["holdout"], "launch:swing"]
    >>> round(float((launched == "swing/control").mean()), 2)  # the reverse bucket
    0.05
    """

    holdout_buckets = 1000

    def __init__(self, holdout_share: float = 0.0, holdout_salt: str = "holdout"):
        if not 0 <= holdout_share < 1:
            raise ValueError(f"holdout_share must be in [0, 1), got {holdout_share!r}")
        if 0 < holdout_share and round(holdout_share * self.holdout_buckets) == 0:
            raise ValueError(f"holdout_share must be 0 or at least 1/{self.holdout_buckets}")
        if not isinstance(holdout_salt, str):
            raise TypeError(f"holdout_salt must be a str, got {type(holdout_salt).__name__}")
        self.holdout_share = holdout_share
        self.holdout_salt = holdout_salt
        self.layers: dict[str, Layer] = {}

    def add_layer(self, layer: Layer) -> Layer:
        """Register a layer; its name and salt must be new (a shared salt = dependent layers)."""
        if not isinstance(layer, Layer):
            raise TypeError(f"expected a Layer, got {type(layer).__name__}")
        if layer.name in self.layers or layer.name == "holdout":
            raise ValueError(f"layer name {layer.name!r} is already used")
        salts = {other.salt for other in self.layers.values()} | {self.holdout_salt}
        if layer.salt in salts:
            raise ValueError(f"salt {layer.salt!r} is already used: the two layers would be "
                             "perfectly dependent rather than orthogonal")
        self.layers[layer.name] = layer
        return layer

    def is_holdout(self, user_ids) -> np.ndarray:
        """Boolean ndarray of shape (n_users,): True for holdout users."""
        cut = round(self.holdout_share * self.holdout_buckets)
        return assign_bucket(user_ids, self.holdout_buckets, self.holdout_salt) < cut

    def launch(self, layer, experiment: str, reverse_share: float = 0.05, arm: str = "treatment"):
        """Full launch (推全) of ``arm`` of an experiment, keeping a reverse bucket (反转桶).

        The experiment leaves its layer (its buckets are freed for the next experiment) and a
        new launch layer ``"launch:<experiment>"`` with its own salt takes every non-holdout
        user: ``round(reverse_share * n_buckets)`` buckets stay on the experiment's control arm
        (``"<experiment>/<control>"``), the rest get ``"<experiment>/<arm>"``.

        Returns
        -------
        Layer
            The launch layer.
        """
        name = layer if isinstance(layer, str) else getattr(layer, "name", None)
        if name not in self.layers or not (isinstance(layer, str) or self.layers[name] is layer):
            raise KeyError(f"layer {name!r} is not on this platform")
        source = self.layers[name]
        if experiment not in source.experiments:
            raise KeyError(f"layer {source.name!r} has no experiment {experiment!r}")
        arms = source.experiments[experiment]
        if arm not in arms[1:]:
            raise ValueError(f"arm must be a non-control arm of {experiment!r}: {arms[1:]}")
        n_reverse = round(reverse_share * source.n_buckets)
        if not 1 <= n_reverse < source.n_buckets:
            raise ValueError(f"reverse_share={reverse_share!r} must be at least one bucket "
                             f"(1/{source.n_buckets}) and less than the whole layer")
        launched = Layer(f"launch:{experiment}", source.n_buckets, f"{source.salt}/launch/{experiment}")
        launched.bucket_labels[:] = f"{experiment}/{arm}"
        launched.bucket_labels[:n_reverse] = f"{experiment}/{arms[0]}"
        launched.experiments[experiment] = (arms[0], arm)
        self.add_layer(launched)
        source.remove_experiment(experiment)
        return launched

    def assignments(self, user_ids) -> pd.DataFrame:
        """One row per user: ``holdout`` (bool) and one column per layer (label or None).

        Returns
        -------
        DataFrame of shape (n_users, 1 + n_layers), indexed by ``user_id``.
        """
        ids = np.asarray(user_ids)
        holdout = self.is_holdout(ids)
        table = {"holdout": holdout}
        for name, layer in self.layers.items():  # a loop over a handful of layers
            labels = layer.assign(ids)
            labels[holdout] = None
            # object dtype keeps None for "no experiment" (pandas 3 would infer str and use NaN)
            table[name] = pd.Series(labels, dtype=object)
        return pd.DataFrame(table).set_index(pd.Index(ids, name="user_id"))
