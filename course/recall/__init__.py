"""Recall (召回): the first stage of the funnel, chapter 2 of the course."""
from course.recall.cf_index import item_to_items, score_from_index, top_n_per_row, user_to_last_items
from course.recall.itemcf import ItemCF, cosine_item_similarity
from course.recall.swing import Swing, swing_similarity
from course.recall.usercf import UserCF, user_similarity
from course.recall.movielens_protocol import evaluate_top_k, popularity_recommend, split_matrices, stratified_split
