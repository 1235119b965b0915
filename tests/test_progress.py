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


# --- where bars are shown by default: terminals and notebooks, not pipes
class _Shell:
    pass


def _fake_ipython(monkeypatch, shell_class_name):
    import types
    shell = type(shell_class_name, (_Shell,), {})()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))


def test_notebook_kernel_detected(monkeypatch):
    from spikemem.progress import in_notebook, shown
    monkeypatch.delenv("SPIKEMEM_PROGRESS", raising=False)
    _fake_ipython(monkeypatch, "ZMQInteractiveShell")
    assert in_notebook() and shown()          # no terminal, but a notebook shows bars


def test_terminal_ipython_and_plain_python_are_not_notebooks(monkeypatch):
    from spikemem.progress import in_notebook, shown
    monkeypatch.delenv("SPIKEMEM_PROGRESS", raising=False)
    _fake_ipython(monkeypatch, "TerminalInteractiveShell")
    assert not in_notebook() and not shown()  # pytest's stderr is no terminal either
    monkeypatch.delitem(sys.modules, "IPython")
    assert not in_notebook()


def test_notebook_bar_is_drawn_without_a_terminal(monkeypatch):
    fake = io.StringIO()
    monkeypatch.setattr(sys, "stderr", fake)
    monkeypatch.delenv("SPIKEMEM_PROGRESS", raising=False)
    _fake_ipython(monkeypatch, "ZMQInteractiveShell")
    with progress(3, "in a notebook") as p:
        p.update(3)
    assert "in a notebook" in fake.getvalue() and "3/3" in fake.getvalue()


def test_default_and_environment_turn_bars_off_on_a_terminal(monkeypatch):
    from spikemem.progress import default
    fake = FakeTTY()
    monkeypatch.setattr(sys, "stderr", fake)
    with default(False):
        with progress(5, "hidden") as p:
            p.update(5)
    monkeypatch.setenv("SPIKEMEM_PROGRESS", "0")
    with progress(5, "hidden too") as p:
        p.update(5)
    assert fake.getvalue() == ""
    with progress(5, "asked for", enabled=True) as p:      # an explicit choice wins
        p.update(5)
    assert "asked for" in fake.getvalue()


def test_status_line_shows_phase_and_elapsed_time(monkeypatch):
    import time
    from spikemem.progress import status
    fake = io.StringIO()
    monkeypatch.setattr(sys, "stderr", fake)
    with status("compiling the kernel", enabled=True, delay=0.2):
        time.sleep(1.2)
    assert "compiling the kernel 00:01" in fake.getvalue()
    with status("cached", enabled=True, delay=0.5):
        pass                                            # quicker than the delay: nothing drawn
    assert "cached" not in fake.getvalue()
    with status("off", enabled=False, delay=0.0):
        time.sleep(0.6)
    assert "off" not in fake.getvalue()


def test_simulation_progress_option_reaches_the_run(monkeypatch):
    from spikemem.backends import simulation
    from spikemem.connectors import OneToOne
    from spikemem.network import Network
    from spikemem.neurons import IF_curr_exp
    net = Network()
    net.spike_source("s", 2, [[1e-3], [2e-3]])
    net.population("a", 2, IF_curr_exp())
    net.connect("s", "a", OneToOne(), weight=0.1e-9)
    fake = io.StringIO()
    monkeypatch.setattr(sys, "stderr", fake)
    sim = simulation(net, "numba", progress=True)
    sim.run(0.01)
    assert "100/100" in fake.getvalue()
    fake.truncate(0)
    sim = simulation(net, "numba", progress=False)
    sim.run(0.01)
    assert fake.getvalue().strip("\0") == ""


def test_ca3_experiment_shows_one_bar_over_its_operations(monkeypatch):
    from spikemem.models.ca3_cam.experiments import run_script
    fake = io.StringIO()
    monkeypatch.setattr(sys, "stderr", fake)
    monkeypatch.setenv("SPIKEMEM_PROGRESS", "1")
    run_script([("learn", (0, {1})), ("recall_by_cue", 0)], 2, 3)
    text = fake.getvalue()
    assert "CA3 memory on numba" in text and "2/2" in text


def test_emulation_shows_both_runs_steps(monkeypatch):
    from spikemem.models.cuba.network import cuba_curr_exp
    from spikemem.targets import TARGETS
    fake = io.StringIO()
    monkeypatch.setattr(sys, "stderr", fake)
    monkeypatch.setenv("SPIKEMEM_PROGRESS", "1")
    TARGETS.get("spinnaker").emulate(cuba_curr_exp(n=50), 0.01)
    text = fake.getvalue()
    assert "numba: 100%" in text and "spinnaker: 100%" in text and "100/100" in text


def test_mapping_builds_under_a_status_line(monkeypatch):
    import contextlib
    from brian2 import ms
    from spikemem import progress as progress_module
    from spikemem.models.cuba.network import cuba_curr_exp
    from spikemem.targets import TARGETS
    phases = []

    @contextlib.contextmanager
    def recording(desc, enabled=None, delay=0.5):
        phases.append(desc)
        yield
    monkeypatch.setattr(progress_module, "status", recording)
    TARGETS.get("loihi").map(cuba_curr_exp(n=100, tau_syn_I=5 * ms))
    assert phases == ["building the network"]
