"""More-like-this term choice (Lucene's): tf × idf, the best 25, weights over the best."""

from __future__ import annotations

import math

from search.legs.more_like_this import MAX_TERMS, mlt_terms, term_counts

DF = {"model": 60, "agent": 10, "rare": 2, "only": 1}


def test_terms_are_scored_tf_idf_and_weighted_by_the_best() -> None:
    got = mlt_terms(term_counts(["model"] * 5, ["agent", "agent", "rare"]), DF.get, 72)
    idf = {t: math.log(72 / (df + 1)) + 1 for t, df in DF.items()}
    scores = {"model": 5 * idf["model"], "agent": 2 * idf["agent"], "rare": idf["rare"]}
    best = max(scores.values())
    assert got == {t: s / best for t, s in sorted(scores.items(), key=lambda kv: -kv[1])}
    assert max(got.values()) == 1.0


def test_a_term_no_other_paper_has_is_left_out_for_a_paper_but_kept_for_a_pasted_text() -> None:
    counts = term_counts(["only", "rare"])
    assert "only" not in mlt_terms(counts, DF.get, 72)  # the paper itself is its one document
    assert "only" in mlt_terms(counts, DF.get, 72, min_df=1)
    assert mlt_terms(term_counts(["unknown"]), lambda t: 0, 72) == {}


def test_at_most_the_best_terms_ties_broken_by_term() -> None:
    counts = term_counts([f"t{i:03d}" for i in range(100)])
    got = mlt_terms(counts, lambda t: 5, 72)
    assert list(got) == [f"t{i:03d}" for i in range(MAX_TERMS)]
