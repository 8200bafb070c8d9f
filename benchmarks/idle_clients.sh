#!/bin/bash
# The cost of idle clients: N connections held idle by `echoscope bench --mode hold`,
# against the C epoll reference (`bench_echo --serve-epoll`: the practical minimum), the
# headless server and the dashboard (offscreen, or under Xvfb with QPA=xcb and DISPLAY set),
# in the same run, ROUNDS times in turn. Prints each server process's CPU time (utime + stime
# from /proc/PID/stat) over a quiet 5 s window, and its RSS, one line per server and round,
# then the medians.
#
#   benchmarks/idle_clients.sh [BUILD_DIR] [N] [ROUNDS]     (defaults: build, 10000, 1)
#
# "idle open" counts the server's descriptors beyond those it had before the holder started
# (/proc/PID/fd), at the time the script stopped waiting for them (N, or after 120 s fewer).
# Needs N + 200 open files per process (the script raises its soft limit; the hard one
# must allow it). Linux only. Needs bench_echo built (cmake --build build --target bench_echo).
set -eu
BUILD=${1:-build}
N=${2:-10000}
ROUNDS=${3:-1}
BIN=$BUILD/app/echoscope
EPOLL=$BUILD/benchmarks/bench_echo
for program in "$BIN" "$EPOLL"; do
    [ -x "$program" ] || { echo "idle_clients.sh: $program is not built" >&2; exit 2; }
done
ulimit -n $((N + 300))
HZ=$(getconf CLK_TCK)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
freeport() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$1/status"; }

# measure LABEL PROGRAM ARGUMENTS...: PORT in the arguments is replaced by a free port; a
# server started with PORTFILE in its arguments writes the port it chose there instead.
measure() {
    local label=$1; shift
    local port; port=$(freeport)
    local portfile="$WORK/port" args=() arg
    rm -f "$portfile"
    for arg in "$@"; do
        case $arg in
        PORT) args+=("$port") ;;
        PORTFILE) args+=("$portfile") ;;
        *) args+=("$arg") ;;
        esac
    done
    "${args[@]}" >/dev/null 2>&1 &
    local server=$!
    for _ in $(seq 100); do
        [ -s "$portfile" ] && port=$(cat "$portfile")
        ss -ltn | grep -q ":$port " && break
        sleep 0.1
    done
    local baseline; baseline=$(ls "/proc/$server/fd" | wc -l)
    "$BIN" bench --mode hold --connections "$N" --duration 120 --port "$port" --quiet \
        >/dev/null 2>&1 &
    local holder=$!
    local open=0
    for _ in $(seq 240); do
        open=$(($(ls "/proc/$server/fd" | wc -l) - baseline))
        [ "$open" -ge "$N" ] && break
        sleep 0.5
    done
    sleep 3 # the arrivals' own work (events, rows) ends
    local before; before=$(cpu "$server")
    sleep 5
    local after; after=$(cpu "$server")
    local seconds; seconds=$(echo "($after - $before) / $HZ" | bc -l)
    local mib; mib=$(rss "$server")
    printf "%-10s %6d idle open  CPU over 5 s: %5.2f s  RSS %4d MiB\n" "$label" "$open" \
        "$seconds" "$mib"
    printf "%s %.2f %d\n" "$label" "$seconds" "$mib" >>"$WORK/figures"
    kill "$holder" "$server" 2>/dev/null || true
    wait "$holder" "$server" 2>/dev/null || true
}

for round in $(seq "$ROUNDS"); do
    [ "$ROUNDS" -gt 1 ] && echo "round $round of $ROUNDS"
    measure epoll "$EPOLL" --serve-epoll PORTFILE
    measure headless "$BIN" --headless --port PORT --max-clients $((N + 100))
    QT_QPA_PLATFORM=${QPA:-offscreen} measure dashboard "$BIN" --start --port PORT \
        --max-clients $((N + 100))
done

if [ "$ROUNDS" -gt 1 ]; then
    echo "medians of $ROUNDS rounds ($N idle clients; each round's figures in brackets):"
    for label in epoll headless dashboard; do
        awk -v label="$label" '$1 == label { cpu[n + 0] = $2; mib[n + 0] = $3; n++ }
            function median(a, n,    i, j, t) {
                for (i = 0; i < n; i++) for (j = i + 1; j < n; j++)
                    if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                return n % 2 ? a[int(n / 2)] : (a[n / 2 - 1] + a[n / 2]) / 2
            }
            END {
                cpus = ""; mibs = ""
                for (i = 0; i < n; i++) { cpus = cpus (i ? ", " : "") cpu[i]; mibs = mibs (i ? ", " : "") mib[i] }
                printf "%-10s CPU over 5 s: %5.2f s (%s)  RSS %4d MiB (%s)\n", label, median(cpu, n), cpus, median(mib, n), mibs
            }' "$WORK/figures"
    done
fi
