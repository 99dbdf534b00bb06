"""The Python tests' counting check: one FAIL line per failed condition, a
closing 'N passed, N failed' line and the exit status (tests/test_python.sh)."""
import sys

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what, file=sys.stderr)


def finish(prefix=""):
    """Prints the closing line and exits 1 if any check failed."""
    print("%s%d passed, %d failed" % (prefix, passed, failed))
    sys.exit(1 if failed else 0)
