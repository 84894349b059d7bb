#!/bin/sh
# Give the example node roots the file modes they have on a real node.
#
# git stores only the executable bit, so after a clone every credential file is 0644 (or 0664) and
# `multusctl check` would rightly report kubeconfig-permissions on the healthy examples. This resets
# dirs to 0755, files to 0644 (0755 when executable), then applies modes.txt. It also makes the empty FHS
# directories every real node has (git keeps no empty directory), which `check --all-nodes` mounts.
#
#   sh examples/prepare.sh            # in place
#   sh examples/prepare.sh DIR        # on a copy of examples/ (tests use this)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-$here}
for d in k3s-server-healthy k3s-agent-seed kubeadm-thick; do
    [ -d "$dest/$d" ] || continue
    mkdir -p "$dest/$d/etc" "$dest/$d/opt" "$dest/$d/usr" "$dest/$d/var/lib"
    find "$dest/$d" -type d -exec chmod 0755 {} +
    find "$dest/$d" -type f -perm -u+x -exec chmod 0755 {} +
    find "$dest/$d" -type f ! -perm -u+x -exec chmod 0644 {} +
done
grep -v '^[[:space:]]*\(#\|$\)' "$here/modes.txt" | while read -r mode path; do
    if [ -e "$dest/$path" ]; then chmod "$mode" "$dest/$path"; fi
done
