#!/usr/bin/env bash
# Builds what the scenarios run into build/bench/ (gitignored): the C helpers,
# and the bare Node 24 SEAs (the hello-world init, and the same forwarding
# SIGTERM) made exactly the way the Makefile makes dist/boxinit (blob with
# code cache, copied runtime, strip, postject).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SEA_FUSE=NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2

mkdir -p "$BUILD"

# Static, like the test fixtures: the children's own start-up then costs the
# same few microseconds under every init and no dynamic loader is measured.
for source in "$BENCH"/*.c; do
  out="$BUILD/$(basename "$source" .c)"
  if [[ ! -x $out || $source -nt $out || $BENCH/bench-util.h -nt $out ]]; then
    gcc -O2 -Wall -Wextra -Werror -static -o "$out" "$source"
  fi
done

# A Node program built into a SEA the way the Makefile builds dist/boxinit:
# build_sea SOURCE.cjs OUTPUT.
build_sea() {
  local source=$1 out=$2 name
  name=$(basename "$out")
  if [[ -x $out && ! $source -nt $out && ! $NODE24 -nt $out ]]; then return; fi
  # The config the brief fixes, and nothing else: no execArgv, no assets.
  cat >"$BUILD/$name-sea-config.json" <<JSON
{
  "main": "$source",
  "output": "$BUILD/$name.blob",
  "disableExperimentalSEAWarning": true,
  "useCodeCache": true,
  "execArgvExtension": "none"
}
JSON
  # Node prints "Wrote single executable preparation blob" on stderr; keep it for errors only.
  if ! "$NODE24" --experimental-sea-config "$BUILD/$name-sea-config.json" >"$BUILD/$name-sea.log" 2>&1; then
    cat "$BUILD/$name-sea.log" >&2
    exit 1
  fi
  cp "$NODE24" "$out.tmp"
  strip "$out.tmp"
  # postject's warning about .note.100 is harmless (see PLATFORM.md).
  postject "$out.tmp" NODE_SEA_BLOB "$BUILD/$name.blob" --sentinel-fuse "$SEA_FUSE" >/dev/null 2>&1
  mv "$out.tmp" "$out"
}

build_sea "$BENCH/hello-init.cjs" "$HELLO_SEA"
# Scenario 11's Node anchor: hello-init that also forwards SIGTERM.
build_sea "$BENCH/forward-init.cjs" "$FORWARD_SEA"

# boxinit without boxinit.node beside it: a hard link (no 109 MB copy), so it
# is always the current dist/boxinit.
mkdir -p "$BUILD/embedded"
ln -f "$BOXINIT" "$BUILD/embedded/boxinit"
