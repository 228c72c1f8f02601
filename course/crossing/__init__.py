"""Feature crossing (特征交叉), chapter 4."""
from course.crossing.fm import FM, fm_cost, fm_interaction
from course.crossing.cross import CrossLayer, CrossLayerV1, CrossNetwork, DCN
from course.crossing.lhuc import LHUCGate, LHUCTower
