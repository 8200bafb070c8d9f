#!/usr/bin/env python3
"""WebSocket against TCP on the same Echoscope server, in the same run.

Starts one `echoscope --headless --port 0 --ws-port 0` (or uses a server already running,
--tcp-port/--ws-port) and runs `echoscope bench` against its TCP port and its WebSocket port
in interleaved rounds: every workload, TCP then WebSocket (WebSocket first in every other
repeat), --repeats times. Prints a markdown table: the median figure of each, the median of
the per-repeat ratios WebSocket / TCP with their range, and the server's CPU per unit (from
/proc/PID/stat from the end of the warm-up to the end of the run, when this script started
the server). WebSocket figures are payload bytes
(frame headers and the upgrade are not counted). Every run verifies every echoed byte; a run
with errors is shown as such and kept out of the medians.

    python3 benchmarks/ws_vs_tcp.py --echoscope build/app/echoscope --repeats 3
"""

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import time

WORKLOADS = [
    # key, mode, connections, size, unit
    ("pingpong-64-1", "pingpong", 1, "64", "req/s"),
    ("pingpong-1k-10", "pingpong", 10, "1K", "req/s"),
    ("pingpong-1k-100", "pingpong", 100, "1K", "req/s"),
    ("pingpong-16k-10", "pingpong", 10, "16K", "req/s"),
    ("stream-64k-1", "stream", 1, "64K", "MB/s"),
    ("stream-64k-10", "stream", 10, "64K", "MB/s"),
    ("oneshot-1k-10", "oneshot", 10, "1K", "conn/s"),
]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def start_server(echoscope, extra, timeout=20):
    """Starts echoscope headless with a TCP and a WebSocket port 0; returns (process,
    tcp port, ws port) once both are listening (read from its event lines)."""
    command = [echoscope, "--headless", "--port", "0", "--ws-port", "0",
               "--log-file", "/dev/null"] + extra
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    tcp = ws = None
    deadline = time.monotonic() + timeout
    lines = []
    while (tcp is None or ws is None) and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        ports = re.findall(r":(\d+)\b", line)
        if not ports or "listening" not in line.lower():
            continue
        if re.search(r"websocket|ws://|wss://", line, re.IGNORECASE):
            ws = int(ports[-1])
        elif line.startswith("listening on "):
            tcp = int(ports[-1])
    if tcp is None or ws is None:
        process.kill()
        process.wait()
        sys.exit("the server did not report both ports:\n  " + " ".join(command) + "\n  " +
                 "\n  ".join(lines) + "\n  " + process.stderr.read())
    return process, tcp, ws


