"""Tests for course.datasets: shapes and facts from the data sets' own documentation, and
statistics recomputed with the csv module straight from the shipped files (an independent
reader that shares no code with pandas)."""
from __future__ import annotations

import csv
import shutil
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from course import datasets
from course.datasets import (
    ChecksumMismatchError,
    DatasetNotInstalledError,
    movielens_100k,
    open_bandit_dataset,
)

N_ITEMS = {"all": 80, "men": 34, "women": 46}


@pytest.fixture(scope="module")
def movielens():
    return movielens_100k()


@pytest.fixture(scope="module")
def bandit_logs():
    return {
        (policy, campaign): open_bandit_dataset(policy, campaign)
        for policy in ("random", "bts")
        for campaign in ("all", "men", "women")
    }


def _raw_columns(package: str, relative: str, delimiter: str, names: list[str]) -> list[list[str]]:
    """The named columns of a shipped file as lists of strings, read with the csv module."""
    path = datasets._package_root(package) / relative
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.reader(file, delimiter=delimiter)
        header = next(reader)
        positions = [header.index(name) for name in names]
        rows = [[row[i] for i in positions] for row in reader]
    return [list(column) for column in zip(*rows)]


# ---------------------------------------------------------------- MovieLens 100K
def test_movielens_counts_match_the_grouplens_readme(movielens):
    ratings = movielens.ratings
    assert list(ratings.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert len(ratings) == 100_000
    assert ratings.user_id.nunique() == 943 and ratings.item_id.nunique() == 1682
    # Ids are dense and 1-based; every user rated at least 20 movies (README of ml-100k).
    assert set(ratings.user_id) == set(range(1, 944))
    assert set(ratings.item_id) == set(range(1, 1683))
    assert ratings.groupby("user_id").size().min() == 20
    assert not ratings.duplicated(["user_id", "item_id"]).any()
    assert all(np.issubdtype(dtype, np.integer) for dtype in ratings.dtypes)
    assert set(ratings.rating.unique()) == {1, 2, 3, 4, 5}


def test_movielens_ratings_agree_with_an_independent_parse(movielens):
    ratings, timestamps = _raw_columns(
        "recbole", "dataset_example/ml-100k/ml-100k.inter", "\t", ["rating:float", "timestamp:float"]
    )
    raw_histogram = Counter(int(float(value)) for value in ratings)
    assert movielens.ratings.rating.value_counts().to_dict() == dict(raw_histogram)
    assert movielens.ratings.timestamp.sum() == sum(int(float(value)) for value in timestamps)
    assert movielens.ratings.rating.mean() == pytest.approx(3.52986)


def test_movielens_users_and_items(movielens):
    users, items = movielens.users, movielens.items
    assert users.shape == (943, 5) and set(users.user_id) == set(range(1, 944))
    assert set(users.gender) == {"M", "F"}
    assert (users.gender == "F").sum() == 273
    assert users.age.between(7, 73).all()
    assert users.occupation.nunique() == 21
    assert items.shape == (1682, 4) and items.item_id.is_unique
    one_hot = items.genres.str.get_dummies("|")
    assert one_hot.shape == (1682, 19)
    assert one_hot.sum().to_dict()["Drama"] == 725
    assert one_hot.sum(axis=1).min() >= 1
    # Only movie 267 has no release date; 1412's year is recovered from its title.
    assert items.loc[items.release_year.isna(), "item_id"].tolist() == [267]
    assert items.release_year.dropna().between(1922, 1998).all()
    fixed = items.set_index("item_id").loc[1412]
    assert fixed.release_year == 1995 and not fixed.title.endswith(")")


def test_movielens_result_is_frozen(movielens):
    with pytest.raises(AttributeError):
        movielens.ratings = None


# ---------------------------------------------------------------- Open Bandit Dataset
@pytest.mark.parametrize("policy", ["random", "bts"])
@pytest.mark.parametrize("campaign", ["all", "men", "women"])
def test_bandit_log_shapes_and_columns(bandit_logs, policy, campaign):
    data = bandit_logs[policy, campaign]
    impressions, n_items = data.impressions, N_ITEMS[campaign]
    assert data.n_items == n_items and list(data.item_context.item_id) == list(range(n_items))
    assert impressions.shape == (10_000, 9 + n_items)
    assert list(impressions.columns[:5]) == ["timestamp", "item_id", "position", "click", "propensity_score"]
    assert [c for c in impressions.columns if c.startswith("user_item_affinity_")] == [
        f"user_item_affinity_{i}" for i in range(n_items)
    ]
    assert impressions.item_id.between(0, n_items - 1).all()
    assert set(impressions.position) == {1, 2, 3}
    assert impressions.notna().all().all()  # no missing clicks, features or propensities
    assert set(impressions.click.unique()) <= {0, 1}
    assert impressions.timestamp.is_monotonic_increasing
    week = pd.Timestamp("2019-11-24", tz="UTC"), pd.Timestamp("2019-12-01", tz="UTC")
    assert impressions.timestamp.between(*week).all()


@pytest.mark.parametrize("policy", ["random", "bts"])
@pytest.mark.parametrize("campaign", ["all", "men", "women"])
def test_click_rates_agree_with_an_independent_parse(bandit_logs, policy, campaign):
    clicks, positions = _raw_columns(
        "obp", f"dataset/obd/{policy}/{campaign}/{campaign}.csv", ",", ["click", "position"]
    )
    raw_ctr = sum(map(int, clicks)) / len(clicks)
    raw_by_position = {
        p: np.mean([int(c) for c, q in zip(clicks, positions) if q == str(p)]) for p in (1, 2, 3)
    }
    impressions = bandit_logs[policy, campaign].impressions
    assert impressions.click.mean() == pytest.approx(raw_ctr, abs=1e-12)
    by_position = impressions.groupby("position").click.mean().to_dict()
    assert by_position == pytest.approx(raw_by_position, abs=1e-12)


def test_random_policy_propensities_are_uniform(bandit_logs):
    for campaign, n_items in N_ITEMS.items():
        propensity = bandit_logs["random", campaign].impressions.propensity_score
        np.testing.assert_allclose(propensity, 1.0 / n_items, rtol=1e-12)


def test_thompson_sampling_concentrates_on_items(bandit_logs):
    # Under any policy p over n items the logged item's expected propensity is
    # sum_i p_i^2 >= 1/n (Cauchy-Schwarz), with equality only for the uniform policy.
    for campaign, n_items in N_ITEMS.items():
        impressions = bandit_logs["bts", campaign].impressions
        propensity = impressions.propensity_score
        assert ((propensity > 0) & (propensity <= 1)).all()
        assert (impressions.groupby("position").propensity_score.mean() > 2.0 / n_items).all()
        # ... and it shows a few items far more often than uniform random does.
        top_share = impressions.item_id.value_counts(normalize=True).iloc[0]
        uniform_top = bandit_logs["random", campaign].impressions.item_id.value_counts(normalize=True).iloc[0]
        assert top_share > 2 * uniform_top


def test_the_two_policies_are_an_a_b_test_on_the_same_items(bandit_logs):
    for campaign in N_ITEMS:
        random_log, bts_log = bandit_logs["random", campaign], bandit_logs["bts", campaign]
        pd.testing.assert_series_equal(
            random_log.item_context.item_feature_0, bts_log.item_context.item_feature_0
        )
    ctr = {policy: bandit_logs[policy, "all"].impressions.click.mean() for policy in ("random", "bts")}
    assert ctr == pytest.approx({"random": 38 / 10_000, "bts": 42 / 10_000})


def test_unknown_names_raise():
    with pytest.raises(ValueError, match="behavior_policy"):
        open_bandit_dataset("epsilon_greedy")
    with pytest.raises(ValueError, match="campaign"):
        open_bandit_dataset("random", "kids")


# ---------------------------------------------------------------- missing or altered files
def test_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setattr(datasets.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DatasetNotInstalledError, match=r"pip install --no-deps recbole==1\.2\.1"):
        movielens_100k()
    with pytest.raises(FileNotFoundError, match=r"pip install --no-deps obp==0\.4\.1"):
        open_bandit_dataset()


def test_altered_file_fails_the_checksum(monkeypatch, tmp_path):
    source = datasets._package_root("recbole") / "dataset_example"
    shutil.copytree(source / "ml-100k", tmp_path / "dataset_example" / "ml-100k")
    inter = tmp_path / "dataset_example" / "ml-100k" / "ml-100k.inter"
    inter.write_bytes(inter.read_bytes().replace(b"196\t242\t3", b"196\t242\t5", 1))
    monkeypatch.setattr(datasets, "_package_root", lambda package: tmp_path)
    with pytest.raises(ChecksumMismatchError, match="SHA-256"):
        movielens_100k()
    inter.unlink()
    with pytest.raises(DatasetNotInstalledError, match="missing"):
        movielens_100k()
