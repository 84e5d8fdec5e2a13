#!/usr/bin/env bash
# The main job: until the trainer lands, run the C example on the committed random-weight model.
set -euo pipefail
cd "$(dirname "$0")/.."
build/bin/recommend Tests/Fixtures/tiny-random.lsrec
