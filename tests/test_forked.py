"The tests' forked commands (tests/forked.py) end as the same command in a fresh interpreter does."
import os, signal, subprocess, sys, time
import pytest
import forked

CODE = """
import os, signal, sys, warnings
print("argv", sys.argv[1:], "cwd", os.getcwd(), "env", sorted(k for k in os.environ if k.startswith("FORKED_")))
print("stdin", repr(sys.stdin.read()))
warnings.warn("shown", UserWarning)
warnings.warn("hidden", DeprecationWarning, stacklevel=2)
print("to stderr", file=sys.stderr)
what = sys.argv[1]
if what == "exit3": sys.exit(3)
if what == "message": sys.exit("stopped: a message")
if what == "raise": raise ValueError("a bad value")
if what == "kill": os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("what", ["ok", "exit3", "message", "raise", "kill"])
def test_forked_command_ends_as_a_fresh_interpreter_does(tmp_path, monkeypatch, what):
    monkeypatch.setenv("FORKED_PARENT_ONLY", "1")                # not in `env`: the child must not see it
    monkeypatch.setattr(forked, "_forkable", lambda env: True)  # forked even where Ray was imported by an earlier test
    env = {"PATH": os.environ["PATH"], "FORKED_A": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
    argv = [sys.executable, "-c", CODE, what, "x y"]
    fresh = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    fork = forked.start(argv, env=env, cwd=tmp_path)
    assert isinstance(fork, forked.Forked)                                             # it did fork
    fork.wait(60)
    assert (fork.returncode, fork.stdout) == (fresh.returncode, fresh.stdout), (fork, fresh)
    assert fork.returncode == {"ok": 0, "exit3": 3, "message": 1, "raise": 1, "kill": -signal.SIGKILL}[what]
    if what != "kill":                           # killed: its buffered output is lost, in both
        assert f"cwd {tmp_path}" in fork.stdout and "env ['FORKED_A']" in fork.stdout and "stdin ''" in fork.stdout
    for err in (fork.stderr, fresh.stderr):      # the lines, not the tracebacks' frames (the fork runs the code through exec)
        assert "UserWarning: shown" in err and "hidden" not in err and "to stderr" in err
        assert ("stopped: a message" in err) == (what == "message") and ("ValueError: a bad value" in err) == (what == "raise")


def test_script_sees_its_folder_first_and_a_hang_times_out(tmp_path):
    (tmp_path / "helper.py").write_text("WHERE = 'beside the script'\n")
    (tmp_path / "s.py").write_text("import sys, time, helper\nprint(helper.WHERE, sys.argv[1:])\nif sys.argv[1:] == ['hang']: time.sleep(60)\n")
    r = forked.run([sys.executable, tmp_path / "s.py", "a"])
    assert (r.returncode, r.stdout) == (0, "beside the script ['a']\n"), r
    t0 = time.time()
    with pytest.raises(subprocess.TimeoutExpired): forked.run([sys.executable, tmp_path / "s.py", "hang"], timeout=1)
    assert time.time() - t0 < 30


def test_unsafe_to_fork_runs_a_fresh_interpreter(tmp_path):
    "More than one torch thread asked for (OpenMP's pool does not survive a fork), or an argv that is no Python command."
    p = forked.start([sys.executable, "-c", "print(1)"], env={**os.environ, "OMP_NUM_THREADS": "2"})
    assert isinstance(p, subprocess.Popen) and p.communicate()[0] == "1\n"
    assert forked.run(["echo", "hi"]).stdout == "hi\n"
