"""The community's maths: which pairs a change of picks moves, and how neighbours score."""

from __future__ import annotations

import pytest

from core.community import CommunityScores, co_pick_changes, community_scores, strongest


def test_a_new_pick_pairs_with_the_window_before_it() -> None:
    assert co_pick_changes([1, 2, 3], [1, 2, 3, 4], window=2) == {
        4: {3: 1, 2: 1},
        3: {4: 1},
        2: {4: 1},
    }


def test_undoing_the_last_pick_takes_its_pairs_back() -> None:
    assert co_pick_changes([1, 2, 3], [1, 2], window=5) == {
        3: {1: -1, 2: -1},
        1: {3: -1},
        2: {3: -1},
    }


def test_a_change_in_the_middle_recounts_from_there() -> None:
    changes = co_pick_changes([1, 2, 3], [1, 3], window=1)

    assert changes == {2: {1: -1, 3: -1}, 1: {2: -1, 3: 1}, 3: {2: -1, 1: 1}}


def test_neighbours_score_as_a_cosine_of_their_pickers() -> None:
    found = community_scores(
        recent=[1, 2],
        neighbours=[{3: 3, 4: 1}, {3: 1}],
        pick_counts={1: 4, 2: 1, 3: 1, 4: 4},
    )

    assert found.scores == pytest.approx({3: 3 / 2 + 1.0, 4: 1 / 4})
    assert found.strongest_source == {3: 1, 4: 1}


def test_no_neighbours_score_nothing() -> None:
    assert community_scores([1], [{}], {}) == CommunityScores({}, {})


def test_strongest_keeps_the_highest_counts_and_the_smaller_ids_among_ties() -> None:
    assert strongest({5: 2, 3: 1, 9: 2, 1: 1, 7: 0}, keep=3) == {5: 2, 9: 2, 1: 1}
