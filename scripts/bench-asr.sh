#!/usr/bin/env bash
# Times clipforge's local transcription against faster-whisper on the same model folder and
# the same real-speech talk, one after the other on this machine.
#
#   scripts/bench-asr.sh [--minutes N] [--model DIR] [--threads N] [--sequential]
#     --minutes N    length of the talk (default 11; real speech, see fixtures.sh talk)
#     --model DIR    CTranslate2 Whisper folder for both (default: the installed tiny.en)
#     --threads N    CPU threads for both (default 2)
#     --sequential   also time faster-whisper's sequential pipeline (model.transcribe)
#
# Both are timed as whole processes with /usr/bin/time (start-up, model load, audio
# decoding included): clipforge transcribe --format json, and scripts/fw_transcribe.py
# (WhisperModel(dir, device="cpu", compute_type="int8", cpu_threads=N) with
# BatchedInferencePipeline, word_timestamps=True, its defaults otherwise). Prints wall
# time, peak RSS and WER against the talk's reference text; keeps every output under
# fixtures/generated/bench/.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

minutes=11
model=$MODELS_DIR/tiny.en
threads=2
sequential=0
while [ $# -gt 0 ]; do
    case $1 in
    --minutes | --model | --threads)
        [ $# -ge 2 ] || die "$1 needs a value"
        case $1 in
        --minutes) minutes=$2 ;;
        --model) model=$2 ;;
        --threads) threads=$2 ;;
        esac
        shift 2
        ;;
    --sequential) sequential=1 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done

"$ROOT/scripts/setup.sh" --build
ensure_faster_whisper
require_binary
model_complete "$model" || die "$model is not a complete model folder"
"$ROOT/scripts/fixtures.sh" talk --minutes "$minutes"
input=$GENERATED/talk-${minutes}m.mp4
reference=$GENERATED/talk-${minutes}m.txt
seconds=$(media_seconds "$input")

out=$GENERATED/bench/asr-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
# Read the input and the model once so neither run pays for a cold page cache.
cat "$input" "$model/model.bin" >/dev/null

# run NAME COMMAND...: times one engine; its transcript goes to $out/NAME.json.
run() {
    local name=$1
    shift
    log "$name: transcribing $seconds s of $input"
    if ! measure "$out/$name.time" "$@" >"$out/$name.stdout" 2>"$out/$name.log"; then
        tail -n 5 "$out/$name.log" >&2
        die "$name failed (log: $out/$name.log)"
    fi
}

run clipforge "$CLIPFORGE_BIN" transcribe "$input" --format json --threads "$threads" \
    --model "$model" -o "$out/clipforge.json"
run fw-batched "$FW_PYTHON" "$ROOT/scripts/fw_transcribe.py" --model "$model" \
    --threads "$threads" --pipeline batched --out "$out/fw-batched.json" "$input"
engines=(clipforge fw-batched)
if [ "$sequential" -eq 1 ]; then
    run fw-sequential "$FW_PYTHON" "$ROOT/scripts/fw_transcribe.py" --model "$model" \
        --threads "$threads" --pipeline sequential --out "$out/fw-sequential.json" "$input"
    engines+=(fw-sequential)
fi

echo "audio: $seconds s of real speech ($input), model $model, $threads threads; outputs in $out"
declare -A WALL
json=""
for e in "${engines[@]}"; do
    WALL[$e]=$(measured_wall "$out/$e.time")
    rss=$(measured_rss_mib "$out/$e.time")
    wer=$(python3 "$ROOT/scripts/wer.py" "$reference" "$out/$e.json" --total)
    printf '%-14s wall %7.1f s  peak RSS %5s MiB  WER %6s%%  (%.1fx realtime)\n' \
        "$e" "${WALL[$e]}" "$rss" "$wer" "$(awk "BEGIN{print $seconds / ${WALL[$e]}}")"
    json+="${json:+, }\"$e\": {\"wall_s\": ${WALL[$e]}, \"peak_rss_mib\": $rss, \"wer_pct\": $wer}"
done
printf '{"input": "%s", "audio_s": %s, "model": "%s", "threads": %s, "engines": {%s}}\n' \
    "$input" "$seconds" "$model" "$threads" "$json" >"$out/summary.json"
printf 'asr bench: clipforge %.1f s, faster-whisper batched %.1f s, ratio %.2f\n' \
    "${WALL[clipforge]}" "${WALL[fw-batched]}" "$(awk "BEGIN{print ${WALL[clipforge]} / ${WALL[fw-batched]}}")"
