"""Upper-casing TCP echo servers on 127.0.0.1, for the Deno side to load-test.

A Python load generator would be the bottleneck, so this script only serves;
the Deno benchmark drives the same client load against these servers and
against multiproc's. Two kinds:

  fork       the seed's process-per-connection server: accept, hand the
             socket to a forked multiprocessing.Process running talk(), close
             the parent's copy (listen backlog 128, children reaped with
             active_children());
  threading  socketserver.ThreadingTCPServer with a BaseRequestHandler
             (daemon_threads=True, request_queue_size=128).

Usage:
  tcp_echo.py serve --kind fork|threading
      Binds 127.0.0.1:0 and prints {"port": N} as one JSON line on stdout,
      then serves until stdin reaches EOF (the driver closes the pipe; stdin
      must therefore be a pipe the driver keeps open) or SIGTERM/SIGINT, and
      exits with code 0 after killing and reaping its children.
  tcp_echo.py --selftest [--kind K] [--quick]
      Starts each server kind as a subprocess, checks "hello" -> "HELLO" and
      both ways of stopping it, and prints one JSON line. This is also what
      runs when no mode is given, so `tcp_echo.py --quick` works like the
      other benchmark scripts (there is nothing to time on this side).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import selectors
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from typing import Callable

from _bench import emit, log

HOST = "127.0.0.1"
BACKLOG = 128
# Larger than the seed's recv(1024) so big messages are not split into many
# tiny writes; sendall() rather than send() so a short write cannot drop bytes.
BUFSIZE = 65536
# How often idle loops wake up to reap children and notice shutdown; it only
# bounds shutdown latency and zombie lifetime, never the request path.
TICK = 0.1
KINDS = ("fork", "threading")


def echo_upper(conn: socket.socket) -> None:
    while True:
        try:
            data = conn.recv(BUFSIZE)
            if not data:
                return
            conn.sendall(data.upper())
        except ConnectionError:  # client reset or went away mid-reply
            return


# --- stop conditions shared by both servers -----------------------------------

def serve_until_stopped(
    handlers: dict[socket.socket, Callable[[], None]],
    tick: Callable[[], None] = lambda: None,
) -> None:
    """Run a selector loop over `handlers` until stdin hits EOF or SIGTERM /
    SIGINT arrives. Signals only set a flag; set_wakeup_fd makes them wake
    the selector, so shutdown never happens halfway through an accept/fork."""
    stop = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    previous_wakeup = signal.set_wakeup_fd(wake_w.fileno())
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}

    # poll() rather than epoll: it also accepts stdin redirected from a file
    # or /dev/null (immediate EOF) instead of failing to register it.
    sel = selectors.PollSelector()
    sel.register(sys.stdin.fileno(), selectors.EVENT_READ, "stdin")
    sel.register(wake_r, selectors.EVENT_READ, "signal")
    for sock, handler in handlers.items():
        sel.register(sock, selectors.EVENT_READ, handler)
    try:
        while not stop:
            for key, _ in sel.select(TICK):
                if key.data == "stdin":
                    # The driver never writes; anything read is ignored
                    # until the pipe is closed.
                    stop = stop or os.read(key.fd, 4096) == b""
                elif key.data == "signal":
                    # One byte per signal; the handler has already set `stop`.
                    try:
                        wake_r.recv(4096)
                    except BlockingIOError:
                        pass
                elif not stop:
                    key.data()
            tick()
    finally:
        sel.close()
        signal.set_wakeup_fd(previous_wakeup)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        wake_r.close()
        wake_w.close()


# --- (a) the seed's process-per-connection server ------------------------------

_listener: socket.socket | None = None


def talk(conn: socket.socket) -> None:
    # A forked child inherits the server's signal handlers and wakeup fd; give
    # SIGTERM its default meaning so terminate() works, leave Ctrl-C to the
    # parent, and drop the listening socket so only the server holds the port.
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if _listener is not None:
        _listener.close()
    with conn:
        echo_upper(conn)


def serve_fork() -> None:
    global _listener
    ctx = mp.get_context("fork")
    listener = _listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, 0))
    listener.listen(BACKLOG)
    # Non-blocking so a client that resets between select() and accept()
    # cannot stall the loop; accepted sockets are blocking again (Python
    # resets them because the default timeout is None).
    listener.setblocking(False)
    announce(listener.getsockname()[1])

    def accept_ready() -> None:
        # Drain up to a backlog's worth per wake-up: bursts of connects are
        # the load pattern, and the cap keeps stdin/signals responsive.
        for _ in range(BACKLOG):
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                break
            # daemon=True is only a safety net: shutdown terminates them first.
            ctx.Process(target=talk, args=(conn,), daemon=True).start()
            conn.close()  # the child has its own copy; ours would hide EOF
        ctx.active_children()  # reaps finished children (no zombies)

    try:
        serve_until_stopped({listener: accept_ready}, tick=ctx.active_children)
    finally:
        listener.close()
        children = ctx.active_children()
        for p in children:
            p.terminate()
        for p in children:
            p.join(2)
            if p.is_alive():
                p.kill()
                p.join(2)
        log(f"tcp_echo fork: stopped, {len(children)} connection process(es) terminated")


# --- (b) socketserver.ThreadingTCPServer -----------------------------------------

class UpperHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        echo_upper(self.request)


class EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True  # open connections must not keep the process alive
    request_queue_size = BACKLOG  # socketserver's default listen(5) drops SYNs under load
    allow_reuse_address = True


def serve_threading() -> None:
    with EchoServer((HOST, 0), UpperHandler) as server:
        announce(server.server_address[1])
        # serve_forever runs in a thread because shutdown() must be called
        # from another thread, and the main thread is where signals land.
        loop = threading.Thread(target=server.serve_forever, args=(TICK,), daemon=True)
        loop.start()
        try:
            serve_until_stopped({})
        finally:
            server.shutdown()
            loop.join(5)
    log("tcp_echo threading: stopped")


def announce(port: int) -> None:
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()
    log(f"tcp_echo: serving on {HOST}:{port} (pid {os.getpid()})")


# --- self-test -----------------------------------------------------------------

def _read_line(stream, timeout: float) -> str:
    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)
    try:
        if not sel.select(timeout):
            raise TimeoutError("server did not print its port")
    finally:
        sel.close()
    return stream.readline()


def _round_trip(conn: socket.socket, message: bytes) -> bytes:
    conn.sendall(message)
    reply = b""
    while len(reply) < len(message):
        chunk = conn.recv(BUFSIZE)
        if not chunk:
            break
        reply += chunk
    return reply


def _closed_by_server(conn: socket.socket) -> bool:
    try:
        return conn.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def selftest_one(kind: str, stop: str) -> dict:
    server = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "serve", "--kind", kind],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        port = json.loads(_read_line(server.stdout, 10))["port"]
        with socket.create_connection((HOST, port), timeout=5) as conn:
            reply = _round_trip(conn, b"hello").decode()
        # Keep one connection open across the stop, so its handler (a child
        # process for "fork") is alive and must be killed for a clean exit.
        idle = socket.create_connection((HOST, port), timeout=5)
        with idle:
            if _round_trip(idle, b"x") != b"X":
                raise AssertionError("second connection did not echo")
            t0 = time.perf_counter()
            if stop == "eof":
                server.stdin.close()
            else:
                server.send_signal(signal.SIGTERM)
            exit_code = server.wait(10)
            # Coarse: Popen.wait(timeout) polls with growing sleeps. It is a
            # sanity figure for the driver's shutdown path, not a benchmark.
            stop_ms = (time.perf_counter() - t0) * 1e3
            idle_closed = _closed_by_server(idle)
        extra_stdout = server.stdout.read()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(5)
        for pipe in (server.stdin, server.stdout):
            pipe.close()
    check = {
        "reply": reply, "exit_code": exit_code, "open_connection_closed": idle_closed,
        "extra_stdout": extra_stdout, "stop_ms": round(stop_ms, 1),
    }
    expected = {"reply": "HELLO", "exit_code": 0, "open_connection_closed": True,
                "extra_stdout": ""}
    if {k: check[k] for k in expected} != expected:
        raise AssertionError(f"{kind} server, stop by {stop}: {check}")
    log(f"  {kind}, stop by {stop}: ok ({check['stop_ms']} ms to exit)")
    return check


def selftest(kinds: tuple[str, ...]) -> None:
    log("tcp_echo self-test:")
    checks = {f"{kind}, stop by {stop}": selftest_one(kind, stop)
              for kind in kinds for stop in ("eof", "sigterm")}
    # No timed results: the load is generated by the Deno side.
    emit("tcp_echo", [], selftest=checks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", choices=["serve"],
                        help="serve: run one server (otherwise: self-test)")
    parser.add_argument("--kind", choices=KINDS,
                        help="server kind (required for serve; self-test runs all by default)")
    parser.add_argument("--selftest", action="store_true", help="run the self-test (default)")
    parser.add_argument("--quick", action="store_true", help="accepted for uniformity; no effect")
    args = parser.parse_args()
    if args.mode == "serve":
        if args.kind is None or args.selftest:
            parser.error("serve needs --kind and cannot be combined with --selftest")
        (serve_fork if args.kind == "fork" else serve_threading)()
    else:
        selftest((args.kind,) if args.kind else KINDS)


if __name__ == "__main__":
    main()