def bench(echoscope, port, protocol, mode, connections, size, seconds, warmup, server_pid):
    """One `echoscope bench` run; with server_pid, the server's CPU seconds from the end of
    the warm-up to the end of the run are added as server_cpu_s."""
    command = [echoscope, "bench", "--port", str(port), "--protocol", protocol, "--mode", mode,
               "--connections", str(connections), "--size", size, "--duration", str(seconds),
               "--warmup", str(warmup), "--timeout", "20", "--json", "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    cpu_before = None
    if server_pid:
        time.sleep(warmup)
        cpu_before = cpu_seconds(server_pid)
    try:
        stdout, stderr = process.communicate(timeout=seconds + warmup + 60)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    cpu_after = cpu_seconds(server_pid) if server_pid else None
    try:
        result = json.loads(stdout)
    except json.JSONDecodeError:
        result = {"errors": -1, "first_error": stderr.strip() or "no JSON"}
    result["command"] = " ".join(shlex.quote(part) for part in command)
    if server_pid:
        result["server_cpu_s"] = cpu_after - cpu_before
    return result


def figure(result, unit):
    if unit == "MB/s":
        return result["mb_per_s"]
    return result["round_trips_per_s"]


def units_done(result, unit):
    """What the server's CPU is divided by: requests, MB or connections."""
    if unit == "MB/s":
        return result["bytes_echoed"] / 1e6
    return result["round_trips"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--echoscope", default=os.path.join(here, "..", "build", "app",
                                                            "echoscope"))
    parser.add_argument("--server-args", default="",
                        help="more options for the server, e.g. \"--threads 1\"")
    parser.add_argument("--tcp-port", type=int, help="a server already running: its TCP port")
    parser.add_argument("--ws-port", type=int, help="... and its WebSocket port")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--only", default="", help="workloads whose key contains this")
    parser.add_argument("--json", help="also write every run's figures here")
    args = parser.parse_args()

    process = None
    if args.tcp_port and args.ws_port:
        tcp_port, ws_port = args.tcp_port, args.ws_port
    else:
        process, tcp_port, ws_port = start_server(args.echoscope,
                                                  shlex.split(args.server_args))
    print(f"server: TCP port {tcp_port}, WebSocket port {ws_port}"
          + (f", pid {process.pid}" if process else ""), file=sys.stderr)
    workloads = [w for w in WORKLOADS if args.only in w[0]]
    runs = {(w[0], p): [] for w in workloads for p in ("tcp", "ws")}
    try:
        for repeat in range(args.repeats):
            for key, mode, connections, size, unit in workloads:
                order = ("tcp", "ws") if repeat % 2 == 0 else ("ws", "tcp")
                for protocol in order:
                    port = tcp_port if protocol == "tcp" else ws_port
                    result = bench(args.echoscope, port, protocol, mode, connections, size,
                                   args.seconds, args.warmup, process.pid if process else None)
                    result["repeat"] = repeat
                    runs[(key, protocol)].append(result)
                    shown = (f"{figure(result, unit):,.0f} {unit}" if result.get("errors") == 0
                             else f"{result.get('errors')} errors: {result.get('first_error')}")
                    print(f"[{repeat + 1}/{args.repeats}] {key} {protocol}: {shown}",
                          file=sys.stderr)
    finally:
        if process:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    print("| workload | TCP | WebSocket | WebSocket / TCP (range) | server CPU per unit, "
          "TCP / WebSocket | WebSocket upgrade p50 |")
    print("|---|---|---|---|---|---|")
    for key, mode, connections, size, unit in workloads:
        tcp, ws = runs[(key, "tcp")], runs[(key, "ws")]
        clean = lambda results: [r for r in results if r.get("errors") == 0]
        tcp_ok, ws_ok = clean(tcp), clean(ws)
        ratios = [figure(w, unit) / figure(t, unit) for t, w in zip(tcp, ws)
                  if t.get("errors") == 0 and w.get("errors") == 0 and figure(t, unit) > 0]

        def cell(results, all_results):
            failed = len(all_results) - len(results)
            if not results:
                text = "failed"
            else:
                middle = statistics.median(figure(r, unit) for r in results)
                text = f"{middle:,.1f} MB/s" if unit == "MB/s" else f"{middle:,.0f} {unit}"
            return text + (f" (✗ {failed} runs with errors)" if failed else "")

        def cpu(results):
            per = [r["server_cpu_s"] / units_done(r, unit) for r in results
                   if "server_cpu_s" in r and units_done(r, unit) > 0]
            if not per:
                return "–"
            scale, name = ((1e6, "µs/req") if unit == "req/s" else
                           (1e6, "µs/conn") if unit == "conn/s" else (1e3, "ms/MB"))
            return f"{statistics.median(per) * scale:,.1f} {name}"

        ratio = (f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}–{max(ratios):.2f})"
                 if ratios else "–")
        # Upgrades in the measured window only: oneshot's (the others open theirs in the
        # warm-up).
        upgrade = [r["upgrade_p50_us"] for r in ws_ok if "upgrade_p50_us" in r]
        upgrade_text = f"{statistics.median(upgrade):,.0f} µs" if upgrade else "–"
        name = f"{mode} {size.replace('K', ' KiB')}{'' if 'K' in size else ' B'} × {connections}"
        print(f"| {name} | {cell(tcp_ok, tcp)} | {cell(ws_ok, ws)} | {ratio} | "
              f"{cpu(tcp_ok)} / {cpu(ws_ok)} | {upgrade_text} |")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({f"{k[0]} {k[1]}": v for k, v in runs.items()}, out, indent=1)
    failed = any(r.get("errors") != 0 for results in runs.values() for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
