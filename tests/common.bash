# Shared by the shell tests (tests/test_*.sh): sourced, never run by ctest.
#   ok / fail MESSAGE     count a passed / failed check (fail prints MESSAGE)
#   finish                prints "N passed, N failed"; the exit status says which
#   write_idx DIR         600 training and 120 test 28x28 images in raw IDX files,
#                         labels 0-9 drawn in a learnable pattern (python3, stdlib only)
passed=0
failed=0
ok() { passed=$((passed + 1)); }
fail() {
    failed=$((failed + 1))
    echo "FAIL: $*" >&2
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
write_idx() { # dir
    python3 - "$1" <<'PY'
import os, random, struct, sys
d = sys.argv[1]
os.makedirs(d)
def write(stem, n, seed):
    rnd = random.Random(seed)
    labels = bytes(rnd.randrange(10) for _ in range(n))
    pixels = bytearray()
    for label in labels:
        for r in range(28):
            for c in range(28):
                on = r // 3 == label or c // 3 == label
                pixels.append((200 if on else 0) + rnd.randrange(56))
    with open(os.path.join(d, stem + "-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 28, 28) + pixels)
    with open(os.path.join(d, stem + "-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + labels)
write("train", 600, 1)
write("t10k", 120, 2)
PY
}
# A library built with AddressSanitizer (the sanitizer build's libalrs) loads
# into an uninstrumented host (python3, the installed example program) only
# with the ASan runtime loaded first; the host's own leaks are not ours to report.
#   run_host LIB COMMAND...   runs COMMAND, preloading LIB's ASan runtime if it has one
#   lib_has_asan LIB          true when LIB links the ASan runtime
asan_runtime() { ldd "$1" 2>/dev/null | awk '/libasan/ {print $3; exit}'; }
lib_has_asan() { [ -n "$(asan_runtime "$1")" ]; }
run_host() {
    local lib=$1 rt
    shift
    rt=$(asan_runtime "$lib")
    if [ -n "$rt" ]; then
        LD_PRELOAD="$rt${LD_PRELOAD:+:$LD_PRELOAD}" \
            ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$@"
    else
        "$@"
    fi
}
