"""Category accuracy measured on recorded flights of known type (traffic's samples).

The figures asserted are minimums just below what was measured when the rules were
written (flights: accuracy 0.951, balanced accuracy 0.856; windows 0.890 / 0.805, see
skyfence.identify.evaluate). The headline is the balanced accuracy (mean recall over
the true classes), which a classifier that calls everything an airliner fails (0.25)
even though its plain accuracy is 0.93. Business jets that cruise below FL400 fly like
airliners and are the known misses (7 of 14).
"""

from __future__ import annotations

import pytest

from skyfence.identify.evaluate import evaluate


@pytest.mark.slow
def test_category_accuracy_on_labelled_recorded_flights() -> None:
    scores = evaluate(window_s=300.0)
    flights, windows = scores["flights"], scores["windows"]
    m = flights.matrix
    assert flights.n >= 1150 and windows.n >= 4800  # all labelled data was read
    assert set(m.index) == {"airliner", "jet", "propeller", "helicopter"}
    assert flights.balanced_accuracy >= 0.85
    assert windows.balanced_accuracy >= 0.80
    assert flights.accuracy >= 0.94
    assert windows.accuracy >= 0.88
    assert m.at["airliner", "airliner"] / m.loc["airliner"].sum() >= 0.95
    assert m.at["propeller", "propeller"] / m.loc["propeller"].sum() >= 0.95
    assert m.at["helicopter", "helicopter"] == m.loc["helicopter"].sum() == 3
    assert m.at["jet", "jet"] / m.loc["jet"].sum() >= 0.5
    # nothing recorded with a transponder is taken for a drone or a balloon
    assert m["drone"].sum() == 0 and m["balloon"].sum() == 0
