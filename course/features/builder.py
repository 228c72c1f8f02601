"""The one feature builder of chapters 3–8: impressions in, model-ready features out.

Wang Shusen's lectures (工业界的推荐系统, ranking, "features of the ranking model") sort a
ranking model's inputs into five groups, all built here from the world's public tables:

1. **user profile** (用户画像): user id, gender, age, city (device is context here);
2. **item profile** (物品画像): note id, author id, category, subcategory, note type, video
   length, word and image counts, the author's follower count, the note's age;
3. **user statistics** (用户统计特征): the user's impressions, clicks, click rate and like rate
   over the last 1, 3, 7 days, and the click rate on the note's category (interest);
4. **item statistics** (笔记统计特征): the note's impressions, clicks, click / like / collect /
   share rates over the same windows;
5. **context** (场景特征): hour, device, and the slot: position in the feed and how many
   same-category notes sit above it. Position is known for logged rows only; a served model
   must set it to one value for every candidate (the position-bias trick), so
   ``position=False`` drops these two fields.

Two crosses the lectures call out come as flags: the user follows the note's author, the user
and the note are in the same city. Numbers are transformed the way the lectures say: counts
by ``log(1 + x)``, rates smoothed towards the global rate (:func:`smoothed_rate`), then
standardised; five of them are also bucketed (分桶) into quantile bins that get an embedding.

**Missing values.** The world's profiles are complete; real ones are not: many users never
fill in gender or age. The builder masks a seeded share of users' profile fields
(``missing_profiles``, by default 15 % of genders and 25 % of ages, drawn independently per
user from ``seed``) and codes them 0, as a platform would. Unlike real profiles the masking is
at random, unrelated to the user (real missingness is not: new and private users skip more).
Statistics are missing when the window has no row (a new note, a user's first day); a rate
then falls back to the prior, a count is 0. :meth:`FeatureBuilder.coverage` reports each
field's share of present values.

**No leakage.** Statistics for a row on day d read the history's days ``d - w … d - 1``
only (:func:`course.features.statistics.window_sums`); vocabularies, bucket edges, priors and
standardisation come from the rows given to ``fit`` alone.
"""
from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from course._checks import check_int, check_is_fitted, check_real, check_world
from course.features.featureset import BINARY_TARGETS, FLOAT_TARGETS, FeatureSet
from course.features.statistics import smoothed_rate, window_sums
from course.seed import as_generator

__all__ = ["FeatureBuilder", "DEFAULT_MISSING_PROFILES", "same_category_above"]

DEFAULT_MISSING_PROFILES = {"gender": 0.15, "age_bucket": 0.25}
PROFILE_COLUMNS = ("gender", "age_bucket", "city", "device_os")
NEEDED = ("day", "hour", "request_id", "user_id", "item_id", "position")
HISTORY_NEEDED = ("day", "user_id", "item_id", "click", "like", "collect", "share")
# (count name, label column, denominator): a rate smoothed towards the fit rows' rate
ITEM_RATES = (("ctr", "click", "impressions"), ("like_rate", "like", "click"),
              ("collect_rate", "collect", "click"), ("share_rate", "share", "click"))
USER_RATES = (("ctr", "click", "impressions"), ("like_rate", "like", "click"))
BUCKETED = ("item_age_days", "video_length", "word_count")   # plus the longest window's CTRs


def _group_of(name: str) -> str:
    if name.startswith(("user_category_", "followed_author", "same_city")):
        return "cross"
    if name.startswith(("item_impressions", "item_clicks", "item_ctr", "item_like", "item_collect",
                        "item_share")):
        return "item statistics"
    if name.startswith(("user_impressions", "user_clicks", "user_ctr", "user_like")):
        return "user statistics"
    if name in ("user_id",) + PROFILE_COLUMNS[:3]:
        return "user profile"
    if name in ("hour", "device_os", "position", "same_category_above"):
        return "context"
    return "item profile"


