#!/usr/bin/env bash
# Start the market container; the steps shared by all six apps are in
# shared/docker/entrypoint.sh.
set -euo pipefail
export APP=market
exec "$(dirname "$0")/../shared/docker/entrypoint.sh" "$@"
