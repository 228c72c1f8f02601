"""Two small real data sets, read from copies that pip packages already ship.

The course never ships third-party data (MovieLens' terms forbid redistributing it). Two
open-source Python packages happen to ship small copies inside their wheels, so a plain
``pip install --no-deps`` of each brings the files without the packages' heavy dependencies:

- MovieLens 100K (explicit ratings): ``recbole==1.2.1``, files in ``dataset_example/ml-100k/``;
- Open Bandit Dataset, 10,000-row samples: ``obp==0.4.1``, files in
  ``dataset/obd/<policy>/<campaign>/``.

Neither package is ever *imported* (their dependencies are not installed): the files are
located with :func:`importlib.util.find_spec`, which reads the package's location without
running its ``__init__``. Every file's SHA-256 is checked against the constants below before
parsing, so a different package version fails loudly instead of silently changing results.
"""
from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = [
    "ChecksumMismatchError",
    "DatasetNotInstalledError",
    "MovieLens",
    "OpenBanditData",
    "movielens_100k",
    "open_bandit_dataset",
]

_INSTALL_HINT = {
    "recbole": "pip install --no-deps recbole==1.2.1   (2 MB, MIT licence)",
    "obp": "pip install --no-deps obp==0.4.1   (Apache-2.0 licence)",
}

# SHA-256 of the files as shipped in recbole 1.2.1 and obp 0.4.1 (paths relative to the package).
_CHECKSUMS = {
    "recbole": {
        "dataset_example/ml-100k/ml-100k.inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
        "dataset_example/ml-100k/ml-100k.user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
        "dataset_example/ml-100k/ml-100k.item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
    },
    "obp": {
        "dataset/obd/random/all/all.csv": "7168295b6e0a9eabcf3392320a5dd434e542b68e705d5cd9491499af589812f1",
        "dataset/obd/random/all/item_context.csv": "eba04cc23d5f130a93ff174c5392986882b94c3839433cb8143870eaa6221358",
        "dataset/obd/random/men/men.csv": "ede6d08c6877f99cd3770f7d09e26c738e6aa6de4445ccccfb1356ba5d06b1eb",
        "dataset/obd/random/men/item_context.csv": "6d855c2b7e917d0448d71bbe62c023147495882c0fdc8c41e86fef86abf9fe09",
        "dataset/obd/random/women/women.csv": "e65f3bd3beb17664fa69cc129bf7bf852a775f8ffa630506e505fc905315bb34",
        "dataset/obd/random/women/item_context.csv": "b1ca4905f97703d196004f2ad4552c1e90c2afad8b50688d333b0d2dc0b33147",
        "dataset/obd/bts/all/all.csv": "0ad874e4dbf6902f0845dd478ad8dde5ef6903583d3ffaace78411bdad064106",
        "dataset/obd/bts/all/item_context.csv": "5d4359ba1cfa3ae88f0f1bae66bd633859fe6323817183632ee57b83539d9153",
        "dataset/obd/bts/men/men.csv": "db6d1f7ed2d591ba521533e45286d4c1fba7fe57a8ad2e80342210335f43c527",
        "dataset/obd/bts/men/item_context.csv": "3b411ed6b0471316321a6b93f4f756bb25888eac6218cd71d0b603d41d85732d",
        "dataset/obd/bts/women/women.csv": "e5d1b49a39b608585a2f3014a3f54970430cd37a495c1b73fceb85cdf428a5b8",
        "dataset/obd/bts/women/item_context.csv": "a56295bad066a558eb783055afd9279f5f4e209a4776eafc22151c53f0ac89d4",
    },
}

BEHAVIOR_POLICIES = ("random", "bts")
CAMPAIGNS = ("all", "men", "women")


class DatasetNotInstalledError(FileNotFoundError):
    """The package that ships the data files is not installed (the message says how to get it)."""


class ChecksumMismatchError(RuntimeError):
    """A data file's SHA-256 differs from the one this course was written against."""


def _package_root(package: str) -> Path:
    """Directory of an installed top-level package, found without importing it."""
    spec = importlib.util.find_spec(package)  # top-level name: does not run __init__.py
    if spec is None or not spec.submodule_search_locations:
        raise DatasetNotInstalledError(
            f"The data files come from the Python package {package!r}, which is not installed. "
            f"Install it (the course never ships the data itself) with:\n    {_INSTALL_HINT[package]}"
        )
    return Path(list(spec.submodule_search_locations)[0])


