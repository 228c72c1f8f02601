"""Reading an A/B test (AB 测试): Welch's t-test, confidence interval, power and sample size.

The unit of analysis is the user: hash bucketing randomises users, so each user contributes
one number (clicks, days active, time spent) and the test compares the two arms' means.
Per-impression metrics (CTR as clicks / impressions pooled over all impressions) are ratios of
two per-user sums; treating impressions as independent understates the variance, because one
user's impressions are correlated. See Kohavi, Tang & Xu, *Trustworthy Online Controlled
Experiments* (2020), chapters 17-18.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import special, stats

from course._checks import check_probability

__all__ = ["ABTestResult", "compare_means", "ci_half_width", "power_of_test",
           "required_sample_size"]


@dataclass(frozen=True)
class ABTestResult:
    """Result of :func:`compare_means`; also readable as ``result["p_value"]``."""

    control_mean: float
    treatment_mean: float
    diff: float
    relative_lift: float
    ci_low: float
    ci_high: float
    p_value: float
    t_statistic: float
    df: float
    n_control: int
    n_treatment: int
    alpha: float

    def as_dict(self) -> dict:
        return asdict(self)

    def __getitem__(self, key: str):
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)


def compare_means(control, treatment, alpha: float = 0.05) -> ABTestResult:
    """Welch's two-sample t-test on per-user metrics: lift, confidence interval, p-value.

    With means m, sample variances s² (ddof=1) and sizes n of the two groups,
    ``diff = m_t - m_c``, ``se² = s_t²/n_t + s_c²/n_c``, ``t = diff / se``, and the degrees of
    freedom are Welch–Satterthwaite's ``df = se⁴ / ((s_t²/n_t)²/(n_t-1) + (s_c²/n_c)²/(n_c-1))``
    (Welch 1947). ``p = 2·P(T_df > |t|)``; CI ``diff ± t_{df,1-α/2}·se``. Welch, not Student:
    the arms of an A/B test may have different sizes and the treatment may change the variance.

    Parameters
    ----------
    control, treatment : array-like of float, shape (n_control,), (n_treatment,)
        One value per user (e.g. time spent, clicks), at least two users each.
    alpha : float, default 0.05
        Significance level; the interval has confidence ``1 - alpha``.

    Returns
    -------
    ABTestResult
        ``relative_lift = diff / control_mean`` (nan if the control mean is 0).

    Examples
    --------
    >>> result = compare_means([1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 4.0, 5.0])
    >>> result.diff, result.relative_lift
    (1.0, 0.4)
    >>> round(result.t_statistic, 4), result.df  # 1 / sqrt(2 * (5/3) / 4); equal variances: 2(n-1)
    (1.0954, 6.0)
    >>> round(result["p_value"], 4)
    0.3153
    """
    check_probability(alpha, "alpha", low_open=True, high_open=True)
    groups = []
    for label, values in (("control", control), ("treatment", treatment)):
        values = np.asarray(values, dtype=float)
        if values.ndim != 1 or values.size < 2:
            raise ValueError(f"{label} must be 1-d with at least 2 users, got shape {values.shape}")
        if not np.isfinite(values).all():
            raise ValueError(f"{label} contains nan or inf")
        groups.append((values.mean(), values.var(ddof=1) / values.size, values.size))
    (mean_c, var_mean_c, n_c), (mean_t, var_mean_t, n_t) = groups
    se = np.sqrt(var_mean_c + var_mean_t)
    if se == 0:
        raise ValueError("both groups are constant: the t-test is undefined")
    diff = mean_t - mean_c
    df = se**4 / (var_mean_t**2 / (n_t - 1) + var_mean_c**2 / (n_c - 1))
    t_statistic = diff / se
    # special.stdtr / stdtrit are the t CDF and its inverse: the same numbers as stats.t.sf / .ppf
    # without the distribution-object overhead (matters when simulating thousands of A/A tests)
    margin = special.stdtrit(df, 1 - alpha / 2) * se
    return ABTestResult(
        control_mean=float(mean_c), treatment_mean=float(mean_t), diff=float(diff),
        relative_lift=float(diff / mean_c) if mean_c != 0 else float("nan"),
        ci_low=float(diff - margin), ci_high=float(diff + margin),
        p_value=float(2 * special.stdtr(df, -abs(t_statistic))), t_statistic=float(t_statistic),
        df=float(df), n_control=int(n_c), n_treatment=int(n_t), alpha=float(alpha))


def _check_design(baseline_std, alpha, treatment_share):
    if not baseline_std > 0:
        raise ValueError(f"baseline_std must be positive, got {baseline_std!r}")
    check_probability(alpha, "alpha", low_open=True, high_open=True)
    check_probability(treatment_share, "treatment_share", low_open=True, high_open=True)


def _standard_error(n_total, baseline_std, treatment_share):
    """se of the difference of means when a share p of n users is treated: σ·√(1/(n·p·(1-p)))."""
    if not n_total >= 2:
        raise ValueError(f"n_total must be at least 2, got {n_total!r}")
    return baseline_std / np.sqrt(n_total * treatment_share * (1 - treatment_share))


def ci_half_width(n_total, baseline_std, alpha=0.05, treatment_share=0.5) -> float:
    """Half-width ``z_{1-α/2}·σ/√(n·p·(1-p))`` of the confidence interval on the lift (normal
    approximation). Halving it needs four times the users.

    Examples
    --------
    >>> round(ci_half_width(40_000, baseline_std=1.0), 4)   # 1.96 * sqrt(1/10_000 * 2)
    0.0196
    """
    _check_design(baseline_std, alpha, treatment_share)
    z = stats.norm.ppf(1 - alpha / 2)
    return float(z * _standard_error(n_total, baseline_std, treatment_share))


def power_of_test(n_total, baseline_std, effect, alpha=0.05, treatment_share=0.5) -> float:
    """Statistical power (统计功效): probability that a two-sided test at level α rejects when the
    true difference of means is ``effect``. Normal approximation, both tails:
    ``Φ(|δ|/se - z_{1-α/2}) + Φ(-|δ|/se - z_{1-α/2})``, so the power of a zero effect is α.

    Examples
    --------
    >>> round(power_of_test(3140, baseline_std=1.0, effect=0.1), 3)
    0.8
    >>> round(power_of_test(3140, baseline_std=1.0, effect=0.0), 3)
    0.05
    """
    _check_design(baseline_std, alpha, treatment_share)
    z = stats.norm.ppf(1 - alpha / 2)
    shift = abs(effect) / _standard_error(n_total, baseline_std, treatment_share)
    return float(stats.norm.cdf(shift - z) + stats.norm.cdf(-shift - z))


def required_sample_size(baseline_std, minimum_detectable_effect, alpha=0.05, power=0.8,
                         treatment_share=0.5) -> int:
    """Users needed in total to detect the minimum detectable effect (MDE, 最小可检测效应).

    ``n = (z_{1-α/2} + z_{power})² · σ² / (δ² · p · (1-p))`` (normal approximation; with
    ``p = 1/2`` this is the textbook ``2(z_{1-α/2} + z_{power})² σ²/δ²`` per arm), rounded up
    to the smallest n for which :func:`power_of_test` reaches ``power``. An unequal split
    (p ≠ 1/2) needs more users in total.

    Examples
    --------
    >>> required_sample_size(baseline_std=1.0, minimum_detectable_effect=0.1)
    3140
    """
    _check_design(baseline_std, alpha, treatment_share)
    if not minimum_detectable_effect > 0:
        raise ValueError(f"minimum_detectable_effect must be positive, got {minimum_detectable_effect!r}")
    check_probability(power, "power", low_open=True, high_open=True)
    z_sum = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    variance_factor = treatment_share * (1 - treatment_share)
    n_total = max(2, int(np.ceil((z_sum * baseline_std / minimum_detectable_effect) ** 2 / variance_factor)))
    # The closed form ignores the far tail of power_of_test; step down while it still suffices.
    while n_total > 2 and power_of_test(n_total - 1, baseline_std, minimum_detectable_effect,
                                        alpha, treatment_share) >= power:
        n_total -= 1
    return n_total
