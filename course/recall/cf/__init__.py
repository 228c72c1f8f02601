"""Collaborative-filtering recall (协同过滤召回): ItemCF, Swing, UserCF, the n·k index and the popularity baseline (notebook 02a)."""
from course.recall.cf.index import check_interactions, item_to_items, score_from_index, user_to_last_items
from course.recall.cf.itemcf import ItemCF, cosine_item_similarity
from course.recall.cf.popularity import MostPopular
from course.recall.cf.swing import Swing, swing_similarity
from course.recall.cf.top_n import keep_top_k_per_row, remove_seen, top_k_per_row, top_k_excluding
from course.recall.cf.usercf import UserCF, user_similarity

__all__ = ["ItemCF", "Swing", "UserCF", "MostPopular", "cosine_item_similarity", "swing_similarity", "user_similarity",
           "check_interactions", "item_to_items", "user_to_last_items", "score_from_index",
           "top_k_per_row", "top_k_excluding", "keep_top_k_per_row", "remove_seen"]