class FeatureBuilder:
    """Build ranking features from a world's logs, scikit-learn style (``fit`` then ``transform``).

    Parameters
    ----------
    world : course.world.World
        Supplies the profiles (``users``, ``items``, ``authors``, ``follows``) and, unless
        ``history`` is given, the logs the statistics are counted from.
    windows : sequence of int
        Statistics windows in days, e.g. ``(1, 3, 7)``.
    smoothing : float
        Pseudo-trials ``m`` of the smoothed rates ``(k + m·p₀) / (n + m)``.
    n_buckets : int
        Quantile bins of the bucketed numeric fields (fewer if quantiles coincide).
    position : bool
        Include the slot context (``position``, ``same_category_above``).
    missing_profiles : dict of str to float
        Share of users whose profile field is masked as not filled in (see the module notes);
        ``{}`` keeps the world's complete profiles.
    history : DataFrame or None
        Logs to count statistics from (default ``world.impressions``): day, user_id, item_id,
        click, like, collect, share.
    seed : int or numpy.random.Generator
        Draws which users' profile fields are missing.

    Examples
    --------
    >>> from course import world
    >>> w = world.generate("tiny")
    >>> builder = FeatureBuilder(w, windows=(1, 2)).fit(w.impressions[w.impressions.day < 2])
    >>> feats = builder.transform(w.impressions[w.impressions.day == 2])
    >>> feats.categorical.shape[1] == len(feats.cardinalities), feats.numeric.dtype
    (True, dtype('float32'))
    >>> feats.categorical_fields[:4], feats.numeric_fields[5:7]
    (('user_id', 'item_id', 'author_id', 'gender'), ('item_impressions_1d', 'item_clicks_1d'))
    """

    def __init__(self, world, windows=(1, 3, 7), *, smoothing: float = 20.0, n_buckets: int = 10,
                 position: bool = True, missing_profiles=DEFAULT_MISSING_PROFILES, history=None,
                 seed=0):
        self.world, self.windows, self.smoothing, self.n_buckets = world, windows, smoothing, n_buckets
        self.position, self.missing_profiles, self.history, self.seed = (position, missing_profiles,
                                                                         history, seed)

    # ------------------------------------------------------------------ checks
    def _check_params(self):
        world = check_world(self.world)
        if isinstance(self.windows, (str, numbers.Number)) or len(tuple(self.windows)) == 0:
            raise TypeError(f"windows must be a non-empty sequence of ints, got {self.windows!r}")
        windows = tuple(check_int(w, "windows", minimum=1) for w in self.windows)
        if len(set(windows)) != len(windows):
            raise ValueError(f"windows must be distinct, got {windows}")
        check_real(self.smoothing, "smoothing", low=0, low_open=True)
        check_int(self.n_buckets, "n_buckets", minimum=2)
        if not isinstance(self.position, bool):
            raise TypeError(f"position must be a bool, got {self.position!r}")
        if not isinstance(self.missing_profiles, dict):
            raise TypeError(f"missing_profiles must be a dict, got {type(self.missing_profiles).__name__}")
        for name, share in self.missing_profiles.items():
            if name not in PROFILE_COLUMNS:
                raise ValueError(f"missing_profiles names a profile field among {PROFILE_COLUMNS}, got {name!r}")
            check_real(share, f"missing_profiles[{name!r}]", low=0, high=1, high_open=True)
        history = world.impressions if self.history is None else self.history
        _check_frame(history, "history", HISTORY_NEEDED)
        return world, tuple(sorted(windows)), history

    def _check_rows(self, impressions, world, history):
        _check_frame(impressions, "impressions", NEEDED)
        if len(impressions) == 0:
            raise ValueError("impressions must hold at least one row, got an empty DataFrame")
        for column, size in (("user_id", len(world.users)), ("item_id", len(world.items))):
            ids = impressions[column].to_numpy()
            if ids.min() < 0 or ids.max() >= size:
                raise ValueError(f"{column} must lie in [0, {size}) (the world's ids), got min "
                                 f"{ids.min()}, max {ids.max()}")
        last = int(history["day"].max())
        days = impressions["day"].to_numpy()
        if days.min() < 0 or days.max() > last + 1:
            raise ValueError(f"impression days must lie in [0, {last + 1}]: statistics need the "
                             f"history's days before them, which end on day {last}; got days "
                             f"{days.min()}..{days.max()}")

    # ------------------------------------------------------------------ raw features
    def _profiles(self, world):
        """Per-user integer codes of the profile columns, -1 where masked as missing."""
        rng = as_generator(self.seed, "seed")
        codes = {}
        for name in PROFILE_COLUMNS:
            codes[name] = pd.factorize(world.users[name], sort=True)[0].astype(np.int64)
        draws = rng.random((len(PROFILE_COLUMNS), len(world.users)))  # one row per field: fixed
        for j, name in enumerate(PROFILE_COLUMNS):
            if name in self.missing_profiles:
                codes[name] = np.where(draws[j] < self.missing_profiles[name], -1, codes[name])
        return codes

    def _raw(self, impressions, world, windows, history, priors):
        """Raw feature values: categorical int64 (-1 missing) and numeric float64 (nan missing)."""
        users, items = world.users, world.items
        u = impressions["user_id"].to_numpy().astype(np.int64)
        i = impressions["item_id"].to_numpy().astype(np.int64)
        day = impressions["day"].to_numpy().astype(np.int64)
        category = items["category_id"].to_numpy().astype(np.int64)
        author = items["author_id"].to_numpy().astype(np.int64)
        cat = {"user_id": u, "item_id": i, "author_id": author[i]}
        cat.update({name: codes[u] for name, codes in self.profiles_.items()})
        cat["category"], cat["subcategory"] = category[i], items["subcategory_id"].to_numpy()[i]
        cat["note_type"] = pd.factorize(items["note_type"], sort=True)[0][i].astype(np.int64)
        cat["hour"] = impressions["hour"].to_numpy().astype(np.int64)
        if self.position:
            cat["position"] = impressions["position"].to_numpy().astype(np.int64)
            cat["same_category_above"] = np.minimum(same_category_above(impressions, category), 3)
        n_authors = len(world.authors)
        follows = np.isin(u * n_authors + author[i],
                          world.follows["user_id"].to_numpy() * n_authors + world.follows["author_id"].to_numpy())
        cat["followed_author"] = follows.astype(np.int64)
        city = pd.factorize(pd.concat([users["city"], items["city"]]), sort=True)[0]
        cat["same_city"] = (city[:len(users)][u] == city[len(users):][i]).astype(np.int64)

        video = items["video_length"].to_numpy(dtype=float)
        followers = world.authors["follower_count"].to_numpy(dtype=float)
        num = {"item_age_days": np.log1p(np.maximum(day - items["publish_day"].to_numpy()[i], 0)),
               "video_length": np.log1p(video[i]),                    # nan for image notes
               "word_count": np.log1p(items["word_count"].to_numpy(dtype=float)[i]),
               "image_count": np.log1p(items["image_count"].to_numpy(dtype=float)[i]),
               "author_followers": np.log1p(followers[author[i]])}
        h_day = history["day"].to_numpy().astype(np.int64)
        h_user, h_item = history["user_id"].to_numpy(), history["item_id"].to_numpy()
        labels = history[["click", "like", "collect", "share"]].to_numpy(dtype=float)
        ones = np.ones((len(history), 1))
        n_cat = int(category.max()) + 1
        entities = [  # (prefix, history keys, row keys, n_keys, counted columns, rates)
            ("item", h_item, i, len(items), ("impressions", "click", "like", "collect", "share"), ITEM_RATES),
            ("user", h_user, u, len(users), ("impressions", "click", "like"), USER_RATES),
            ("user_category", h_user * n_cat + category[h_item], u * n_cat + category[i],
             len(users) * n_cat, ("impressions", "click"), USER_RATES[:1])]
        columns = {"impressions": 0, "click": 1, "like": 2, "collect": 3, "share": 4}
        fallback = {}
        for prefix, h_keys, keys, n_keys, counted, rates in entities:
            values = np.hstack([ones, labels])[:, [columns[c] for c in counted]]
            sums = window_sums(h_day, h_keys, values, day, keys, n_keys=n_keys, windows=windows)
            for j, w in enumerate(windows):
                count = {c: sums[:, j, k] for k, c in enumerate(counted)}
                num[f"{prefix}_impressions_{w}d"] = np.log1p(count["impressions"])
                if prefix != "user_category":
                    num[f"{prefix}_clicks_{w}d"] = np.log1p(count["click"])
                for name, success, trial in rates:
                    rate = smoothed_rate(count[success], count[trial], priors[success], self.smoothing)
                    # present when it rests on at least one trial; else nan here, the prior later
                    num[f"{prefix}_{name}_{w}d"] = np.where(count[trial] > 0, rate, np.nan)
                    fallback[f"{prefix}_{name}_{w}d"] = priors[success]
        longest = windows[-1]
        for name in BUCKETED + (f"item_ctr_{longest}d", f"user_ctr_{longest}d"):
            cat[f"{name}_bucket"] = num[name]   # a float array: bucketed by the fitted edges
        return cat, num, fallback

    # ------------------------------------------------------------------ fit / transform
    def fit(self, impressions) -> "FeatureBuilder":
        """Learn vocabularies, bucket edges, priors and standardisation from ``impressions`` only.

        Parameters
        ----------
        impressions : DataFrame
            Training rows with day, hour, request_id, user_id, item_id, position and the
            click, like, collect, share labels (the priors of the smoothed rates).

        Returns
        -------
        FeatureBuilder
            ``self``, fitted.
        """
        world, windows, history = self._check_params()
        self._check_rows(impressions, world, history)
        _check_frame(impressions, "impressions", ("click", "like", "collect", "share"))
        clicks = impressions["click"].to_numpy(dtype=float)
        n_clicks = max(clicks.sum(), 1.0)
        self.priors_ = {"click": float(clicks.mean())}
        self.priors_.update({c: float(impressions[c].to_numpy(dtype=float).sum() / n_clicks)
                             for c in ("like", "collect", "share")})
        self.profiles_ = self._profiles(world)
        cat, num, self.fallbacks_ = self._raw(impressions, world, windows, history, self.priors_)
        self.vocabularies_, self.bucket_edges_ = {}, {}
        for name, raw in cat.items():
            if raw.dtype.kind == "f":                          # a bucketed numeric field
                present = raw[~np.isnan(raw)]
                quantiles = np.quantile(present, np.linspace(0, 1, self.n_buckets + 1)[1:-1]) \
                    if present.size else np.array([])
                self.bucket_edges_[name] = np.unique(quantiles)
            else:
                seen = np.unique(raw[raw >= 0])
                table = np.zeros(int(seen.max()) + 2 if seen.size else 1, dtype=np.int64)
                table[seen + 1] = np.arange(1, len(seen) + 1)   # index raw + 1: raw -1 -> 0
                self.vocabularies_[name] = table
        numeric = num
        self.means_ = {k: float(np.nanmean(v)) if np.isfinite(v).any() else 0.0 for k, v in numeric.items()}
        self.stds_ = {k: float(np.nanstd(v)) if np.isfinite(v).any() else 1.0 for k, v in numeric.items()}
        self.stds_ = {k: (s if s > 1e-12 else 1.0) for k, s in self.stds_.items()}
        self.categorical_fields_ = tuple(cat)
        self.numeric_fields_ = tuple(numeric)
        self.cardinalities_ = tuple(
            len(self.bucket_edges_[n]) + 2 if n in self.bucket_edges_ else int(self.vocabularies_[n].max()) + 1
            for n in self.categorical_fields_)
        return self

    def transform(self, impressions) -> FeatureSet:
        """Features of every row of ``impressions`` (whole slates: ``same_category_above`` is
        counted among the rows given, so down-sample afterwards with ``FeatureSet.subset``).

        Parameters
        ----------
        impressions : DataFrame
            Rows with day, hour, request_id, user_id, item_id, position; label columns, when
            present, become ``targets``.

        Returns
        -------
        FeatureSet
        """
        check_is_fitted(self, "vocabularies_")
        world, windows, history = self._check_params()
        self._check_rows(impressions, world, history)
        cat, num, _ = self._raw(impressions, world, windows, history, self.priors_)
        n = len(impressions)
        # built column by column in Fortran order (contiguous columns), made C-ordered at the end
        categorical = np.zeros((n, len(self.categorical_fields_)), dtype=np.int64, order="F")
        for j, name in enumerate(self.categorical_fields_):
            raw = cat[name]
            if name in self.bucket_edges_:
                codes = np.searchsorted(self.bucket_edges_[name], raw, side="right") + 1
                categorical[:, j] = np.where(np.isnan(raw), 0, codes)
            else:
                table = self.vocabularies_[name]
                inside = raw + 1 < len(table)                  # values never seen in fit -> 0
                categorical[:, j] = np.where(inside, table[np.where(inside, raw + 1, 0)], 0)
        fields = self.numeric_fields_
        numeric = np.empty((n, len(fields)), dtype=np.float32, order="F")
        for j, name in enumerate(fields):                      # one column copy per field
            numeric[:, j] = num[name]
        observed_numeric = ~np.isnan(numeric)
        # a rate without trials is its prior; other missing values become the mean (0 below)
        fallback = np.array([self.fallbacks_.get(f, np.nan) for f in fields], dtype=np.float32)
        np.copyto(numeric, np.broadcast_to(fallback, numeric.shape), where=~observed_numeric)
        numeric -= np.array([self.means_[f] for f in fields], dtype=np.float32)
        numeric /= np.array([self.stds_[f] for f in fields], dtype=np.float32)
        np.nan_to_num(numeric, copy=False, nan=0.0)
        categorical, numeric = np.ascontiguousarray(categorical), np.ascontiguousarray(numeric)
        targets = {c: impressions[c].to_numpy().astype(np.int8) for c in BINARY_TARGETS if c in impressions}
        targets.update({c: impressions[c].to_numpy().astype(np.float32) for c in FLOAT_TARGETS
                        if c in impressions})
        return FeatureSet(categorical, numeric, self.categorical_fields_, self.numeric_fields_,
                          self.cardinalities_, targets,
                          impressions["user_id"].to_numpy().astype(np.int64),
                          impressions["item_id"].to_numpy().astype(np.int64),
                          impressions["day"].to_numpy().astype(np.int64),
                          np.hstack([categorical > 0, np.ascontiguousarray(observed_numeric)]),
                          impressions.index.to_numpy())

    def coverage(self, feats: FeatureSet) -> pd.DataFrame:
        """Share of rows where each field is present, with its group, kind and cardinality.

        Returns
        -------
        DataFrame with columns field, group, kind, cardinality (numeric: 0), coverage
        """
        check_is_fitted(self, "vocabularies_")
        if not isinstance(feats, FeatureSet):
            raise TypeError(f"feats must be a FeatureSet, got {type(feats).__name__}")
        if feats.categorical_fields != self.categorical_fields_ or feats.numeric_fields != self.numeric_fields_:
            raise ValueError("feats was not built by this builder (its fields differ)")
        fields = self.categorical_fields_ + self.numeric_fields_
        return pd.DataFrame({
            "field": fields, "group": [_group_of(f if f in self.vocabularies_ else f.removesuffix("_bucket"))
                                        for f in fields],
            "kind": ["categorical"] * len(self.categorical_fields_) + ["numeric"] * len(self.numeric_fields_),
            "cardinality": list(self.cardinalities_) + [0] * len(self.numeric_fields_),
            "coverage": feats.observed.mean(axis=0) if len(feats) else np.zeros(len(fields))})


