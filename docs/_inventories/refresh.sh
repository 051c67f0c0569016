#!/usr/bin/env bash
# Refresh the intersphinx inventories shipped beside this script.
#
# The docs build offline (CI has no network beyond package registries), so
# intersphinx reads these files instead of fetching objects.inv from the web.
# They are the real inventories of Debian's documentation packages; this
# script downloads those packages with apt and copies the objects.inv out.
# Needs apt (as root: run `apt-get update` once first).  NumPy and Matplotlib
# have no documentation package in Debian, so there is nothing to ship for them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download python3.11-doc python-sympy-doc python-hypothesis-doc
for deb in *.deb; do dpkg-deb -x "$deb" tree; done
cp tree/usr/share/doc/python3.11/html/objects.inv "$here/python.inv"
cp tree/usr/share/doc/python-sympy-doc/html/objects.inv "$here/sympy.inv"
cp tree/usr/share/doc/python-hypothesis-doc/html/objects.inv "$here/hypothesis.inv"
for inv in "$here"/*.inv; do printf '%s: ' "$(basename "$inv")"; sed -n 3p "$inv"; done
