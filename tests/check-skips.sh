#!/usr/bin/env bash
# Fails when a test skipped that CI expects to run. Reads the JUnit report of a ctest run
# (ctest --output-junit FILE), takes every Qt Test skip line from it ("SKIP   : tst_X::f(row)
# reason": a whole program that skipped in initTestCase, one function or one data row) and
# checks each against tests/expected-skips.txt for this TREE (default, portable, ...).
# Also fails when the report is missing or names no test at all.
# Usage: tests/check-skips.sh JUNIT.xml TREE
set -euo pipefail

junit=${1:?usage: check-skips.sh JUNIT.xml TREE}
tree=${2:?usage: check-skips.sh JUNIT.xml TREE}
expected=$(dirname "${BASH_SOURCE[0]}")/expected-skips.txt

[ -s "$junit" ] || { echo "check-skips: no JUnit report at $junit" >&2; exit 1; }
tests=$(grep -c '<testcase ' "$junit" || true)
[ "$tests" -gt 0 ] || { echo "check-skips: $junit names no test" >&2; exit 1; }

# The patterns for this tree: "TREE|all EXTENDED-REGEX", matched against the whole line
# after "SKIP   : ".
patterns=()
while IFS= read -r line; do
    case "$line" in '' | '#'*) continue ;; esac
    scope=${line%% *}
    pattern=${line#* }
    [ "$scope" = all ] || [ "$scope" = "$tree" ] || continue
    patterns+=("$pattern")
done <"$expected"

unexpected=0 seen=0
while IFS= read -r skip; do
    seen=$((seen + 1))
    match=0
    for pattern in "${patterns[@]}"; do
        if [[ $skip =~ ^($pattern) ]]; then
            match=1
            break
        fi
    done
    if [ "$match" = 1 ]; then
        echo "check-skips: expected: $skip"
    else
        echo "check-skips: UNEXPECTED SKIP: $skip" >&2
        unexpected=$((unexpected + 1))
    fi
done < <(sed -n 's/^.*SKIP   : //p' "$junit" | sed 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&apos;/'"'"'/g; s/&amp;/\&/g')

whole=$(grep -c 'status="notrun"' "$junit" || true)
echo "check-skips: $tests test programs, $whole skipped whole, $seen skip lines, $unexpected unexpected"
[ "$unexpected" -eq 0 ]
