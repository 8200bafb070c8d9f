#!/usr/bin/env python3
"""Echoscope soak: one headless server, every kind of load at once, for a bounded time.

Runs against a single `echoscope --headless` process:
  * `echoscope bench` in pingpong, stream and oneshot modes, back to back, each run
    verifying every echoed byte (any mismatch, short echo or error fails the soak);
  * `echoscope bench --mode hold` with many idle connections, repeatedly;
  * RST storms: batches of clients that send half a message and abort (SO_LINGER 0);
  * slowloris: connections trickling one byte a second;
  * churn: connect-and-close cycles;
  * framing abuse is covered by the test suite; here the server runs in stream mode.
Every 10 s it samples the server's open descriptors and RSS. At the end it checks that
the server is still alive, that every bench run succeeded, and that descriptors are back
to their baseline and memory did not keep growing.

Usage: python3 tests/soak/soak.py --binary build/app/echoscope [--seconds 600]
Exit status 0 when the soak passed, 1 otherwise.
"""
import argparse
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Soak:
    def __init__(self, binary, seconds):
        self.binary = binary
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.failures = []
        self.counts = {"bench runs": 0, "rst clients": 0, "churn cycles": 0, "slowloris bytes": 0}
        self.lock = threading.Lock()

    def fail(self, what):
        with self.lock:
            self.failures.append(what)
        print(f"FAIL: {what}", flush=True)

    def count(self, key, n=1):
        with self.lock:
            self.counts[key] += n

    def running(self):
        return time.monotonic() < self.deadline

    def start_server(self):
        self.server = subprocess.Popen(
            [self.binary, "--headless", "--port", "0", "--threads", "2",
             "--max-clients", "5000", "--log-file", "/dev/null"],
            stdout=subprocess.PIPE, text=True)
        line = self.server.stdout.readline()
        if not line.startswith("listening on "):
            raise SystemExit(f"server did not start: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])
        print(f"server pid {self.server.pid} on port {self.port}", flush=True)

    def bench_loop(self, mode, extra):
        while self.running():
            duration = max(1, min(10, int(self.deadline - time.monotonic())))
            run = subprocess.run(
                [self.binary, "bench", "--port", str(self.port), "--mode", mode,
                 "--duration", str(duration), "--quiet", "--json", "--timeout", "20"] + extra,
                capture_output=True, text=True, timeout=duration + 60)
            self.count("bench runs")
            if run.returncode != 0:
                self.fail(f"bench {mode} {' '.join(extra)}: {run.stdout.strip()} {run.stderr.strip()}")

    def rst_loop(self):
        while self.running():
            sockets = []
            for _ in range(50):
                try:
                    s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                    s.sendall(os.urandom(random.randint(1, 4000)))
                    sockets.append(s)
                except OSError as error:
                    self.fail(f"rst storm connect: {error}")
            for s in sockets:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
            self.count("rst clients", len(sockets))
            time.sleep(0.2)

    def slowloris_loop(self):
        sockets = []
        for _ in range(200):
            try:
                sockets.append(socket.create_connection(("127.0.0.1", self.port), timeout=5))
            except OSError as error:
                self.fail(f"slowloris connect: {error}")
        while self.running():
            for s in sockets:
                try:
                    s.sendall(b"x")
                    s.setblocking(False)
                    try:
                        s.recv(4096)
                    except BlockingIOError:
                        pass
                    s.setblocking(True)
                except OSError as error:
                    self.fail(f"slowloris send: {error}")
                    return
            self.count("slowloris bytes", len(sockets))
            time.sleep(1)
        for s in sockets:
            s.close()

    def churn_loop(self):
        while self.running():
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                s.sendall(b"ping\n")
                got = b""
                while len(got) < 5:
                    chunk = s.recv(16)
                    if not chunk:
                        break
                    got += chunk
                if got != b"ping\n":
                    self.fail(f"churn echo {got!r}")
                s.close()
                self.count("churn cycles")
            except OSError as error:
                self.fail(f"churn: {error}")
                time.sleep(0.1)

    def run(self):
        self.start_server()
        pid = self.server.pid
        time.sleep(0.5)
        baseline_fds = fd_count(pid)
        start_rss = rss_kib(pid)
        threads = [
            threading.Thread(target=self.bench_loop, args=("pingpong", ["--connections", "50", "--size", "1K"])),
            threading.Thread(target=self.bench_loop, args=("stream", ["--connections", "4", "--size", "64K"])),
            threading.Thread(target=self.bench_loop, args=("oneshot", ["--connections", "4", "--size", "8K"])),
            threading.Thread(target=self.bench_loop, args=("hold", ["--connections", "1000"])),
            threading.Thread(target=self.rst_loop),
            threading.Thread(target=self.slowloris_loop),
            threading.Thread(target=self.churn_loop),
        ]
        for thread in threads:
            thread.start()
        samples = []
        started = time.monotonic()
        while self.running():
            time.sleep(min(10, max(0.1, self.deadline - time.monotonic())))
            if self.server.poll() is not None:
                self.fail(f"the server exited with {self.server.returncode}")
                break
            samples.append((time.monotonic() - started, fd_count(pid), rss_kib(pid), cpu_seconds(pid)))
            t, fds, rss, cpu = samples[-1]
            print(f"[{t:5.0f} s] fds {fds:5d}  rss {rss / 1024:7.1f} MiB  cpu {cpu:7.1f} s  {self.counts}",
                  flush=True)
        for thread in threads:
            thread.join(timeout=120)
        # Everything closed: the server's descriptors go back to the baseline.
        deadline = time.monotonic() + 10
        while fd_count(pid) > baseline_fds and time.monotonic() < deadline:
            time.sleep(0.2)
        end_fds = fd_count(pid)
        end_rss = rss_kib(pid)
        if self.server.poll() is not None:
            self.fail("the server is not running at the end")
        if end_fds != baseline_fds:
            self.fail(f"descriptors: {end_fds} at the end, {baseline_fds} at the start")
        # Memory: after the first third, RSS may move with load but must not keep growing.
        later = [rss for (t, _, rss, _) in samples if t >= self.seconds / 3]
        if len(later) >= 2 and later[-1] > later[0] * 1.25 + 8 * 1024:
            self.fail(f"RSS grew from {later[0] / 1024:.1f} MiB to {later[-1] / 1024:.1f} MiB after warm-up")
        self.server.terminate()
        self.server.wait(timeout=30)
        print(f"\nsoak {self.seconds} s: {self.counts}")
        print(f"descriptors {baseline_fds} -> {end_fds}; RSS {start_rss / 1024:.1f} MiB at start, "
              f"peak {max(s[2] for s in samples) / 1024 if samples else 0:.1f} MiB, "
              f"{end_rss / 1024:.1f} MiB at the end; server CPU {samples[-1][3] if samples else 0:.1f} s")
        print("PASSED" if not self.failures else f"FAILED: {len(self.failures)} failures")
        return 0 if not self.failures else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default="build/app/echoscope")
    parser.add_argument("--seconds", type=int, default=600)
    args = parser.parse_args()
    sys.exit(Soak(args.binary, args.seconds).run())


if __name__ == "__main__":
    main()
