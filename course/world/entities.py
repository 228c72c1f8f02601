"""Drawing the world's entities: categories, authors, notes (items), users, follows, circles.

Everything is drawn from one ``numpy.random.Generator`` in a fixed order, so a config
determines the world. The latent geometry (WORLD.md):

    top-category centre  g_c ~ N(0, I/d)                       (|g| ~ 1)
    subcategory centre   h_s = g_c(s) + N(0, 0.6^2 I/d)
    note vector          v_i = h_s(i) + N(0, 0.45^2 I/d)
    user interest centre c_uk = h_s(uk) + N(0, 0.35^2 I/d),    k = 1..3

so notes of one subcategory are closer than notes of one top category, which are closer than
notes across categories; a user's best-matching centre is what the click model reads.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course.world.config import WorldConfig
from course.world.taxonomy import (AGE_BUCKETS, AGE_SHARES, CATEGORY_TREE, CITIES, DEVICE_OS,
                                   GENDERS, category_table, geohash_encode)

N_TOP = len(CATEGORY_TREE)
N_SUB = sum(len(s) for s in CATEGORY_TREE.values())
CITY_NAMES = tuple(CITIES)
CITY_COORDS = np.array([CITIES[c][:2] for c in CITY_NAMES])       # (n_cities, 2)
CITY_WEIGHTS = np.array([CITIES[c][2] for c in CITY_NAMES])
SUB_TO_TOP = np.array([row[2] for row in category_table()])       # (N_SUB,)
SUB_KEYWORDS = [row[4].split("|") for row in category_table()]


def sample_within_groups(item_groups, weights, query_groups, rng, n_groups):
    """For each query group g, draw one item of group g with probability ∝ weight.

    Vectorised inverse-CDF sampling: items are sorted by group, one global cumulative sum of
    weights is built, and each query draws a uniform number inside its group's slice of it.

    Returns item indices, or -1 where the group has no item (or zero total weight).
    """
    item_groups = np.asarray(item_groups)
    order = np.argsort(item_groups, kind="stable")
    cumulative = np.concatenate([[0.0], np.cumsum(np.asarray(weights, float)[order])])
    starts = np.searchsorted(item_groups[order], np.arange(n_groups), side="left")
    ends = np.searchsorted(item_groups[order], np.arange(n_groups), side="right")
    query_groups = np.asarray(query_groups)
    low, high = cumulative[starts[query_groups]], cumulative[ends[query_groups]]
    target = low + rng.random(query_groups.shape) * (high - low)
    position = np.searchsorted(cumulative, target, side="right") - 1
    position = np.clip(position, starts[query_groups], np.maximum(ends[query_groups] - 1, 0))
    picked = order[np.minimum(position, len(order) - 1)] if len(order) else position
    return np.where(high > low, picked, -1)


def draw_geometry(config: WorldConfig, rng):
    """Top-category centres, subcategory centres and the content-encoder projection."""
    d = config.latent_dim
    category_centres = rng.normal(0, 1, (N_TOP, d)) / np.sqrt(d)
    sub_centres = category_centres[SUB_TO_TOP] + rng.normal(0, 0.6, (N_SUB, d)) / np.sqrt(d)
    # A fixed "encoder": content embeddings are a noisy linear view of the latent vector, as
    # a CLIP/BERT embedding would be, so content models can recover v only partially.
    content_projection = rng.normal(0, 1, (config.content_dim, d))
    return category_centres, sub_centres, content_projection


def draw_crosses(config: WorldConfig, rng):
    """The explicit feature crosses of the click model: tables a linear model cannot express."""
    age_category = rng.normal(0, config.click.age_category_scale, (len(AGE_BUCKETS), N_TOP))
    gender_category = rng.normal(0, config.click.gender_category_scale, (len(GENDERS), N_TOP))
    return age_category, gender_category


def draw_authors(config: WorldConfig, rng) -> pd.DataFrame:
    n = config.n_authors
    primary = rng.integers(0, N_SUB, n)
    city = rng.choice(len(CITY_NAMES), n, p=CITY_WEIGHTS / CITY_WEIGHTS.sum())
    quality = rng.normal(0, 0.4, n)
    video_propensity = rng.beta(2, 3, n)
    posting_rate = rng.gamma(2.0, config.new_items_per_author_day / 2.0, n)
    return pd.DataFrame({
        "author_id": np.arange(n), "home_subcategory_id": primary,
        "home_category_id": SUB_TO_TOP[primary], "city": np.array(CITY_NAMES)[city],
        "quality": quality, "video_propensity": video_propensity, "posting_rate": posting_rate,
    })


def draw_items(config: WorldConfig, rng, authors: pd.DataFrame, author_ids, publish_days,
               sub_centres, content_projection, first_item_id: int):
    """Notes written by ``author_ids`` on ``publish_days``: public columns and hidden truth."""
    author_ids = np.asarray(author_ids, dtype=np.int64)
    n, d = len(author_ids), config.latent_dim
    author = authors.iloc[author_ids]
    sub = author["home_subcategory_id"].to_numpy().copy()
    wander = rng.random(n) < 0.2          # one note in five leaves the home subcategory
    sub[wander] = SUB_TO_TOP[sub[wander]] * 4 + rng.integers(0, 4, wander.sum())
    latent = sub_centres[sub] + rng.normal(0, 0.45, (n, d)) / np.sqrt(d)
    # Heavy right tail: a few notes are far better than their author's usual.
    quality = (author["quality"].to_numpy() + rng.normal(0, 0.35, n)
               + 0.45 * (rng.exponential(1.0, n) - 1.0))
    is_video = rng.random(n) < author["video_propensity"].to_numpy() * (config.video_share / 0.4)
    video_length = np.where(is_video, np.clip(rng.lognormal(np.log(60), 0.7, n), 5, 600), np.nan)
    home_city = pd.Categorical(author["city"], categories=CITY_NAMES).codes
    moved = rng.random(n) < 0.15
    city = np.where(moved, rng.choice(len(CITY_NAMES), n, p=CITY_WEIGHTS / CITY_WEIGHTS.sum()),
                    home_city)
    coords = CITY_COORDS[city] + rng.normal(0, 0.06, (n, 2))
    word_count = np.where(is_video, rng.lognormal(np.log(40), 0.5, n),
                          rng.lognormal(np.log(250), 0.6, n)).astype(np.int64)
    image_count = np.where(is_video, 1, 1 + rng.binomial(8, 0.45, n))
    keyword_mask = rng.random((n, 3)) < 0.55
    keyword_mask[np.arange(n), rng.integers(0, 3, n)] = True      # at least one keyword
    keywords = ["|".join(k for k, keep in zip(SUB_KEYWORDS[s], m) if keep)
                for s, m in zip(sub, keyword_mask)]
    content = latent @ content_projection.T + rng.normal(0, 0.6, (n, config.content_dim))
    item_ids = first_item_id + np.arange(n)
    items = pd.DataFrame({
        "item_id": item_ids, "author_id": author_ids,
        "category_id": SUB_TO_TOP[sub], "subcategory_id": sub,
        "category": np.array(list(CATEGORY_TREE))[SUB_TO_TOP[sub]],
        "subcategory": np.array([r[1] for r in category_table()])[sub],
        "keywords": keywords, "note_type": np.where(is_video, "video", "image"),
        "video_length": video_length.round(1), "publish_day": np.asarray(publish_days),
        "city": np.array(CITY_NAMES)[city],
        "geohash": geohash_encode(coords[:, 0], coords[:, 1], precision=5),
        "word_count": word_count, "image_count": image_count,
    })
    truth = pd.DataFrame({
        "item_id": item_ids, "quality": quality,
        # Post-click drivers, separate per action so task correlation is real but imperfect.
        "likeability": rng.normal(0, 0.5, n), "collectability": rng.normal(0, 0.5, n),
        "shareability": rng.normal(0, 0.7, n), "controversy": rng.normal(0, 0.8, n),
    })
    return items, truth, latent, content


def draw_users(config: WorldConfig, rng, sub_centres, age_category, gender_category):
    """Users: demographics, 1-3 interest centres, activity level, initial short-term interest."""
    n, d = config.n_users, config.latent_dim
    gender = (rng.random(n) < 0.3).astype(int)                     # 70 % female, as on 小红书
    age = rng.choice(len(AGE_BUCKETS), n, p=AGE_SHARES)
    city = rng.choice(len(CITY_NAMES), n, p=CITY_WEIGHTS / CITY_WEIGHTS.sum())
    coords = CITY_COORDS[city] + rng.normal(0, 0.06, (n, 2))
    os_ = (rng.random(n) < 0.55).astype(int)                       # 0 = iOS, 1 = Android
    activity = rng.beta(2.0, 2.0, n)
    n_interests = rng.choice([1, 2, 3], n, p=[0.3, 0.45, 0.25])
    # Demographics shape interests (the same tables that cross with category in the click
    # model): a young female user is likelier to hold a beauty interest, and so on.
    logits = 2.0 * (age_category[age] + gender_category[gender])  # (n, N_TOP)
    gumbel = rng.gumbel(size=(n, 3, N_TOP))
    top = np.argmax(logits[:, None, :] + gumbel, axis=2)           # (n, 3)
    sub = top * 4 + rng.integers(0, 4, (n, 3))
    centres = sub_centres[sub] + rng.normal(0, 0.35, (n, 3, d)) / np.sqrt(d)
    interest_mask = np.arange(3)[None, :] < n_interests[:, None]    # (n, 3)
    users = pd.DataFrame({
        "user_id": np.arange(n), "gender": np.array(GENDERS)[gender],
        "age_bucket": np.array(AGE_BUCKETS)[age], "city": np.array(CITY_NAMES)[city],
        "geohash": geohash_encode(coords[:, 0], coords[:, 1], precision=5),
        "device_os": np.array(DEVICE_OS)[os_],
    })
    truth = pd.DataFrame({"user_id": np.arange(n), "activity": activity,
                          "n_interests": n_interests})
    return users, truth, centres, interest_mask, sub


def draw_follows(config, rng, authors, interest_subcategories, interest_mask):
    """Each user follows ~Poisson(4) authors from their interest subcategories, ∝ e^quality."""
    n_follows = rng.poisson(4.0, config.n_users)
    user = np.repeat(np.arange(config.n_users), n_follows)
    k = rng.integers(0, interest_mask.sum(1)[user])                 # one of the user's centres
    author = sample_within_groups(authors["home_subcategory_id"].to_numpy(),
                                  np.exp(2 * authors["quality"].to_numpy()),
                                  interest_subcategories[user, k], rng, N_SUB)
    pairs = np.unique(np.stack([user[author >= 0], author[author >= 0]], 1), axis=0)
    return pd.DataFrame({"user_id": pairs[:, 0], "author_id": pairs[:, 1]})


def draw_circles(config, rng, items: pd.DataFrame, activity):
    """Small circles (小圈子): random users bound by a social tie to a set of random notes.

    Members are drawn regardless of interest and their notes across categories, so their
    co-interactions say nothing about item similarity: the trap Swing is built to avoid.
    """
    # Members are drawn among the more active users: a circle is a group of friends who are
    # on the app most days, which is what makes their co-interactions dense.
    active = np.flatnonzero(activity > np.quantile(activity, 0.5))
    members = rng.choice(active, config.n_circles * config.circle_size, replace=False)
    recent = items.index[items["publish_day"] >= -25].to_numpy()
    circle_items = rng.choice(recent, config.n_circles * config.circle_items, replace=False)
    user_circle = np.full(config.n_users, -1)
    user_circle[members] = np.repeat(np.arange(config.n_circles), config.circle_size)
    item_circle = np.full(len(items), -1)
    item_circle[circle_items] = np.repeat(np.arange(config.n_circles), config.circle_items)
    return user_circle, item_circle
