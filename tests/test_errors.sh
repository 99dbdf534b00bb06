#!/usr/bin/env bash
# The catalogue of bad inputs, docs/ERRORS.md, run as a test: every ```case
# block there is one case, so the catalogue and this test cannot drift apart.
#
#   bash tests/test_errors.sh ALRS SOURCE_DIR [ID...]
#
# Each case runs in one work directory, which holds small fixtures made here
# (see "Fixtures" in docs/ERRORS.md). Fields of a case, one per line:
#   id:     E01
#   prep:   shell run in the work directory before the command (any number, in order;
#           the helpers poke and ckpt_features below are available)
#   cmd:    the command; `alrs` is the program under test (`test_api case NAME
#           CONTROLLER` makes one bad libalrs call and prints its message)
#   exit:   the exact exit status
#   stderr: the exact last line of stderr (ending in " ...": the line starts
#           with the text before it, for a message that holds a machine's figure)
#   lines:  one (default: stderr is exactly that one line) or progress (earlier
#           lines are allowed, none of them starting with "alrs: ")
#   left:   no PATH...         each PATH did not exist before and does not exist after
#           (clauses separated by "; ": "no out; unchanged plans.txt")
#           unchanged PATH...  each PATH (file or directory tree) keeps its names and bytes
#           -                  nothing to check beyond the universal rule
#   skip:   reason             the case is documented but not run (a known problem)
# Universal rule: no temporary file (*.tmp.*) anywhere in the work directory.
#
# ALRS_ERRORS_KEEP=1 keeps the work directory; ALRS_ERRORS_RECORD=1 prints
# each case's real exit status and last stderr line (to update the catalogue).
set -u
if [ $# -lt 2 ]; then
    echo "usage: bash tests/test_errors.sh ALRS SOURCE_DIR [ID...]" >&2
    exit 2
fi
ALRS=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$(cd "$2" && pwd)
shift 2
ONLY=" $* "
DOC=$SRC/docs/ERRORS.md
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
[ -x "$ALRS" ] || { echo "test_errors: $ALRS is not executable" >&2; exit 2; }
[ -f "$DOC" ] || { echo "test_errors: $DOC not found" >&2; exit 2; }

SECONDS=0
W=$(mktemp -d "${TMPDIR:-/tmp}/alrs-errors.XXXXXX")
if [ "${ALRS_ERRORS_KEEP:-0}" = 1 ]; then
    echo "test_errors: work directory $W (kept)"
else
    trap 'rm -rf "$W"' EXIT
fi
mkdir -p "$W/bin" "$W/.t"
ln -s "$ALRS" "$W/bin/alrs"
# the library's cases (E170-E176, E211-E213) call libalrs through test_api's case mode
[ -x "$(dirname "$ALRS")/test_api" ] && ln -s "$(dirname "$ALRS")/test_api" "$W/bin/test_api"
export PATH="$W/bin:$PATH"
export OMP_NUM_THREADS=1

# ---- fixtures ----------------------------------------------------------------

cat > "$W/.t/fixtures.py" <<'EOF'
# Small data sets in the real formats: a learnable pattern per class on noise,
# as tests/testutil.c writes them.
import gzip, os, struct

def lcg(s):
    return (s * 1103515245 + 12345) & 0xffffffff

def image(rows, cols, label, st):
    px = bytearray(rows * cols)
    for i in range(rows * cols):
        st = lcg(st)
        px[i] = (st >> 16) % 60
    r0, c0 = (label % 5) * rows // 5, (label // 5) * cols // 2
    for r in range(r0, r0 + rows // 5):
        for c in range(c0, c0 + cols // 2):
            px[r * cols + c] = 230
    return px, st

def idx_pair(d, stem, n, seed, side, gz):
    img = bytearray(struct.pack('>IIII', 0x803, n, side, side))
    lab = bytearray(struct.pack('>II', 0x801, n))
    st = seed
    for _ in range(n):
        st = lcg(st)
        label = (st >> 16) % 10
        lab.append(label)
        px, st = image(side, side, label, st)
        img += px
    for kind, data in (('images-idx3', img), ('labels-idx1', lab)):
        path = os.path.join(d, '%s-%s-ubyte' % (stem, kind))
        if gz:  # no file name, mtime 0: the deflate data starts at byte 10
            open(path + '.gz', 'wb').write(gzip.compress(bytes(data), mtime=0))
        else:
            open(path, 'wb').write(data)

def idx_set(d, side, gz=False):
    os.makedirs(d)
    idx_pair(d, 'train', 300, 1, side, gz)
    idx_pair(d, 't10k', 60, 8, side, gz)

def cifar_set(d, n):
    os.makedirs(d)
    st = 5
    for b in range(6):
        buf = bytearray()
        for _ in range(n):
            st = lcg(st)
            label = (st >> 16) % 10
            buf.append(label)
            for _ in range(3):
                px, st = image(32, 32, label, st)
                buf += px
        name = 'data_batch_%d.bin' % (b + 1) if b < 5 else 'test_batch.bin'
        open(os.path.join(d, name), 'wb').write(buf)

idx_set('idx', 28)
idx_set('idx-gz', 28, gz=True)
idx_set('idx8', 8)
cifar_set('cifar', 10)
EOF

# ckpt_features IN OUT N: the checkpoint IN rewritten for a policy that reads N
# observation features: consistent sizes (the first layer of actor and critic
# shrunk or grown), a valid checksum. Layout: src/rl/controller_file.c.
cat > "$W/.t/ckpt_features.py" <<'EOF'
import struct, sys, zlib
src, dst, n_obs = sys.argv[1], sys.argv[2], int(sys.argv[3])
d = open(src, 'rb').read()
p, pos = d[32:], 0
def take(fmt):
    global pos
    v = struct.unpack_from('<' + fmt, p, pos)
    pos += struct.calcsize('<' + fmt)
    return v
obs, dist, n_act, act, nh = take('IIIII')
hidden = take('%dI' % nh); log_std, = take('d')
iface_at = pos
features, kind, nf = take('III'); take('%dd' % nf); take('dd'); base_len, = take('I')
pos += base_len; take('ddIQ')
iface = p[iface_at:pos]
n, = take('Q'); params = list(take('%dd' % n))
an, t = take('QQ'); b1, b2, eps = take('ddd')
m = list(take('%dd' % an)); v = list(take('%dd' % an))
dim, = take('I'); clip, oeps, count = take('ddd')
mean = list(take('%dd' % dim)); m2 = list(take('%dd' % dim))
tail = p[pos:]
n2 = n + 2 * (n_obs - obs) * hidden[0]
grow = lambda xs, k: (xs + [0.0] * k)[:k]
q = struct.pack('<IIIII', n_obs, dist, n_act, act, nh) + struct.pack('<%dI' % nh, *hidden)
q += struct.pack('<d', log_std) + iface
q += struct.pack('<Q', n2) + struct.pack('<%dd' % n2, *grow(params, n2))
q += struct.pack('<QQddd', n2, t, b1, b2, eps)
q += struct.pack('<%dd' % n2, *grow(m, n2)) + struct.pack('<%dd' % n2, *grow(v, n2))
q += struct.pack('<Iddd', n_obs, clip, oeps, count)
q += struct.pack('<%dd' % n_obs, *grow(mean, n_obs)) + struct.pack('<%dd' % n_obs, *grow(m2, n_obs))
q += tail
open(dst, 'wb').write(d[:16] + struct.pack('<QII', len(q), zlib.crc32(q) & 0xffffffff, 0) + q)
EOF

cat > "$W/.t/helpers.sh" <<EOF
# poke FILE OFFSET HEX: overwrite bytes at OFFSET with the hex string HEX.
poke() { "$PY" -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); f.write(bytes.fromhex(sys.argv[3]))' "\$@"; }
ckpt_features() { "$PY" "$W/.t/ckpt_features.py" "\$@"; }
EOF

setup_fail() {
    echo "test_errors: fixture setup failed: $*" >&2
    exit 1
}
(cd "$W" && "$PY" .t/fixtures.py) || setup_fail "fixtures.py"
# A finished learn run (1 update of 2 episodes) and its controller.
(cd "$W" && alrs learn --model mlp --hidden 16 --data-dir idx --val-split 100 --steps 10 \
    --action-every 5 --batch 16 --val-size 50 --episodes 2 --envs 2 --threads-per-env 1 \
    --concurrency 1 --out run >/dev/null 2>"$W/.t/learn.err") ||
    setup_fail "alrs learn: $(cat "$W/.t/learn.err")"
cp "$W/run/controller.bin" "$W/ctrl.bin"
# The fixture train command itself must succeed, or every case below is moot.
(cd "$W" && alrs train --model mlp --hidden 16 --data-dir idx --val-split 100 --batch 16 \
    --steps 2 --eval-every 1 --threads 1 --schedule controller:ctrl.bin --out .t/ok \
    >/dev/null 2>"$W/.t/train.err") ||
    setup_fail "alrs train: $(cat "$W/.t/train.err")"
rm -rf "$W/.t/ok"
# A finished train run, and one stopped by SIGTERM after its first checkpoint.
(cd "$W" && alrs train --model mlp --hidden 16 --data-dir idx --val-split 100 --batch 16 \
    --steps 2 --threads 1 --out trained >/dev/null 2>"$W/.t/trained.err") ||
    setup_fail "alrs train: $(cat "$W/.t/trained.err")"
(cd "$W" && { alrs train --model mlp --hidden 16 --data-dir idx --val-split 100 --batch 16 \
    --steps 100000 --threads 1 --checkpoint-every 50 --out stopped >/dev/null 2>&1 & p=$!
    while [ ! -e stopped/checkpoint.bin ] && kill -0 $p 2>/dev/null; do sleep 0.05; done
    kill -TERM $p 2>/dev/null; wait $p; true; })
[ -e "$W/stopped/checkpoint.bin" ] && [ ! -e "$W/stopped/summary.csv" ] ||
    setup_fail "the stopped train run has no checkpoint (or finished before the signal)"

# ---- running one case ----------------------------------------------------------

pass=0 fail=0 skipped=0
declare -a FAILED=()

# The names and bytes of a path (file or tree), or "absent".
snapshot() {
    local p=$1
    if [ ! -e "$p" ] && [ ! -L "$p" ]; then
        echo absent
    elif [ -d "$p" ]; then
        (cd "$p" && find . -mindepth 1 -printf '%y %p\n' | LC_ALL=C sort &&
            find . -type f -print0 | LC_ALL=C sort -z | xargs -0r md5sum)
    else
        echo "file $(md5sum < "$p")"
    fi
}

run_case() {
    local id=$1 cmd=$2 want_exit=$3 want_err=$4 lines=$5 left=$6 prep=$7
    local why=()
    if [ -n "$prep" ]; then
        # shellcheck source=/dev/null
        if ! (cd "$W" && source .t/helpers.sh && eval "$prep") >"$W/.t/prep.out" 2>&1; then
            why+=("prep failed: $(head -c 300 "$W/.t/prep.out")")
        fi
    fi
    # "no A; unchanged B": clauses, each a mode and its paths
    local -a modes=() paths=() before=()
    local clause mode p
    IFS=';' read -ra clauses <<<"$left"
    for clause in "${clauses[@]}"; do
        read -r mode rest <<<"$clause"
        case $mode in no | unchanged | -) ;; *) why+=("bad left: '$left'") ;; esac
        for p in $rest; do
            modes+=("$mode") paths+=("$p")
            before+=("$(cd "$W" && snapshot "$p")")
        done
    done
    # stderr through a pipe: a file would be subject to the command's own `ulimit -f`.
    # A case that hangs is killed after 60 s (exit 124).
    (cd "$W" && timeout -k 5 60 bash -c "$cmd") 2>&1 >/dev/null | cat > "$W/.t/stderr"
    local rc=${PIPESTATUS[0]}
    local n_lines last
    n_lines=$(wc -l < "$W/.t/stderr")
    last=$(tail -n 1 "$W/.t/stderr")
    if [ "${ALRS_ERRORS_RECORD:-0}" = 1 ]; then
        printf '%s\t%s\t%s\n' "$id" "$rc" "$last"
    fi
    [ "$rc" = "$want_exit" ] || why+=("exit $rc, want $want_exit")
    if [ "${want_err% ...}" != "$want_err" ]; then # "TEXT ...": the line starts with TEXT
        [ "${last#"${want_err% ...}"}" != "$last" ] || why+=("stderr's last line differs")
    else
        [ "$last" = "$want_err" ] || why+=("stderr's last line differs")
    fi
    case "$last" in "alrs: "*) ;; *) why+=("the last line does not start with 'alrs: '") ;; esac
    if [ "$lines" = progress ]; then
        if head -n -1 "$W/.t/stderr" | grep -q '^alrs: '; then
            why+=("more than one 'alrs: ' line")
        fi
    elif [ "$n_lines" != 1 ]; then
        why+=("stderr has $n_lines lines, want exactly 1")
    fi
    local k now
    for k in "${!paths[@]}"; do
        p=${paths[$k]}
        now=$(cd "$W" && snapshot "$p")
        case ${modes[$k]} in
        no)
            [ "${before[$k]}" = absent ] || why+=("$p existed before the command (bad case)")
            [ "$now" = absent ] || why+=("$p was left behind")
            ;;
        unchanged)
            [ "${before[$k]}" != absent ] || why+=("$p did not exist before the command (bad case)")
            [ "$now" = "${before[$k]}" ] || why+=("$p was changed")
            ;;
        esac
    done
    local tmps
    tmps=$(cd "$W" && find . -name '*.tmp.*' | head -5 | tr '\n' ' ')
    [ -z "$tmps" ] || why+=("temporary files left: $tmps")
    if [ ${#why[@]} -eq 0 ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        FAILED+=("$id")
        {
            echo "FAIL $id: $cmd"
            local r
            for r in "${why[@]}"; do echo "  - $r"; done
            echo "  stderr:"
            sed 's/^/    | /' "$W/.t/stderr"
            echo "  want:   $want_err"
        } >&2
        # so that one failure does not make the next cases fail too
        find "$W" -name '*.tmp.*' -exec rm -f {} + 2>/dev/null
        if [ "$mode" = no ]; then # only what the command made: each was absent before
            k=0
            for p in $paths; do
                [ "${before[$k]}" = absent ] && (cd "$W" && rm -rf -- "$p")
                k=$((k + 1))
            done
        fi
    fi
}

# ---- reading the catalogue ---------------------------------------------------------

n_cases=0
in_case=0
declare -A SEEN=()

flush_case() {
    n_cases=$((n_cases + 1))
    if [ -z "$c_id" ] || [ -z "$c_cmd" ] || [ -z "$c_left" ]; then
        if [ -z "$c_skip" ]; then
            echo "FAIL ${c_id:-case $n_cases}: incomplete (needs id, cmd, exit, stderr, left)" >&2
            fail=$((fail + 1))
            FAILED+=("${c_id:-?}")
            return
        fi
    fi
    if [ -n "${SEEN[$c_id]:-}" ]; then
        echo "FAIL $c_id: id used twice in the catalogue" >&2
        fail=$((fail + 1))
    fi
    SEEN[$c_id]=1
    case "$ONLY" in "  ") ;; *" $c_id "*) ;; *) return ;; esac
    if [ -n "$c_skip" ]; then
        skipped=$((skipped + 1))
        echo "SKIP $c_id: $c_skip"
        return
    fi
    if [ -z "$c_exit" ] || [ -z "$c_err" ]; then
        echo "FAIL $c_id: incomplete (needs exit and stderr)" >&2
        fail=$((fail + 1))
        return
    fi
    run_case "$c_id" "$c_cmd" "$c_exit" "$c_err" "${c_lines:-one}" "$c_left" "$c_prep"
}

