#!/usr/bin/env bash
# Make sure the lab's base image exists.
#
#   lab/base/build-base-image.sh [IMAGE]        (default: debian:trixie-slim)
#
# 1. Already present locally  -> nothing to do.
# 2. `docker pull` works       -> use the registry's image (what users' laptops do).
# 3. No registry reachable     -> build an equivalent minimal image with debootstrap from the
#                                 Debian mirror this machine's apt already uses, then
#                                 `docker import` it under the same name.
# Needs root for debootstrap. The mirror can be forced with DEBIAN_MIRROR=...
set -euo pipefail

image="${1:-debian:trixie-slim}"
suite="${BASE_SUITE:-$(printf '%s' "$image" | sed -E 's/^debian:([a-z]+).*/\1/')}"

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "base image $image: present"
  exit 0
fi

if timeout 60 docker pull "$image" >/dev/null 2>&1; then
  echo "base image $image: pulled"
  exit 0
fi

# The mirror: the first deb URI apt is configured with on this machine (deb822 or one-line format).
mirror="${DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror=$( (grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security;
             grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v security) | head -n 1 || true)
fi
if [ -z "$mirror" ]; then
  echo "build-base-image: no Debian mirror found in apt's sources; set DEBIAN_MIRROR" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }

work=$(mktemp -d /tmp/moodle-lab-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "base image $image: no registry; debootstrap $suite from the configured mirror (a few minutes)"
debootstrap --variant=minbase --include=ca-certificates "$suite" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}
# What the official slim images do: no docs, no apt caches kept, apt sources in deb822 form.
rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
mkdir -p "$work/root/etc/dpkg/dpkg.cfg.d"
printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\npath-include /usr/share/doc/*/copyright\n' \
  >"$work/root/etc/dpkg/dpkg.cfg.d/docker-slim"
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$work/root/etc/apt/apt.conf.d/90-slim"
rm -f "$work/root/etc/apt/sources.list"
cat >"$work/root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
tar -C "$work/root" -c . | docker import -c 'CMD ["bash"]' - "$image" >/dev/null
echo "base image $image: built with debootstrap"
