"""The fork server's loop: fork one child per unit, report its pid, then its exit code.

The server runs in a process of its own, made one of two ways (see
:class:`repro.study.executor.ForkServer`):

- a fresh interpreter, ``python -m repro.forkserver``, which imports :data:`PRELOAD` first;
- a fork of a ``reproduce`` process itself, which has imported the same code already, so
  the server is ready in milliseconds instead of the seconds of a second torch import.

Either way a child runs ``run(argv)`` (the command line's ``main``), as a fresh process
would, with its stdout and stderr sent to two files.

Protocol, one JSON object per line. Requests on the server's stdin (fd 0):
``{"id": 3, "argv": [...], "out": path, "err": path}``. Replies on its stdout (fd 1):
``{"id": 3, "pid": 1234}`` when the child is forked and ``{"id": 3, "code": 0,
"cpu": 12.5}`` when it has exited (a negative code: killed by that signal; ``cpu``: the
user and system seconds it used). The server exits at the end of its stdin; every child
and the server itself get SIGTERM when their parent dies (even by SIGKILL), so nothing
outlives the reproduce.

The server runs no numerical code itself, so its children inherit no thread pools.
"""

from __future__ import annotations

import importlib
import json
import os
import select
import signal
import sys
import traceback
from collections.abc import Callable

# What the units run besides the command line itself; imported before the server serves
# (the command line imports each command's code only when it runs).
PRELOAD = (
    "repro.learn.train",
    "repro.study.evaluate",
    "repro.study.evaluate_generalization",
    "repro.study.figures",
)

Run = Callable[[list[str]], int]  # the command line's main: argv -> exit code


def die_with_parent(parent: int | None = None) -> bool:
    """Ask Linux to send this process SIGTERM when its parent dies (even by SIGKILL).

    With ``parent`` (the pid that forked this process): whether that parent is still this
    process's parent now that the request is in place (if it died just before, no signal
    will come, and the caller must exit itself).
    """
    try:
        import ctypes  # deferred: only the processes an executor starts need it

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: children may outlive a killed parent; their writes stay atomic
    return parent is None or os.getppid() == parent


def _child(run: Run, argv: list[str], out: str, err: str, server: int) -> int:
    """In the forked child: redirect stdout/stderr and run the command; its exit code."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # the server ignores it
    if not die_with_parent(server):  # the server died before that took effect: so do we
        os._exit(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # not the server's request pipe
    os.close(devnull)
    for fd, path in ((1, out), (2, err)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)
    try:
        code = run(argv)
    except SystemExit as e:  # argparse's --help and usage errors
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # a bug: its traceback, as a fresh interpreter would show it
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    return code or 0


def _reply(obj: dict) -> None:
    os.write(1, (json.dumps(obj) + "\n").encode())  # one write: never mixed with a buffer


def _fork(run: Run, request: dict) -> int:
    """Fork one child for ``request``; in the parent, the child's pid."""
    server = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = _child(run, request["argv"], request["out"], request["err"], server)
        finally:
            os._exit(code)
    return pid


def _reap(units: dict[int, int]) -> None:
    """Report every child that has exited, with the CPU seconds it used; ``units`` maps
    pid -> request id."""
    while units:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        cpu = round(usage.ru_utime + usage.ru_stime, 3)
        _reply({"id": units.pop(pid), "code": os.waitstatus_to_exitcode(status), "cpu": cpu})


def serve(run: Run) -> None:
    """Preload, then fork a child per request line on fd 0 until it ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is for the units and the parent
    die_with_parent()
    for name in PRELOAD:
        importlib.import_module(name)
    units: dict[int, int] = {}
    pending = b""
    while True:
        ready, _, _ = select.select([0], [], [], 0.02)
        if ready:
            data = os.read(0, 1 << 16)
            if not data:
                break
            *lines, pending = (pending + data).split(b"\n")
            for line in lines:
                request = json.loads(line)
                pid = _fork(run, request)
                units[pid] = request["id"]
                _reply({"id": request["id"], "pid": pid})
        _reap(units)
