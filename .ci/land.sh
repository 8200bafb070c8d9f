#!/usr/bin/env bash
# Lands a branch on main the way this team does (docs/handbook/testing.md, "Landing a change"):
#   .ci/land.sh WORKTREE BRANCH [MAIN_CHECKOUT]
# In WORKTREE (a git worktree with BRANCH checked out and a configured build/): rebase on
# main, stop on any merge-conflict marker left in a file, build, run the whole ctest, and
# fast-forward main to BRANCH, all under a lock (flock on .land.lock beside MAIN_CHECKOUT, so
# that two engineers landing at once take turns).
# Every step is chained on its exit status, never on filtered output: a landing once
# slipped through because a build's output went through grep, which lost its status.
set -uo pipefail
worktree=${1:?usage: land.sh WORKTREE BRANCH [MAIN_CHECKOUT]}
branch=${2:?usage: land.sh WORKTREE BRANCH [MAIN_CHECKOUT]}
main_checkout=${3:-$(git -C "$worktree" worktree list --porcelain | sed -n '1s/^worktree //p')}
logs=${TMPDIR:-/tmp}/land-$branch
mkdir -p "$logs"
cd "$worktree" || exit 1
[ "$(git rev-parse --abbrev-ref HEAD)" = "$branch" ] || { echo "land.sh: $worktree is not on $branch" >&2; exit 1; }
[ -z "$(git status --porcelain --untracked-files=no)" ] || { echo "land.sh: uncommitted changes in $worktree" >&2; exit 1; }
# The whole landing runs under the lock: while one branch is rebased, built and tested, main
# cannot move under it, so one run is enough. (The first version held the lock only for the
# merge; with five engineers on 2 cores a full run took longer than main stood still, and
# branches retried for an hour.)
lock=$main_checkout/../.land.lock
exec 9> "$lock"
if ! flock -n 9; then
    echo "land.sh: another landing holds $lock; waiting for it"
    flock 9
fi
if ! git rebase main > "$logs/rebase.log" 2>&1; then
    echo "land.sh: rebase on main stopped on a conflict (see $logs/rebase.log)" >&2
    exit 1
fi
if git grep -nE '^(<<<<<<<|>>>>>>>)( |$)' -- . > "$logs/markers.log"; then
    echo "land.sh: conflict markers in committed files:" >&2
    cat "$logs/markers.log" >&2
    exit 1
fi
if ! cmake --build build --parallel 2 > "$logs/build.log" 2>&1; then
    echo "land.sh: the build failed (see $logs/build.log):" >&2
    tail -n 20 "$logs/build.log" >&2
    exit 1
fi
if ! (cd build && ctest --parallel 2 --output-on-failure --output-junit "$logs/ctest-junit.xml" \
    --test-output-size-passed 50000000 > "$logs/ctest.log" 2>&1); then
    echo "land.sh: tests failed (see $logs/ctest.log):" >&2
    grep -E '\*\*\*|Failed|FAIL!' "$logs/ctest.log" | head -n 20 >&2
    exit 1
fi
# As CI: a skip not in tests/expected-skips.txt fails the landing too.
if ! tests/check-skips.sh "$logs/ctest-junit.xml" default > "$logs/skips.log" 2>&1; then
    echo "land.sh: unexpected skips (see $logs/skips.log):" >&2
    grep 'UNEXPECTED' "$logs/skips.log" | head -n 20 >&2
    exit 1
fi
if ! git -C "$main_checkout" merge --ff-only "$branch" > "$logs/merge.log" 2>&1; then
    echo "land.sh: main could not be fast-forwarded (see $logs/merge.log)" >&2
    exit 1
fi
echo "land.sh: main is now $(git -C "$main_checkout" rev-parse --short HEAD)"
