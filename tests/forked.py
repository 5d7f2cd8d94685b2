"""Python commands of the tests in a forked copy of the test process: `run` and `start` take the argv a test would give
`subprocess` (the `emodarts` console script, or `python SCRIPT.py ...`, `python -c CODE`, `python -m MODULE`) and run it
in a child forked from this process, which has torch, emodarts_nb and torch._dynamo loaded already: a separate process
(its own memory, exit status, signals; a test may SIGKILL it) without the 3-4 s a fresh interpreter spends importing
them before the first line of the command. The child's environment is exactly `env` (as subprocess's `env=` makes it),
its warnings filters Python's defaults, its stdin empty.

A real subprocess runs instead where a fork is not safe or not the same: off Linux, after this process imported Ray
(its threads do not survive a fork), where the command asks for more than one torch thread (OpenMP's pool does not
survive one), and where the argv is none of the above. Tests that are about the interpreter starting (the console
script's import, its exit status on bad input, a closed pipe) keep calling `subprocess` themselves."""
import io, os, runpy, signal, subprocess, sys, tempfile, time, traceback, warnings
from pathlib import Path

# Python's default warnings filters (a release build, no -W, no PYTHONWARNINGS), as a fresh interpreter starts with
DEFAULT_FILTERS = [("default", DeprecationWarning, "__main__"), ("ignore", DeprecationWarning, None),
                   ("ignore", PendingDeprecationWarning, None), ("ignore", ImportWarning, None), ("ignore", ResourceWarning, None)]


def emodarts_script() -> str:
    "The installed `emodarts` console script of this environment."
    return str(Path(sys.executable).parent / "emodarts")


def _target(argv):
    "What the child calls for `argv`, with the `sys.argv` it sees; None where this is not a Python command we know."
    argv = [str(a) for a in argv]
    if Path(argv[0]).name == "emodarts" and argv[0] in (emodarts_script(), "emodarts"):
        def cli():
            from emodarts_nb.cli import main
            return main(argv[1:])
        return cli, ["emodarts", *argv[1:]]
    if argv[0] != sys.executable or len(argv) < 2: return None
    if argv[1] == "-c":
        return (lambda: exec(compile(argv[2], "<string>", "exec"), {"__name__": "__main__"})), ["-c", *argv[3:]]
    if argv[1] == "-m":
        return (lambda: runpy.run_module(argv[2], run_name="__main__", alter_sys=True)), [argv[2], *argv[3:]]
    if argv[1].endswith(".py") and not argv[1].startswith("-"):
        def script():
            sys.path.insert(0, str(Path(argv[1]).resolve().parent))    # as `python SCRIPT` puts the script's folder first
            runpy.run_path(argv[1], run_name="__main__")
        return script, argv[1:]
    return None


def _preload():
    "Load, once in this process, what a command imports (every emodarts_nb module) or builds on first use (torch._dynamo,"
    " which torch.optim imports at its first step): each child then starts with them, as the docs build's children do."
    global _preload
    import importlib, pkgutil, emodarts_nb, torch._dynamo  # noqa: F401
    for m in pkgutil.iter_modules(emodarts_nb.__path__): importlib.import_module(f"emodarts_nb.{m.name}")
    _preload = lambda: None


def _forkable(env) -> bool:
    # Linux only: macOS's system libraries are not safe to use in a forked child (why Python's multiprocessing spawns there)
    return sys.platform == "linux" and "ray" not in sys.modules and int(env.get("OMP_NUM_THREADS") or 1) == 1


def _child(fn, sys_argv, env, cwd, out, err):
    "In the forked child: output to the files `out`, `err`; the command; exit with its status. Never returns."
    code = 1
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0); os.dup2(out, 1); os.dup2(err, 2)
        sys.stdin = open(0, closefd=False)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8")
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace",
                                      line_buffering=True)
        signal.signal(signal.SIGINT, signal.default_int_handler); signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.environ.clear(); os.environ.update(env)
        if cwd is not None: os.chdir(cwd)
        warnings.resetwarnings()
        for action, cat, module in reversed(DEFAULT_FILTERS): warnings.filterwarnings(action, category=cat, module=module or "")
        warnings.showwarning = warnings._showwarning_orig
        warnings._showwarnmsg_impl = lambda msg: sys.stderr.write(warnings._formatwarnmsg(msg))
        sys.argv = sys_argv
        try:
            r = fn()
            code = r if isinstance(r, int) and not isinstance(r, bool) else 0
        except SystemExit as e:
            if e.code is None: code = 0
            elif isinstance(e.code, int): code = e.code
            else: print(e.code, file=sys.stderr); code = 1
        except BaseException:
            traceback.print_exc(); code = 1
    finally:
        for f in (sys.stdout, sys.stderr):
            try: f.flush()
            except Exception: pass
        os._exit(code & 0xFF)


class Forked:
    "A command running in a forked child: `pid`, `poll()`, `wait(timeout)`, `returncode`, `stdout`/`stderr` (text, after it ends)."
    def __init__(self, argv, env: dict, cwd=None):
        fn, sys_argv = _target(argv)
        self.args, self._files = list(argv), [tempfile.TemporaryFile() for _ in range(2)]
        for f in (sys.stdout, sys.stderr): f.flush()
        self.pid, self.returncode, self.stdout, self.stderr = os.fork(), None, None, None
        if self.pid == 0: _child(fn, sys_argv, env, cwd, *(f.fileno() for f in self._files))

    def _ended(self, status):
        self.returncode = os.waitstatus_to_exitcode(status)
        self.stdout, self.stderr = (self._read(f) for f in self._files)

    @staticmethod
    def _read(f):
        f.seek(0); text = f.read().decode("utf-8", "backslashreplace"); f.close()
        return text

    def poll(self):
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid: self._ended(status)
        return self.returncode

    def wait(self, timeout=None):
        t0 = time.time()
        while self.poll() is None:
            if timeout is not None and time.time() - t0 > timeout:
                self.kill(); self.wait()
                raise subprocess.TimeoutExpired(self.args, timeout)
            time.sleep(0.005)
        return self.returncode

    def kill(self):
        if self.returncode is None: os.kill(self.pid, signal.SIGKILL)


def start(argv, env=None, cwd=None):
    "`argv` started in a forked child (a real subprocess where a fork is not safe; see above): a Popen-alike."
    env = dict(os.environ if env is None else env)
    if _target(argv) is None or not _forkable(env):
        return subprocess.Popen([str(a) for a in argv], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True)
    _preload()
    return Forked(argv, env=env, cwd=cwd)


def run(argv, env=None, cwd=None, timeout=600) -> subprocess.CompletedProcess:
    "`subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)`, in a forked child where safe."
    p = start(argv, env=env, cwd=cwd)
    if isinstance(p, subprocess.Popen):
        try: out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired: p.kill(); p.communicate(); raise
        return subprocess.CompletedProcess(p.args, p.returncode, out, err)
    p.wait(timeout)
    return subprocess.CompletedProcess(p.args, p.returncode, p.stdout, p.stderr)