def _verified_path(package: str, relative: str) -> Path:
    """Path of ``relative`` inside ``package`` after checking that it exists and its SHA-256."""
    path = _package_root(package) / relative
    if not path.is_file():
        raise DatasetNotInstalledError(
            f"{path} is missing: the installed {package!r} does not ship the expected data files. "
            f"Reinstall the pinned version with:\n    {_INSTALL_HINT[package]}"
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    expected = _CHECKSUMS[package][relative]
    if digest != expected:
        raise ChecksumMismatchError(
            f"SHA-256 of {path} is {digest}, expected {expected}. The file differs from the one "
            f"the course was written against; reinstall with:\n    {_INSTALL_HINT[package]}"
        )
    return path


def _read_atomic(path: Path, dtypes: dict[str, str]) -> pd.DataFrame:
    """Read a RecBole atomic file: tab-separated, header cells like ``user_id:token``."""
    with path.open(encoding="utf-8") as file:
        header = file.readline().rstrip("\n").split("\t")
    # Drop RecBole's type suffix (":token", ":float", ":token_seq"); the caller sets real dtypes.
    names = [cell.split(":")[0] for cell in header]
    return pd.read_csv(
        path, sep="\t", header=0, names=names, dtype=dtypes, keep_default_na=False, encoding="utf-8"
    )


@dataclass(frozen=True)
class MovieLens:
    """MovieLens 100K: 100,000 explicit ratings (显式反馈) of 1,682 movies by 943 users.

    Attributes
    ----------
    ratings : DataFrame of shape (100000, 4)
        ``user_id``, ``item_id``, ``rating`` (int 1-5), ``timestamp`` (int, Unix seconds).
    users : DataFrame of shape (943, 5)
        ``user_id``, ``age`` (int), ``gender`` ("M"/"F"), ``occupation``, ``zip_code`` (str).
    items : DataFrame of shape (1682, 4)
        ``item_id``, ``title``, ``release_year`` (nullable Int64), ``genres`` ("|"-joined).
    """

    ratings: pd.DataFrame
    users: pd.DataFrame
    items: pd.DataFrame


def movielens_100k() -> MovieLens:
    """Load MovieLens 100K from the copy inside the installed ``recbole==1.2.1`` package.

    Harper & Konstan, "The MovieLens Datasets: History and Context", ACM TiiS 2015. Ids are
    1-based as in the original release (users 1..943, items 1..1682) and every user has rated
    at least 20 movies. RecBole's copy drops the year from the titles (it is in
    ``release_year``); movie 267 has no title or year in the original data: here its title is
    ``"unknown"`` and its year missing (``<NA>``). ``genres`` joins the 19 MovieLens genres with ``"|"``,
    so ``items.genres.str.get_dummies("|")`` gives the one-hot genre matrix.

    Returns
    -------
    MovieLens
        A frozen dataclass with ``ratings``, ``users`` and ``items`` DataFrames.

    Raises
    ------
    DatasetNotInstalledError
        If ``recbole`` is not installed (``pip install --no-deps recbole==1.2.1``).
    ChecksumMismatchError
        If a file differs from the one shipped in recbole 1.2.1.

    Examples
    --------
    >>> ml = movielens_100k()
    >>> ml.ratings.shape, ml.ratings.user_id.nunique(), ml.ratings.item_id.nunique()
    ((100000, 4), 943, 1682)
    >>> ml.items.genres.str.get_dummies("|").shape
    (1682, 19)
    """
    folder = "dataset_example/ml-100k/ml-100k"
    ratings = _read_atomic(
        _verified_path("recbole", folder + ".inter"),
        # The header says rating/timestamp are floats, but every value is an integer.
        {"user_id": "int64", "item_id": "int64", "rating": "int64", "timestamp": "int64"},
    )
    users = _read_atomic(
        _verified_path("recbole", folder + ".user"),
        {"user_id": "int64", "age": "int64", "gender": "str", "occupation": "str", "zip_code": "str"},
    )
    items = _read_atomic(
        _verified_path("recbole", folder + ".item"),
        {"item_id": "int64", "movie_title": "str", "release_year": "str", "class": "str"},
    )
    # Two quirks of RecBole's conversion: "unkonwn" (sic) where the original has no title or
    # date (movie 267), and "Title (1995)" + year "V" where the original title ends in "(V)"
    # (a video release, movie 1412). Recover the year from the title; leave 267's missing.
    title = items["movie_title"].replace("unkonwn", "unknown")
    year_in_title = title.str.extract(r"\((\d{4})\)$", expand=False)
    release_year = pd.to_numeric(items["release_year"], errors="coerce").fillna(
        pd.to_numeric(year_in_title)
    )
    items = pd.DataFrame(
        {
            "item_id": items["item_id"].astype("int64"),
            "title": title.str.replace(r"\s*\(\d{4}\)$", "", regex=True),
            "release_year": release_year.astype("Int64"),
            # RecBole separates genres by spaces; no genre name contains one ("Children's", "Sci-Fi").
            "genres": items["class"].str.replace(" ", "|", regex=False),
        }
    )
    return MovieLens(ratings=ratings, users=users, items=items)


@dataclass(frozen=True)
class OpenBanditData:
    """One (behaviour policy, campaign) slice of the Open Bandit Dataset sample.

    Attributes
    ----------
    impressions : DataFrame of shape (10000, 9 + n_items)
        One row per shown item, sorted by time: ``timestamp`` (UTC datetime), ``item_id``
        (0..n_items-1), ``position`` (1 = left, 2 = centre, 3 = right), ``click`` (0/1),
        ``propensity_score`` (probability that the logging policy put this item at this
        position), ``user_feature_0..3`` (hashed categorical strings) and
        ``user_item_affinity_0..{n_items-1}`` (affinity from this user's past clicks on each item).
    item_context : DataFrame of shape (n_items, 5)
        ``item_id``, ``item_feature_0`` (numeric, standardised) and ``item_feature_1..3``
        (hashed categorical strings).
    behavior_policy : str
        ``"random"`` or ``"bts"``.
    campaign : str
        ``"all"``, ``"men"`` or ``"women"``.
    """

    impressions: pd.DataFrame
    item_context: pd.DataFrame
    behavior_policy: str
    campaign: str

    @property
    def n_items(self) -> int:
        """Number of candidate items (arms) in this campaign: 80, 34 or 46."""
        return len(self.item_context)


def open_bandit_dataset(behavior_policy: str = "random", campaign: str = "all") -> OpenBanditData:
    """Load the 10,000-row sample of the Open Bandit Dataset shipped inside ``obp==0.4.1``.

    Saito, Aihara, Matsutani & Narita, "Open Bandit Dataset and Pipeline: Towards Realistic
    and Reproducible Off-Policy Evaluation", NeurIPS Datasets & Benchmarks 2021.

    The data come from ZOZOTOWN, a large Japanese fashion e-commerce site, in the week of
    24-30 November 2019. Its recommendation widget shows three items side by side (positions
    1, 2, 3). Traffic was split between two logging (behaviour) policies (行为策略), so the two
    logs are a real A/B test (A/B 测试) of two bandit policies on the same item pool:

    - ``"random"``: uniform random choice of the items, so every propensity score (倾向性得分)
      equals ``1 / n_items``;
    - ``"bts"``: Bernoulli Thompson Sampling (汤普森采样), which samples a click rate for each
      item from its Beta posterior and shows the highest draws; its propensities (computed
      by the authors by Monte Carlo simulation of that sampling) vary from about 1e-6 to 0.96.

    Because the propensity of every logged action is known, these logs are the standard real
    benchmark for off-policy evaluation (离线策略评估): estimate one policy's click rate from
    the other's log and compare with its logged on-policy click rate. ``campaign`` selects the
    item pool: ``"all"`` (80 items), ``"men"`` (34) or ``"women"`` (46); item ids restart at 0
    in each campaign. In this small sample the click rates are tiny (38 clicks out of 10,000
    rows for random/all) so differences between the two policies are noisy. Features are
    hashed by the publisher; the item categorical hashes differ between the ``random`` and
    ``bts`` folders (only ``item_id`` and ``item_feature_0`` match), so do not join them.

    Parameters
    ----------
    behavior_policy : {"random", "bts"}
        Logging policy whose data to load.
    campaign : {"all", "men", "women"}
        Item pool.

    Returns
    -------
    OpenBanditData
        A frozen dataclass with ``impressions`` and ``item_context`` DataFrames.

    Raises
    ------
    ValueError
        If ``behavior_policy`` or ``campaign`` is not one of the names above.
    DatasetNotInstalledError
        If ``obp`` is not installed (``pip install --no-deps obp==0.4.1``).
    ChecksumMismatchError
        If a file differs from the one shipped in obp 0.4.1.

    Examples
    --------
    >>> obd = open_bandit_dataset("random", "all")
    >>> obd.impressions.shape, obd.n_items
    ((10000, 89), 80)
    >>> float(obd.impressions.propensity_score.iloc[0]) == 1 / obd.n_items
    True
    >>> int(obd.impressions.click.sum())
    38
    """
    if behavior_policy not in BEHAVIOR_POLICIES:
        raise ValueError(f"behavior_policy must be one of {BEHAVIOR_POLICIES}, got {behavior_policy!r}")
    if campaign not in CAMPAIGNS:
        raise ValueError(f"campaign must be one of {CAMPAIGNS}, got {campaign!r}")
    folder = f"dataset/obd/{behavior_policy}/{campaign}"
    impressions = pd.read_csv(_verified_path("obp", f"{folder}/{campaign}.csv"), index_col=0)
    item_context = pd.read_csv(_verified_path("obp", f"{folder}/item_context.csv"), index_col=0)
    # "user-item_affinity_3" is not a Python identifier; use underscores so df.user_item_affinity_3 works.
    impressions = impressions.rename(columns=lambda name: name.replace("-", "_"))
    impressions["timestamp"] = pd.to_datetime(impressions["timestamp"], utc=True, format="ISO8601")
    # Stable sort keeps the file order for equal timestamps; the files are already sorted.
    impressions = impressions.sort_values("timestamp", kind="stable").reset_index(drop=True)
    item_context = item_context.sort_values("item_id").reset_index(drop=True)
    return OpenBanditData(
        impressions=impressions,
        item_context=item_context,
        behavior_policy=behavior_policy,
        campaign=campaign,
    )
