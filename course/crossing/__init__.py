"""Feature crossing (特征交叉), chapter 4: FM, DCN, LHUC/PPNet, SENet and bilinear crossing.

The notebooks to come: 04a (FM and the cross network, DCN), 04b (LHUC and PPNet), 04c (SENet and
bilinear crossing, FiBiNET). Every block is an ``nn.Module`` on plain tensors, for a ranker or
either tower of a two-tower model.
"""
from course.crossing.bilinear import BILINEAR_KINDS, BilinearInteraction
from course.crossing.cross import DCN, CrossLayer, CrossLayerV1, CrossNetwork
from course.crossing.fm import FM, fm_cost, fm_interaction
from course.crossing.lhuc import LHUCGate, LHUCTower
from course.crossing.senet import SENet

__all__ = ["fm_interaction", "fm_cost", "FM",
           "CrossLayer", "CrossLayerV1", "CrossNetwork", "DCN",
           "LHUCGate", "LHUCTower",
           "SENet", "BilinearInteraction", "BILINEAR_KINDS"]