while IFS= read -r line || [ -n "$line" ]; do
    if [ $in_case = 0 ]; then
        if [ "$line" = '```case' ]; then
            in_case=1
            c_id="" c_cmd="" c_exit="" c_err="" c_lines="" c_left="" c_prep="" c_skip=""
        fi
        continue
    fi
    if [ "$line" = '```' ]; then
        in_case=0
        flush_case
        continue
    fi
    key=${line%%:*}
    val=${line#*:}
    val=${val#"${val%%[![:space:]]*}"} # trim leading blanks
    case $key in
    id) c_id=$val ;;
    prep) c_prep+="$val"$'\n' ;;
    cmd) c_cmd=$val ;;
    exit) c_exit=$val ;;
    stderr) c_err=$val ;;
    lines) c_lines=$val ;;
    left) c_left=$val ;;
    skip) c_skip=$val ;;
    '' | '#'*) ;;
    *)
        echo "FAIL ${c_id:-?}: unknown field '$key' in $DOC" >&2
        fail=$((fail + 1))
        ;;
    esac
done < "$DOC"

echo "test_errors: $n_cases cases in docs/ERRORS.md: $pass passed, $fail failed, $skipped skipped (${SECONDS}s)"
if [ $n_cases -lt 30 ] && [ "$ONLY" = "  " ]; then
    echo "test_errors: the catalogue holds only $n_cases cases (at least 30 expected)" >&2
    exit 1
fi
if [ $fail -gt 0 ]; then
    echo "test_errors: failed: ${FAILED[*]}" >&2
    exit 1
fi
exit 0
