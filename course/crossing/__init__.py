"""Feature crossing (特征交叉), chapter 4: FM, DCN, LHUC/PPNet, SENet and bilinear crossing.

Notebooks: 04a (FM and the cross network, DCN, on a toy and the DCN-V2 polynomial), 04b (the
crossing blocks on the world's click task), 04c (the same models on MovieLens-100K). Every block
is an ``nn.Module`` on plain tensors, for a ranker or either tower of a two-tower model.
"""
from course.crossing.bilinear import BILINEAR_KINDS, BilinearInteraction
from course.crossing.cost import count_parameters, multiply_adds
from course.crossing.cross import DCN, CrossLayer, CrossLayerV1, CrossNetwork
from course.crossing.fm import FM, fm_cost, fm_interaction
from course.crossing.lhuc import LHUCGate, LHUCTower
from course.crossing.polynomial import (POLYNOMIAL_CROSSES, POLYNOMIAL_LINEAR, CrossRegressor,
                                        DeepRegressor, polynomial_data, quadratic_coefficients, rmse)
from course.crossing.probes import code_to_truth, cross_agreement, cross_dependence, double_centre
from course.crossing.rankers import RANKER_KINDS, FiBiNET, FieldFM, FieldLinear, LHUCRanker, deep_ranker
from course.crossing.senet import SENet
from course.crossing.towers import SENetTower

__all__ = ["fm_interaction", "fm_cost", "FM",
           "CrossLayer", "CrossLayerV1", "CrossNetwork", "DCN",
           "LHUCGate", "LHUCTower",
           "SENet", "BilinearInteraction", "BILINEAR_KINDS",
           "count_parameters", "multiply_adds",
           "POLYNOMIAL_LINEAR", "POLYNOMIAL_CROSSES", "polynomial_data", "CrossRegressor",
           "DeepRegressor", "quadratic_coefficients", "rmse",
           "FieldLinear", "FieldFM", "deep_ranker", "LHUCRanker", "FiBiNET", "RANKER_KINDS",
           "double_centre", "cross_agreement", "cross_dependence", "code_to_truth", "SENetTower"]
