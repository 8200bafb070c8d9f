#!/bin/bash
# The cost of idle clients: N connections held idle by `echoscope bench --mode hold`,
# against the dashboard (offscreen, or under Xvfb with QPA=xcb and DISPLAY set) and the
# headless server in the same run. Prints each server process's CPU time (utime + stime
# from /proc/PID/stat) over a quiet 5 s window, and its RSS.
#
#   benchmarks/idle_clients.sh [BUILD_DIR] [N]     (defaults: build, 10000)
#
# Needs N + 200 open files per process (the script raises its soft limit; the hard one
# must allow it). Linux only.
set -eu
BUILD=${1:-build}
N=${2:-10000}
BIN=$BUILD/app/echoscope
ulimit -n $((N + 300))
HZ=$(getconf CLK_TCK)
freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$1/status"; }

measure() { # label, then the server's arguments
    local label=$1; shift
    local port; port=$(freeport)
    "$BIN" "$@" --port "$port" --max-clients $((N + 100)) >/dev/null 2>&1 &
    local server=$!
    for _ in $(seq 100); do ss -ltn | grep -q ":$port " && break; sleep 0.1; done
    "$BIN" bench --mode hold --connections "$N" --duration 120 --port "$port" --quiet \
        >/dev/null 2>&1 &
    local holder=$!
    local fds=0
    for _ in $(seq 240); do
        fds=$(ls "/proc/$server/fd" | wc -l)
        [ "$fds" -ge "$N" ] && break
        sleep 0.5
    done
    sleep 3 # the arrivals' own work (events, rows) ends
    local before; before=$(cpu "$server")
    sleep 5
    local after; after=$(cpu "$server")
    printf "%-10s %6d descriptors  CPU over 5 s: %5.2f s  RSS %4d MiB\n" "$label" \
        "$fds" "$(echo "($after - $before) / $HZ" | bc -l)" "$(rss "$server")"
    kill "$holder" "$server" 2>/dev/null || true
    wait "$holder" "$server" 2>/dev/null || true
}

measure headless --headless
QT_QPA_PLATFORM=${QPA:-offscreen} measure dashboard --start
