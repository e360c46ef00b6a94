#!/usr/bin/env bash
# The main job on the shipped defaults: detect and crop the faces in the sample group
# photos, writing annotated images and 160 px crops to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent build >/dev/null
node dist/cli.js detect "${TFJS_FACENET_SHARED:-../shared}/data/samples/groups" \
  --annotate out/annotated --crops out/crops
echo "annotated images: out/annotated, face crops: out/crops" >&2
