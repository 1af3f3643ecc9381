#!/usr/bin/env bash
# Reframing eval: builds two synthetic 1920x1080 videos with known face positions, runs
# analyse + plan (9:16) on each and prints the share of 10 fps output frames whose true face
# centre lies in the middle 60% of the crop width, and the mean crop movement per frame.
#   moving: one face sweeping left-right (10 s sine, 600 px amplitude) and bobbing, 20 s.
#   turns:  face A left (0-5 s, 10-13 s), face B right (5-10 s), a hard scene change at 13 s
#           to a new background with B at 0.68 W; speaker turns given to the planner.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/clipforge/target}
work=${REFRAME_EVAL_DIR:-$(mktemp -d)}; mkdir -p "$work"
[ -n "${REFRAME_EVAL_DIR:-}" ] || trap 'rm -rf "$work"' EXIT

cargo fetch -q
png=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/rustface-0.1.7/test.png | head -1)
ffmpeg -v error -y -i "$png" -vf "crop=104:112:1021:225,scale=312:336" "$work/a.png"
ffmpeg -v error -y -i "$png" -vf "crop=96:104:745:165,scale=288:312" "$work/b.png"

ffmpeg -v error -y -f lavfi -i "color=c=0x506070:s=1920x1080:r=30:d=20" -loop 1 -i "$work/a.png" \
  -filter_complex "[0]noise=alls=25:allf=t[bg];[bg][1]overlay=x='W/2+0.3125*W*sin(2*PI*t/10)-w/2':y='H/2+0.09*H*sin(2*PI*t/7)-h/2':shortest=1,format=yuv420p" \
  -t 20 -c:v libx264 -preset veryfast -crf 23 "$work/moving.mp4"

ffmpeg -v error -y -f lavfi -i "color=c=0x506070:s=1920x1080:r=30:d=20" \
  -f lavfi -i "color=c=0xa08040:s=1920x1080:r=30:d=20" -loop 1 -i "$work/a.png" -loop 1 -i "$work/b.png" \
  -filter_complex "[0]noise=alls=25:allf=t[bg1];[1]noise=alls=25:allf=t,drawbox=x=0:y=700:w=1920:h=380:c=0x303030:t=fill[bg2];\
[bg1][bg2]overlay=enable='gte(t,13)'[bg];\
[bg][2]overlay=x='0.208*W-w/2':y='H/2-h/2':enable='lt(t,5)+between(t,10,12.999)':shortest=1[v1];\
[v1][3]overlay=x='0.781*W-w/2':y='H/2-h/2':enable='between(t,5,9.999)':shortest=1[v2];\
[v2][3]overlay=x='0.677*W-w/2':y='H/2-h/2-80':enable='gte(t,13)':shortest=1,format=yuv420p" \
  -t 20 -c:v libx264 -preset veryfast -crf 23 "$work/turns.mp4"

cargo build -q --release -p clipforge-reframe --example reframe_eval
for s in moving turns; do
  "$CARGO_TARGET_DIR/release/examples/reframe_eval" "$s" "$work/$s.mp4"
done
