import pytest

from mlsql.core.durations import parse_duration


@pytest.mark.parametrize(("text", "seconds"), [
    ("500 ms", 0.5), ("2 s", 2.0), ("10 seconds", 10.0), ("1 minute", 60.0), ("1min", 60.0),
    ("1 h", 3600.0), ("3", 3.0), ("1.5 s", 1.5), (" 2 Days ", 172800.0),
])
def test_durations_as_flink_spells_them(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5 fortnights", "-1 s", "0 s", "1 s 2"])
def test_what_is_not_a_duration(text):
    with pytest.raises(ValueError):
        parse_duration(text)
