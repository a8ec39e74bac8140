#!/usr/bin/env bash
# System packages the build needs: librdkafka's headers (the Kafka module links the system
# librdkafka 2.0.2) and SQLite's. Idempotent: apt-get runs only when one is missing.
# Usage: bash scripts/deps.sh   (as root, or with sudo available)
set -euo pipefail
missing=()
for package in librdkafka-dev libsqlite3-dev pkg-config; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
