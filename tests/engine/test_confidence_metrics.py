import numpy as np

from training.confidence import choose_threshold, flag_counts, flagging, reliability, right_words, roc_auc


def test_right_words_align_by_word_edits():
    assert right_words("the cat sat", ["the", "cot", "sat"]) == [True, False, True]
    assert right_words("the cat sat", ["the", "sat"]) == [True, True]
    assert right_words("a b", ["x", "a", "b", "y"]) == [False, True, True, False]


def test_auc_counts_ordered_pairs_and_ties():
    ok = np.array([True, True, False, False])
    assert roc_auc(np.array([0.9, 0.8, 0.2, 0.1]), ok) == 1.0
    assert roc_auc(np.array([0.1, 0.2, 0.8, 0.9]), ok) == 0.0
    assert roc_auc(np.array([0.5, 0.5, 0.5, 0.5]), ok) == 0.5
    assert np.isnan(roc_auc(np.array([0.5]), np.array([True])))


def test_threshold_balances_precision_and_recall():
    conf = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.9, 0.95])
    ok = np.array([False, False, True, False, True, True, True])
    f = choose_threshold(conf, ok)
    assert f.precision >= 2 / 3 and f.recall >= 2 / 3
    low = flagging(conf, ok, 0.25)
    assert low.precision == 1.0 and abs(low.recall - 2 / 3) < 1e-9


def test_flag_counts_pool_across_lines_and_keep_the_counts():
    truths = ["the cat sat", "on a mat"]
    words = [[("the", 0.9), ("cot", 0.3), ("sat", 0.4)], [("on", 0.95), ("a", 0.2), ("mad", 0.8)]]
    f = flag_counts(truths, words, 0.5)  # wrong: cot, mad; flagged: cot, sat, a
    assert (f["words"], f["wrong"], f["flagged"], f["flagged_and_wrong"]) == (6, 2, 3, 1)
    assert f["flagged_wrong"] == round(1 / 3, 4) and f["wrong_flagged"] == 0.5 and f["threshold"] == 0.5
    assert flag_counts([], [], 0.5)["flagged_wrong"] == 0.0  # nothing read: no division by zero


def test_reliability_bins():
    rows = reliability(np.array([0.05, 0.05, 0.95, 0.95]), np.array([False, True, True, True]), bins=10)
    assert rows == [(0.05, 0.5, 2), (0.95, 1.0, 2)]


def test_logistic_fit_separates_and_out_of_fold_is_honest():
    from training.confidence import fit_logistic, out_of_fold, predict_logistic

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] + 0.3 * rng.normal(size=400) > 0).astype(float)
    w = fit_logistic(x, y)
    assert w[1] > 1.0 and abs(w[2]) < 0.5
    assert roc_auc(predict_logistic(w, x), y.astype(bool)) > 0.9
    noise = rng.normal(size=(400, 3))  # nothing to learn: held-out predictions must not look informative
    held_out = out_of_fold(noise, y, np.arange(400))
    assert abs(roc_auc(held_out, y.astype(bool)) - 0.5) < 0.1


def test_nested_thresholds_never_see_the_fold_they_flag():
    from training.confidence import flagging_at, nested_flagging

    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 2))
    y = (x[:, 0] + 0.5 * rng.normal(size=500) > -0.8).astype(float)
    groups = np.arange(500) // 5  # five words a line
    conf, thresholds = nested_flagging(x, y, groups)
    in_fold = groups % 5 == 0
    flipped = y.copy()
    flipped[in_fold] = 1 - flipped[in_fold]  # fold 0's labels change: its threshold and confidences must not
    conf2, thresholds2 = nested_flagging(x, flipped, groups)
    assert np.array_equal(thresholds[in_fold], thresholds2[in_fold])
    assert np.allclose(conf[in_fold], conf2[in_fold])
    assert not np.array_equal(thresholds[~in_fold], thresholds2[~in_fold])  # the others did see fold 0
    f = flagging_at(conf, y.astype(bool), thresholds)
    assert 0.5 < f.precision <= 1.0 and 0.5 < f.recall <= 1.0


def test_a_nested_threshold_is_chosen_without_the_fold_it_flags():
    from training.confidence import nested_threshold

    rng = np.random.default_rng(2)
    conf = rng.uniform(size=400)
    right = conf + 0.2 * rng.normal(size=400) > 0.4
    groups = np.arange(400) // 4  # four words a line
    f = nested_threshold(conf, right, groups)
    assert 0.6 < f.precision <= 1.0 and 0.6 < f.recall <= 1.0
    in_fold = groups % 5 == 0
    flipped = right.copy()
    flipped[in_fold] = ~flipped[in_fold]  # fold 0's labels change: the thresholds of the other folds must
    changed = nested_threshold(conf, flipped, groups)
    assert changed.threshold != f.threshold
    separable = nested_threshold(np.array([0.1, 0.2, 0.8, 0.9] * 25), np.array([False, False, True, True] * 25),
                                 np.arange(100) // 2)
    assert separable.precision == 1.0 and separable.recall == 1.0  # a clean cut found on every four folds
