# shellcheck shell=bash disable=SC2034
# Shared by the scripts in this folder; sourced, never run. Defines paths and small helpers
# (the variables are used by the scripts that source it), exports nothing.

# Numbers printed by bash and awk use a dot whatever the user's locale.
LC_NUMERIC=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Where downloads (wheels, the faster-whisper virtualenv) are kept between runs.
CACHE_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/clipforge
# The same data folder the clipforge binary uses (crates/asr: local/model.rs).
DATA_DIR=${CLIPFORGE_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/clipforge}
MODELS_DIR=$DATA_DIR/models
TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/clipforge/target}
CLIPFORGE_BIN=$TARGET_DIR/release/clipforge
GENERATED=$ROOT/fixtures/generated
LIBRIVOX_SRC=/usr/share/pocketsphinx/test/data/librivox

log() { printf '[%s] %s\n' "${0##*/}" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

# Makes cargo usable in shells that did not source rustup's profile (CI, cron).
ensure_cargo_on_path() {
    if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
        # shellcheck disable=SC1091
        . "$HOME/.cargo/env"
    fi
}

# Whether a model folder holds everything a faster-whisper (CTranslate2) model needs.
model_complete() {
    local dir=$1 f
    for f in config.json model.bin tokenizer.json vocabulary.txt; do
        [ -s "$dir/$f" ] || return 1
    done
}

# Seconds of a media file, from ffprobe.
media_seconds() {
    ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 "$1"
}

# The peer clipforge is measured against, in its own virtualenv (Debian's python refuses
# system-wide pip installs).
FW_VERSION=1.2.1
FW_VENV=$CACHE_DIR/venv-faster-whisper
FW_PYTHON=$FW_VENV/bin/python

ensure_faster_whisper() {
    if "$FW_PYTHON" -c "import sys, faster_whisper; sys.exit(faster_whisper.__version__ != '$FW_VERSION')" 2>/dev/null; then
        return
    fi
    log "installing faster-whisper $FW_VERSION into $FW_VENV"
    python3 -m venv "$FW_VENV" || die "python3 -m venv failed: run scripts/setup.sh (python3-venv)"
    "$FW_VENV/bin/pip" install --quiet --disable-pip-version-check "faster-whisper==$FW_VERSION"
}

# Runs a command under /usr/bin/time and writes "<wall seconds> <peak RSS KiB>" to `out`.
# The command's own output goes where the caller sends it; its exit status is returned.
measure() {
    local out=$1
    shift
    [ -x /usr/bin/time ] || die "/usr/bin/time is missing: run scripts/setup.sh (package time)"
    /usr/bin/time -f '%e %M' -o "$out" "$@"
}

# Wall seconds and peak RSS (MiB) from a file `measure` wrote (its last line: /usr/bin/time
# puts a note about a failed command before it).
measured_wall() { tail -n 1 "$1" | cut -d' ' -f1; }
measured_rss_mib() { tail -n 1 "$1" | awk '{printf "%d", $2 / 1024}'; }

# Fails with a hint unless the release binary exists.
require_binary() {
    [ -x "$CLIPFORGE_BIN" ] || die "no clipforge binary at $CLIPFORGE_BIN: run scripts/setup.sh --build"
}

# Prints the comment block at the top of the running script (its usage).
usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}
