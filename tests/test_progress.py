import io
import sys

from spikemem.progress import progress


def test_silent_when_not_a_tty(capsys):
    # Under capsys sys.stderr is a capture buffer, i.e. not a terminal.
    with progress(100, "simulating") as p:
        for _ in range(100):
            p.update(1)
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_explicitly_disabled_is_silent(capsys):
    p = progress(10, "x", enabled=False)
    p.update(10)
    p.close()
    assert capsys.readouterr() == ("", "")


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_shows_bar_on_tty(monkeypatch):
    fake = FakeTTY()
    monkeypatch.setattr(sys, "stderr", fake)
    with progress(50, "simulating") as p:
        p.update(25)
        p.update(25)
    text = fake.getvalue()
    assert "simulating" in text and "50/50" in text


def test_enabled_true_forces_bar(monkeypatch):
    fake = io.StringIO()  # not a tty, but the caller asked for the bar
    monkeypatch.setattr(sys, "stderr", fake)
    p = progress(4, "steps", enabled=True)
    p.update(4)
    p.close()
    p.close()  # idempotent
    assert "4/4" in fake.getvalue()
