#!/usr/bin/env bash
# Installs the MongoDB-wire test server (SecantusDB, from PyPI) into .venv/secantus.
# Why SecantusDB and which version: docs/testing.md. Idempotent: re-running is cheap.
set -euo pipefail
cd "$(dirname "$0")/../.."

SECANTUS_VERSION="0.7.0b3"
VENV=".venv/secantus"
PYTHON="${PYTHON:-python3}"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(0 if m.version('secantusdb') == '$SECANTUS_VERSION' else 1)" 2>/dev/null; then
  echo "secantusdb $SECANTUS_VERSION already installed in $VENV"
  exit 0
fi

"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "secantusdb==$SECANTUS_VERSION"
echo "installed secantusdb $("$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('secantusdb'))") into $VENV"
