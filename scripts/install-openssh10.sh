#!/usr/bin/env bash
# Unpacks OpenSSH 10.0 from Debian's bookworm-backports beside the system OpenSSH, into
# .openssh10/ (git-ignored), so the interop tests can run against two OpenSSH generations.
# Needs root for apt (adds the backports suite to apt's sources if it is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.openssh10
if [ -x "$dest/usr/sbin/sshd" ] && [ -x "$dest/usr/bin/ssh" ]; then
  echo "OpenSSH 10 already in $dest"; exit 0
fi
policy=$(apt-cache policy openssh-client 2>/dev/null || true)
if [[ "$policy" != *bookworm-backports* ]]; then
  cat > /etc/apt/sources.list.d/gatehouse-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt-get update -qq
fi
tmp=$(mktemp -d)
chmod 777 "$tmp"
(cd "$tmp" && apt-get download -qq -t bookworm-backports openssh-client openssh-server openssh-sftp-server)
mkdir -p "$dest"
for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$dest"; done
rm -rf "$tmp"
"$dest/usr/bin/ssh" -V
