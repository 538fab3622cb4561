#!/usr/bin/env bash
# Side-by-side benchmark of ferry against Kiwix (issues 8 and 15), on the same content:
#   1. packing an HTML folder: zimwriterfs (with full-text index) vs ferry pack, the larger
#      corpus in two orders (its article copies spread over the path order, and side by side)
#   2. serving a real ZIM: kiwix-serve on the ZIM vs ferry serve on `ferry pack X.zim`
#      (wrk requests/s and latency, search latency, server memory)
#   3. Korean search quality: KorQuAD questions, top-1/top-3 hit rates
# It prints the table of ferry ÷ Kiwix ratios and writes it into docs/benchmarks.md.
#
# Usage (from anywhere in the repository):
#   bench/kiwix.sh                  # default: ×1 and ×COPIES KorQuAD corpora
#   COPIES=120 bench/kiwix.sh       # the ~200 MB corpus
# Search queries go to kiwix-serve with their words joined by OR (Xapian joins them with AND
# by default and answers most questions with nothing), so both engines rank the same matches.
# Environment: COPIES (default 40, ≈68 MB), REPS (3), WRK_SECS (10), WRK_CONNS (32),
# WRK_THREADS (2), SEARCH_N (300 queries), QUALITY_N (2000 questions, 0 = all),
# TESTDATA (default ../shared/testdata beside the repository), PORT (18480: uses PORT and PORT+1),
# DOC (docs/benchmarks.md; "-" to only print), KEEP=1 (keep the work folder), RESULTS (copy the raw results there),
# FERRY (a ferry binary to measure instead of building one).
# Needs root (or the packages already installed): zim-tools, kiwix-tools, wrk, time.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
COPIES=${COPIES:-40}
REPS=${REPS:-3}
WRK_SECS=${WRK_SECS:-10}
WRK_CONNS=${WRK_CONNS:-32}
WRK_THREADS=${WRK_THREADS:-2}
SEARCH_N=${SEARCH_N:-300}
QUALITY_N=${QUALITY_N:-2000}
TESTDATA=${TESTDATA:-$repo/../shared/testdata}
PORT=${PORT:-18480}
DOC=${DOC:-docs/benchmarks.md}
RAYZIM=$TESTDATA/zim/wikipedia_en_ray_charles_mini_2020-03.zim
KPORT=$PORT
FPORT=$((PORT + 1))

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- processes we start, killed by PID on any exit -----------------------------
pids=()
work=""
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if [[ -n $work && -n ${RESULTS:-} && -f $work/results.txt ]]; then cp "$work/results.txt" "$RESULTS" || true; fi
	if [[ -n $work && -z ${KEEP:-} ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools ---------------------------------------------------------------------
need=()
command -v zimwriterfs >/dev/null || need+=(zim-tools)
command -v kiwix-serve >/dev/null || need+=(kiwix-tools)
command -v wrk >/dev/null || need+=(wrk)
[[ -x /usr/bin/time ]] || need+=(time)
command -v curl >/dev/null || need+=(curl)
if ((${#need[@]})); then
	log "installing ${need[*]}"
	[[ $(id -u) == 0 ]] || die "missing ${need[*]}: run as root or apt-get install them"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
[[ -f $RAYZIM ]] || die "test data not found: $RAYZIM (set TESTDATA)"
[[ -f $TESTDATA/korquad/KorQuAD_v1.0_dev.json ]] || die "test data not found: $TESTDATA/korquad (set TESTDATA)"
for p in $KPORT $FPORT; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then die "port $p on 127.0.0.1 is in use (set PORT)"; fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-kiwix.XXXXXX")
bin=$work/bin
res=$work/results.txt
: >"$res"
log "building ferry and bench/kiwix into $bin"
# As the release builds it (no cgo: no C library, no per-thread malloc arenas), unless FERRY
# names a ferry binary to measure.
if [[ -n ${FERRY:-} ]]; then
	mkdir -p "$bin" && cp "$FERRY" "$bin/ferry"
else
	CGO_ENABLED=0 go build -o "$bin/ferry" ./cmd/ferry
fi
go build -o "$bin/kb" ./bench/kiwix
ferry=$bin/ferry
kb=$bin/kb
"$ferry" keygen -o "$work/bench" >/dev/null

# measure KEY CMD...: runs CMD under /usr/bin/time -v, records wall, cpu, maxrss_kb.
measure() {
	local key=$1 tf=$work/time.txt
	shift
	if ! /usr/bin/time -v -o "$tf" "$@" >"$work/cmd.log" 2>&1; then
		cat "$work/cmd.log" >&2
		die "failed: $*"
	fi
	awk -v k="$key" -F': ' '
		/Elapsed \(wall clock\)/ { n = split($2, a, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + a[i] }
		/User time/ { u = $2 } /System time/ { s = $2 } /Maximum resident set size/ { m = $2 }
		END { printf "%s.wall %.3f\n%s.cpu %.3f\n%s.maxrss_kb %d\n", k, w, k, u + s, k, m }' "$tf" >>"$res"
}
size() { stat -c %s "$1"; }

# --- 1. packing --------------------------------------------------------------------
log "generating the KorQuAD corpora (×1, and ×$COPIES in two orders)"
small_bytes=$("$kb" corpus -testdata "$TESTDATA" -copies 1 -out "$work/small")
# large: the copies of each article spread over the whole path order (the order both packers
# meet them in); adjacent: the same pages with the copies side by side.
large_bytes=$("$kb" corpus -testdata "$TESTDATA" -copies "$COPIES" -order shuffled -out "$work/large")
"$kb" corpus -testdata "$TESTDATA" -copies "$COPIES" -order adjacent -out "$work/adjacent" >/dev/null
zimargs=(-w index.html -I illustration.png -l kor -t "KorQuAD" -d "KorQuAD 1.0 dev articles"
	-c "Wikipedia contributors" -p "ferry bench" -n korquad_ko)
for corpus in small large adjacent; do
	for ((r = 1; r <= REPS; r++)); do
		log "pack $corpus, run $r/$REPS: zimwriterfs"
		rm -f "$work/$corpus.zim"
		measure "pack.$corpus.kiwix" zimwriterfs "${zimargs[@]}" "$work/$corpus/html" "$work/$corpus.zim"
		echo "pack.$corpus.kiwix.size $(size "$work/$corpus.zim")" >>"$res"
		log "pack $corpus, run $r/$REPS: ferry pack"
		rm -f "$work/$corpus.ferry"
		measure "pack.$corpus.ferry" "$ferry" pack -k "$work/bench.key" -o "$work/$corpus.ferry" --lang ko "$work/$corpus/html"
		echo "pack.$corpus.ferry.size $(size "$work/$corpus.ferry")" >>"$res"
	done
done

# --- servers ---------------------------------------------------------------------
# start_servers ZIM FERRY: kiwix-serve on ZIM, ferry serve on FERRY; sets kpid, fpid.
start_servers() {
	kiwix-serve --port "$KPORT" --address 127.0.0.1 "$1" >"$work/kiwix-serve.log" 2>&1 &
	kpid=$!
	pids+=("$kpid")
	"$ferry" serve --addr "127.0.0.1:$FPORT" "$2" >"$work/ferry-serve.log" 2>&1 &
	fpid=$!
	pids+=("$fpid")
	local i
	for ((i = 0; i < 100; i++)); do
		if curl -fso /dev/null "http://127.0.0.1:$KPORT/" && curl -fso /dev/null "http://127.0.0.1:$FPORT/"; then
			return 0
		fi
		kill -0 "$kpid" 2>/dev/null || { cat "$work/kiwix-serve.log" >&2; die "kiwix-serve exited"; }
		kill -0 "$fpid" 2>/dev/null || { cat "$work/ferry-serve.log" >&2; die "ferry serve exited"; }
		sleep 0.2
	done
	die "servers did not answer on 127.0.0.1:$KPORT and :$FPORT"
}
stop_servers() {
	kill "$kpid" "$fpid" 2>/dev/null || true
	wait "$kpid" "$fpid" 2>/dev/null || true
	local keep=() p
	for p in "${pids[@]}"; do
		[[ $p == "$kpid" || $p == "$fpid" ]] || keep+=("$p")
	done
	pids=("${keep[@]+"${keep[@]}"}")
}
memory() { # KEY PID
	awk -v k="$1" '/^VmRSS:/ { print k ".rss_kb " $2 } /^VmHWM:/ { print k ".hwm_kb " $2 }
		/^RssAnon:/ { print k ".anon_kb " $2 } /^RssFile:/ { print k ".file_kb " $2 }' "/proc/$2/status" >>"$res"
}
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
runwrk() { # KEY PORT URLFILE PID
	local out=$work/wrk.txt t0 t1
	t0=$(cpu_ticks "$4")
	wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${WRK_SECS}s" --timeout 10s --latency -s "$repo/bench/kiwix/rotate.lua" \
		"http://127.0.0.1:$2" -- "$3" >"$out"
	t1=$(cpu_ticks "$4")
	"$kb" wrk -prefix "$1." -cpu-ticks $((t1 - t0)) <"$out" >>"$res"
	local errs
	errs=$(awk -v k="$1.non2xx" '$1 == k { e = $2 } END { print e + 0 }' "$res")
	((errs == 0)) || { cat "$out" >&2; die "$1: $errs answers were not 2xx/3xx"; }
}
check_url() { # URL
	local code
	code=$(curl -so /dev/null -w '%{http_code}' "$1")
	[[ $code == 200 ]] || die "$1 answered $code, want 200"
}

# --- 2. serving a real ZIM and the ZIM made from the larger corpus ----------------------
cp_zim() { ln -sf "$1" "$2"; }
mkdir -p "$work/serve"
cp_zim "$RAYZIM" "$work/serve/ray.zim"
cp_zim "$work/small.zim" "$work/serve/small.zim"
cp_zim "$work/large.zim" "$work/serve/large.zim"
for z in ray small large; do
	log "import $z.zim with ferry pack"
	rm -f "$work/serve/$z.ferry"
	measure "import.$z.ferry" "$ferry" pack -k "$work/bench.key" -o "$work/serve/$z.ferry" "$work/serve/$z.zim"
	"$kb" zimpaths -archive "$work/serve/$z.ferry" >"$work/serve/$z.paths"
	[[ -s $work/serve/$z.paths ]] || die "no articles in $z.ferry"
	"$kb" urls -base "/$z/" -paths "$work/serve/$z.paths" -n 2000 >"$work/serve/$z.kiwix.urls"
	"$kb" urls -base "/a/$z/" -paths "$work/serve/$z.paths" -n 2000 >"$work/serve/$z.ferry.urls"
	# Queries: article titles (words every engine finds); for the KorQuAD ZIM also the questions.
	sed 's#^A/##; s/_/ /g; s/ ([^)]*)$//' "$work/serve/$z.paths" | sort -u >"$work/serve/$z.titles"
done
cp "$work/large/questions.tsv" "$work/serve/large.questions"
cp "$work/small/questions.tsv" "$work/serve/small.questions"

for ((r = 1; r <= REPS; r++)); do
	for z in ray small large; do
		log "serve $z, run $r/$REPS"
		start_servers "$work/serve/$z.zim" "$work/serve/$z.ferry"
		check_url "http://127.0.0.1:$KPORT$(head -1 "$work/serve/$z.kiwix.urls")"
		check_url "http://127.0.0.1:$FPORT$(head -1 "$work/serve/$z.ferry.urls")"
		runwrk "serve.$z.kiwix" "$KPORT" "$work/serve/$z.kiwix.urls" "$kpid"
		runwrk "serve.$z.ferry" "$FPORT" "$work/serve/$z.ferry.urls" "$fpid"
		"$kb" search -kind kiwix -or -pid "$kpid" -base "http://127.0.0.1:$KPORT" -book "$z" -questions "$work/serve/$z.titles" -n "$SEARCH_N" |
			sed "s/^/search.$z.kiwix./" >>"$res"
		"$kb" search -kind ferry -pid "$fpid" -base "http://127.0.0.1:$FPORT" -book "$z" -questions "$work/serve/$z.titles" -n "$SEARCH_N" |
			sed "s/^/search.$z.ferry./" >>"$res"
		if [[ $z != ray ]]; then
			"$kb" search -kind kiwix -or -pid "$kpid" -base "http://127.0.0.1:$KPORT" -book "$z" -questions "$work/serve/$z.questions" -n "$SEARCH_N" |
				sed "s/^/searchq.$z.kiwix./" >>"$res"
			"$kb" search -kind ferry -pid "$fpid" -base "http://127.0.0.1:$FPORT" -book "$z" -questions "$work/serve/$z.questions" -n "$SEARCH_N" |
				sed "s/^/searchq.$z.ferry./" >>"$res"
		fi
		memory "serve.$z.kiwix" "$kpid"
		memory "serve.$z.ferry" "$fpid"
		stop_servers
	done
done

# --- 3. Korean search quality ------------------------------------------------------
log "Korean search quality (KorQuAD questions, ×1 corpus)"
ln -sf "$work/small.zim" "$work/serve/small.zim"
ln -sf "$work/small.ferry" "$work/serve/small.ferry"
start_servers "$work/serve/small.zim" "$work/serve/small.ferry"
"$kb" search -quality -kind kiwix -or -base "http://127.0.0.1:$KPORT" -book small -questions "$work/small/questions.tsv" -n "$QUALITY_N" |
	sed "s/^/quality.kiwix./" >>"$res"
"$kb" search -quality -kind ferry -base "http://127.0.0.1:$FPORT" -book small -questions "$work/small/questions.tsv" -n "$QUALITY_N" |
	sed "s/^/quality.ferry./" >>"$res"
stop_servers

# --- report ----------------------------------------------------------------------
mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
{
	echo "meta.command COPIES=$COPIES bench/kiwix.sh"
	echo "meta.copies $COPIES"
	echo "meta.reps $REPS"
	echo "meta.wrk_threads $WRK_THREADS"
	echo "meta.wrk_conns $WRK_CONNS"
	echo "meta.wrk_secs $WRK_SECS"
	echo "meta.search_n $SEARCH_N"
	echo "meta.quality_n $(awk '$1 == "quality.ferry.queries" { print $2 }' "$res")"
	echo "meta.small_mb $(awk -v b="$small_bytes" 'BEGIN { printf "%.1f", b / 1e6 }')"
	echo "meta.large_mb $(awk -v b="$large_bytes" 'BEGIN { printf "%.1f", b / 1e6 }')"
	echo "meta.machine $(nproc) cores ($cpu), $((mem_kb / 1024)) MiB memory, $(uname -sr)"
	echo "meta.versions zimwriterfs $(zimwriterfs -V 2>&1 | head -1 | tr -s ' \t' ' '), kiwix-serve $(kiwix-serve -V 2>&1 | head -1 | tr -s ' \t' ' '), wrk $(wrk -v 2>&1 | head -1 | awk '{ print $2 }'), $(go version | awk '{ print $3 }'), ferry $(git rev-parse --short HEAD)${FERRY:+ (binary $FERRY)}"
	echo "meta.date $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "meta.load $(cut -d' ' -f1-3 /proc/loadavg)"
} >>"$res"
if [[ -n ${KEEP:-} ]]; then log "kept $work"; fi
if [[ $DOC == - ]]; then
	"$kb" report -results "$res"
else
	"$kb" report -results "$res" -doc "$DOC"
	log "wrote the section \"Side by side with Kiwix\" of $DOC"
fi