def _check_frame(frame, name: str, columns) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks the columns {missing} (needs {list(columns)})")


def same_category_above(impressions: pd.DataFrame, item_category) -> np.ndarray:
    """Notes of the same category shown above each row in its slate (a request of a day).

    The world's click model lowers a note's click probability by this count (fatigue within a
    slate); the oracle takes it as ``n_same_category_before``. Counted among the rows given,
    so pass whole slates.

    Parameters
    ----------
    impressions : DataFrame with day, request_id, position, item_id
    item_category : int array of shape (n_items,), the category of every note

    Returns
    -------
    ndarray of int64, shape (n_rows,)

    Examples
    --------
    >>> rows = pd.DataFrame({"day": 0, "request_id": 0, "position": [0, 1, 2], "item_id": [5, 6, 7]})
    >>> same_category_above(rows, np.array([0, 0, 0, 0, 0, 1, 2, 1])).tolist()
    [0, 0, 1]
    """
    _check_frame(impressions, "impressions", ("day", "request_id", "position", "item_id"))
    category = np.asarray(item_category)
    frame = pd.DataFrame({"day": impressions["day"].to_numpy(), "request": impressions["request_id"].to_numpy(),
                          "position": impressions["position"].to_numpy(),
                          "category": category[impressions["item_id"].to_numpy()]})
    order = np.lexsort((frame["position"], frame["request"], frame["day"]))
    counts = frame.iloc[order].groupby(["day", "request", "category"], sort=False).cumcount().to_numpy()
    out = np.empty(len(frame), dtype=np.int64)
    out[order] = counts
    return out
