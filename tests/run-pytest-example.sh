#!/bin/sh
# The ctest pytest_example: docs/examples/test_echoscope_faults.py (the handbook's "Use it
# from your tests") against this build's echoscope, so the example in the docs keeps working.
# usage: run-pytest-example.sh ECHOSCOPE EXAMPLE [PYTHON...]
# Runs it with the first of the PYTHONs (then /usr/bin/python3) that has pytest; says
# "not run" (a skip for ctest) when none has.
echoscope=$1
example=$2
shift 2
for python in "$@" /usr/bin/python3; do
    if "$python" -c "import pytest" 2>/dev/null; then
        ECHOSCOPE=$echoscope exec "$python" -m pytest -q -p no:cacheprovider "$example"
    fi
done
echo "pytest_example: no Python with pytest (Debian: python3-pytest), not run"
exit 0
