#!/usr/bin/env bash
# Local development: the production config plus auto-reload on save and full error details.
set -euo pipefail
cd "$(dirname "$0")/.."
exec streamlit run app.py \
  --server.fileWatcherType auto --server.runOnSave true \
  --client.showErrorDetails full --client.toolbarMode developer "$@"
