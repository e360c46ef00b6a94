#!/usr/bin/env bash
# The main job on the shipped defaults: detect and crop the faces in the sample group
# photos (annotated images and 160 px crops in out/), then identify them against the
# sample people with the shipped default model (out/identify/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent build >/dev/null
node dist/cli.js detect "${TFJS_FACENET_SHARED:-../shared}/data/samples/groups" \
  --annotate out/annotated --crops out/crops
echo "annotated images: out/annotated, face crops: out/crops" >&2
node --import tsx examples/identify/main.ts
