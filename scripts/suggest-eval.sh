#!/usr/bin/env bash
# Measures `clipforge suggest` on scripted podcasts with planted clip labels
# (eval/suggest/README.md): precision@5 of the planted strong moments, their boundary
# error, cuts inside words, filler in the top five.
#
#   scripts/suggest-eval.sh [--check] [--model DIR] [--threads N] [--no-build] [--prepare]
#     --check      exit 1 when a goal is missed (P@5 >= 0.8, boundary error <= 1.0 s,
#                  no cuts inside words); without it the figures are printed and the
#                  exit status is 0
#     --model DIR  Whisper model for the transcripts (default: the installed tiny.en)
#     --threads N  CPU threads for transcription (default 2)
#     --no-build   use the clipforge binary as it is (default: scripts/setup.sh --build)
#     --prepare    only make the podcasts and their transcripts (bench-suggest.sh uses it)
#
# Every eval/suggest/podcast-N.txt is spoken by scripts/podcast.py into
# fixtures/generated/suggest/podcast-N.wav and podcast-N.labels.json, transcribed by
# `clipforge transcribe` into podcast-N.transcript.json, and given to `clipforge suggest
# --media podcast-N.wav --json --max 10` (podcast-N.suggest.json; the audio gives the
# loudness and speaker-change cues); scripts/suggest_eval.py scores the lot and
# writes summary.json beside them. Audio is remade only when the script, the generator
# or espeak-ng changes, and transcripts only when the audio or the model does;
# suggestions are made afresh on every run.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

check=0
build=1
prepare_only=0
model=$MODELS_DIR/tiny.en
threads=2
while [ $# -gt 0 ]; do
    case $1 in
    --model | --threads)
        [ $# -ge 2 ] || die "$1 needs a value"
        if [ "$1" = --model ]; then model=$2; else threads=$2; fi
        shift 2
        ;;
    --check) check=1 && shift ;;
    --no-build) build=0 && shift ;;
    --prepare) prepare_only=1 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done

if [ "$build" -eq 1 ]; then
    "$ROOT/scripts/setup.sh" --build
fi
require_binary
model_complete "$model" || die "$model is not a complete model folder"
for tool in espeak-ng sox python3 sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: run scripts/setup.sh"
done

out=$GENERATED/suggest
mkdir -p "$out"
scripts=("$ROOT"/eval/suggest/podcast-*.txt)
[ -e "${scripts[0]}" ] || die "no podcast scripts in $ROOT/eval/suggest"

# Content hash of the given files and strings: the cache key of what they produce.
content_key() {
    local arg
    for arg in "$@"; do
        if [ -f "$arg" ]; then sha256sum <"$arg"; else printf '%s\n' "$arg"; fi
    done | sha256sum | cut -c1-16
}

# podcast NAME SCRIPT: the audio and labels, remade when their inputs changed.
podcast() {
    local name=$1 script=$2 key started=$SECONDS
    key=$(content_key "$script" "$ROOT/scripts/podcast.py" "$(espeak-ng --version)")
    if [ -s "$out/$name.wav" ] && [ -s "$out/$name.labels.json" ] && [ "$(cat "$out/$name.key" 2>/dev/null)" = "$key" ]; then
        return
    fi
    rm -f "$out/$name.key" "$out/$name.transcript.key"
    python3 "$ROOT/scripts/podcast.py" "$script" --out "$out" >&2 || die "podcast.py failed on $script"
    echo "$key" >"$out/$name.key"
    log "$name: spoken in $((SECONDS - started)) s"
}

# transcript NAME: clipforge's transcript of the audio, remade when the audio or model changed.
transcript() {
    local name=$1 key started=$SECONDS
    key=$(content_key "$(cat "$out/$name.key")" "$model" "$model/model.bin")
    if [ -s "$out/$name.transcript.json" ] && [ "$(cat "$out/$name.transcript.key" 2>/dev/null)" = "$key" ]; then
        return
    fi
    rm -f "$out/$name.transcript.key"
    if ! "$CLIPFORGE_BIN" transcribe "$out/$name.wav" --format json --model "$model" --threads "$threads" \
        -o "$out/$name.transcript.json" 2>"$out/$name.transcribe.log"; then
        tail -n 5 "$out/$name.transcribe.log" >&2
        die "clipforge transcribe failed on $out/$name.wav (log: $out/$name.transcribe.log)"
    fi
    echo "$key" >"$out/$name.transcript.key"
    log "$name: transcribed in $((SECONDS - started)) s"
}

cases=()
for script in "${scripts[@]}"; do
    name=$(basename "$script" .txt)
    podcast "$name" "$script"
    transcript "$name"
    cases+=("$out/$name")
done
log "podcasts and transcripts ready in $out"
# How far the planted times are from the transcript's word times (the suggester only
# sees the latter): the last line of the alignment report.
log "labels vs transcript words: $(python3 "$ROOT/scripts/suggest_eval.py" align "${cases[@]}" | tail -n 1)"
if [ "$prepare_only" -eq 1 ]; then
    exit 0
fi

"$CLIPFORGE_BIN" suggest --help >/dev/null 2>&1 ||
    die "$CLIPFORGE_BIN has no working suggest command: build a clipforge that has one"
for case in "${cases[@]}"; do
    name=$(basename "$case")
    rm -f "$case.suggest.json"
    started=$(date +%s.%N)
    if ! "$CLIPFORGE_BIN" suggest "$case.transcript.json" --media "$case.wav" --json --max 10 \
        >"$case.suggest.json.part" \
        2>"$case.suggest.log"; then
        tail -n 5 "$case.suggest.log" >&2
        die "clipforge suggest failed on $case.transcript.json (log: $case.suggest.log)"
    fi
    mv "$case.suggest.json.part" "$case.suggest.json"
    log "$name: suggested in $(awk "BEGIN{printf \"%.2f\", $(date +%s.%N) - $started}") s"
done

echo
score_args=(score "${cases[@]}" --top 10 --json "$out/summary.json")
[ "$check" -eq 1 ] && score_args+=(--check)
status=0
python3 "$ROOT/scripts/suggest_eval.py" "${score_args[@]}" || status=$?
log "summary: $out/summary.json"
exit "$status"
