"""A/B testing (AB 测试): who sees which strategy, how to read the result, and how to run one
on the simulated platform.

The note's path to launch is offline test → small-traffic online A/B test (小流量) → full
launch (推全), with a reverse bucket (反转桶) kept on the old strategy afterwards to watch
lagging metrics such as retention (反转实验). Three modules:

- :mod:`course.abtest.bucketing`: hash bucketing (分桶) of user ids, layers (分层实验:
  同层互斥, 不同层正交), holdout and the launch with a reverse bucket;
- :mod:`course.abtest.statistics`: Welch's t-test with lift, confidence interval and p-value,
  power (统计功效) and sample size;
- :mod:`course.abtest.simulation`: A/B, A/A and reverse experiments served on the world's
  online environment, returning one row of metrics per user.

Examples
--------
>>> from course.abtest import assign_bucket, compare_means
>>> assign_bucket([1, 2, 3], n_buckets=10, salt="recall").shape
(3,)
>>> compare_means([1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 4.0, 5.0]).diff
1.0
"""
from course.abtest.bucketing import ExperimentPlatform, Layer, assign_bucket
from course.abtest.simulation import (OnlineExperiment, ReverseExperiment, aa_p_values,
                                      expected_clicks_per_user, rerandomised_tests, run_aa_test,
                                      run_online_ab_test, run_reverse_experiment)
from course.abtest.statistics import (ABTestResult, ci_half_width, compare_means, power_of_test,
                                      required_sample_size)

__all__ = ["assign_bucket", "Layer", "ExperimentPlatform", "ABTestResult", "compare_means",
           "ci_half_width", "power_of_test", "required_sample_size", "OnlineExperiment",
           "ReverseExperiment", "run_online_ab_test", "run_aa_test", "rerandomised_tests",
           "aa_p_values", "run_reverse_experiment", "expected_clicks_per_user"]
