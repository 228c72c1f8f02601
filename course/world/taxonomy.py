"""The fixed vocabulary of the world: a two-level category tree with keywords, and cities.

Kept as plain data so a learner can read the whole catalogue structure at a glance. Twelve top
categories (一级类目) with four subcategories (二级类目) each, three keywords per subcategory
(what category/keyword recall and SIM's hard search index on), and twelve Chinese cities with
real coordinates (what GeoHash / same-city recall works on).
"""
from __future__ import annotations

# top category -> {subcategory: keywords}
CATEGORY_TREE: dict[str, dict[str, tuple[str, str, str]]] = {
    "beauty": {
        "skincare": ("moisturiser", "sunscreen", "serum"),
        "makeup": ("lipstick", "foundation", "eyeshadow"),
        "haircare": ("shampoo", "hair-dye", "curling"),
        "fragrance": ("perfume", "scent", "niche-brand"),
    },
    "fashion": {
        "outfits": ("ootd", "layering", "capsule-wardrobe"),
        "shoes": ("sneakers", "boots", "heels"),
        "bags": ("tote", "crossbody", "vintage-bag"),
        "jewellery": ("earrings", "necklace", "rings"),
    },
    "food": {
        "recipes": ("home-cooking", "meal-prep", "air-fryer"),
        "restaurants": ("hotpot", "brunch", "hidden-gem"),
        "baking": ("sourdough", "cake", "cookies"),
        "drinks": ("milk-tea", "coffee", "cocktails"),
    },
    "travel": {
        "city-walks": ("citywalk", "old-streets", "night-view"),
        "hotels": ("boutique-hotel", "homestay", "resort"),
        "outdoors": ("hiking", "camping", "national-park"),
        "abroad": ("visa", "itinerary", "budget-travel"),
    },
    "fitness": {
        "gym": ("strength", "leg-day", "protein"),
        "yoga": ("flexibility", "pilates", "breathing"),
        "running": ("marathon", "running-shoes", "pace"),
        "weight-loss": ("calorie-deficit", "diet-plan", "before-after"),
    },
    "home": {
        "decor": ("minimalist", "wall-art", "rental-makeover"),
        "organising": ("storage", "declutter", "closet"),
        "plants": ("succulents", "monstera", "balcony-garden"),
        "appliances": ("robot-vacuum", "dishwasher", "smart-home"),
    },
    "pets": {
        "cats": ("kitten", "cat-food", "litter"),
        "dogs": ("puppy", "dog-training", "corgi"),
        "small-pets": ("hamster", "rabbit", "parrot"),
        "pet-health": ("vet", "vaccines", "pet-insurance"),
    },
    "parenting": {
        "baby": ("newborn", "diapers", "sleep-training"),
        "education": ("picture-books", "kindergarten", "stem-toys"),
        "pregnancy": ("prenatal", "maternity", "birth-story"),
        "family-trips": ("kid-friendly", "theme-park", "road-trip"),
    },
    "tech": {
        "phones": ("smartphone", "camera-test", "battery"),
        "laptops": ("ultrabook", "gaming-laptop", "tablet"),
        "gadgets": ("earbuds", "smartwatch", "keyboard"),
        "apps": ("productivity", "note-taking", "ai-tools"),
    },
    "study": {
        "exams": ("gaokao", "postgraduate-exam", "ielts"),
        "languages": ("english", "japanese", "vocabulary"),
        "careers": ("resume", "interview", "internship"),
        "reading": ("book-list", "novels", "reading-notes"),
    },
    "photography": {
        "portrait": ("posing", "portrait-lens", "natural-light"),
        "phone-photo": ("phone-shots", "editing-app", "presets"),
        "landscape": ("sunset", "drone", "long-exposure"),
        "film": ("film-camera", "35mm", "film-stock"),
    },
    "entertainment": {
        "movies": ("movie-review", "cinema", "classics"),
        "music": ("concert", "playlist", "guitar"),
        "games": ("mobile-games", "console", "walkthrough"),
        "celebrities": ("idol", "variety-show", "fan-meet"),
    },
}

# city -> (latitude, longitude, relative population weight)
CITIES: dict[str, tuple[float, float, float]] = {
    "Shanghai": (31.23, 121.47, 2.5),
    "Beijing": (39.90, 116.40, 2.2),
    "Guangzhou": (23.13, 113.26, 1.8),
    "Shenzhen": (22.54, 114.06, 1.8),
    "Hangzhou": (30.27, 120.16, 1.2),
    "Chengdu": (30.57, 104.07, 1.6),
    "Wuhan": (30.59, 114.31, 1.2),
    "Xi'an": (34.34, 108.94, 1.0),
    "Nanjing": (32.06, 118.80, 0.9),
    "Chongqing": (29.56, 106.55, 1.5),
    "Suzhou": (31.30, 120.59, 0.8),
    "Changsha": (28.23, 112.94, 0.8),
}

AGE_BUCKETS = ("<18", "18-24", "25-34", "35-44", "45+")
AGE_SHARES = (0.08, 0.35, 0.35, 0.14, 0.08)
GENDERS = ("female", "male")
DEVICE_OS = ("iOS", "Android")

_GEOHASH_ALPHABET = "0123456789bcdefghjkmnpqrstuvwxyz"


def category_table():
    """Rows (subcategory_id, subcategory, category_id, category, keywords) of the tree, in order."""
    rows = []
    for category_id, (category, subs) in enumerate(CATEGORY_TREE.items()):
        for subcategory, keywords in subs.items():
            rows.append((len(rows), subcategory, category_id, category, "|".join(keywords)))
    return rows


def geohash_encode(latitudes, longitudes, precision: int = 5) -> list[str]:
    """Encode coordinates as GeoHash strings (Niemeyer 2008), vectorised over points.

    GeoHash interleaves longitude and latitude bisection bits and writes them in base 32; two
    points that share a prefix of length p lie in the same cell (about 4.9 km x 4.9 km for
    p = 5), which is why same-prefix lookup is a cheap "nearby" index.

    Examples
    --------
    >>> geohash_encode([57.64911], [10.40744], precision=6)  # the reference example
    ['u4pruy']
    """
    import numpy as np

    lat = np.asarray(latitudes, dtype=float)
    lon = np.asarray(longitudes, dtype=float)
    if lat.shape != lon.shape or lat.ndim != 1:
        raise ValueError("latitudes and longitudes must be 1-D arrays of the same length")
    if np.any(np.abs(lat) > 90) or np.any(np.abs(lon) > 180):
        raise ValueError("latitudes must lie in [-90, 90] and longitudes in [-180, 180]")
    lat_lo, lat_hi = np.full_like(lat, -90.0), np.full_like(lat, 90.0)
    lon_lo, lon_hi = np.full_like(lon, -180.0), np.full_like(lon, 180.0)
    codes = np.zeros((lat.size, precision), dtype=np.int64)
    for bit in range(5 * precision):  # even bits refine longitude, odd bits latitude
        if bit % 2 == 0:
            mid = (lon_lo + lon_hi) / 2
            upper = lon >= mid
            lon_lo = np.where(upper, mid, lon_lo)
            lon_hi = np.where(upper, lon_hi, mid)
        else:
            mid = (lat_lo + lat_hi) / 2
            upper = lat >= mid
            lat_lo = np.where(upper, mid, lat_lo)
            lat_hi = np.where(upper, lat_hi, mid)
        codes[:, bit // 5] = codes[:, bit // 5] * 2 + upper
    alphabet = np.array(list(_GEOHASH_ALPHABET))
    return ["".join(row) for row in alphabet[codes]]
