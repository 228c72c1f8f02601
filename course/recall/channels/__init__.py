"""Other recall channels (其他召回通道) and exposure filters: author, geo, same-city, cache, Bloom (notebook 02d)."""
from course.recall.channels.author import (AuthorRecall, SimilarAuthorRecall, author_cosine_similarity,
                                           user_author_matrix)
from course.recall.channels.bloom import (BloomFilter, ExposureFilter, expected_false_positive_rate,
                                          optimal_n_hashes, splitmix64)
from course.recall.channels.cache import CacheRecall, RecallCache
from course.recall.channels.index import KeyIndex, newest_first_order
from course.recall.channels.key_match import GeoHashRecall, NewestByKeyRecall, SameCityRecall

__all__ = ["AuthorRecall", "SimilarAuthorRecall", "author_cosine_similarity", "user_author_matrix",
           "GeoHashRecall", "SameCityRecall", "NewestByKeyRecall", "CacheRecall", "RecallCache",
           "BloomFilter", "ExposureFilter", "expected_false_positive_rate", "optimal_n_hashes",
           "splitmix64", "KeyIndex", "newest_first_order"]
