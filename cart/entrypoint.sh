#!/usr/bin/env bash
# Start the cart container; the steps shared by all six apps are in
# shared/docker/entrypoint.sh.
set -euo pipefail
export APP=cart
exec "$(dirname "$0")/../shared/docker/entrypoint.sh" "$@"
