#!/usr/bin/env bash
# Provision a Swift 6 toolchain on a Debian 12 (bookworm) machine: no registry ships Swift for
# bookworm, but Debian 13 (trixie) packages it as `swiftlang`. Installing it into the host would
# pull in a newer glibc, so it goes into a trixie root of its own (debootstrap) that is used
# through `chroot`.
#
# Usage (as root):  bindings/swift/provision-swift.sh
#   EDGESAM_SWIFT_ROOT    where the trixie root lives (default /var/cache/edgesam-swift-root);
#                         keep it OUTSIDE the repository, it is ~2 GB and reused between runs.
#   EDGESAM_DEBIAN_MIRROR Debian mirror to use (default: the first `URIs:` line of
#                         /etc/apt/sources.list.d/debian.sources, i.e. the mirror the host uses).
#
# Idempotent: does nothing if "$ROOT/usr/bin/swiftc" already exists. A debootstrap that was
# interrupted half-way is detected and started again from scratch.
set -euo pipefail

ROOT="${EDGESAM_SWIFT_ROOT:-/var/cache/edgesam-swift-root}"
SUITE=trixie

log() { printf 'provision-swift: %s\n' "$*" >&2; }

if [[ -x "$ROOT/usr/bin/swiftc" ]]; then
    log "Swift already provisioned in $ROOT"
    exit 0
fi

if [[ $EUID -ne 0 ]]; then
    log "must run as root (debootstrap and chroot need it)"
    exit 1
fi

case "$ROOT" in
    /) log "refusing to use / as the Swift root"; exit 1 ;;
    /*) ;;
    *) log "EDGESAM_SWIFT_ROOT must be an absolute path (got '$ROOT')"; exit 1 ;;
esac

# Serialise concurrent provisioning runs (two test runs started at once).
mkdir -p "$(dirname "$ROOT")"
exec 9>"$ROOT.lock"
flock 9
if [[ -x "$ROOT/usr/bin/swiftc" ]]; then
    log "Swift was provisioned in $ROOT by a concurrent run"
    exit 0
fi

find_mirror() {
    if [[ -n "${EDGESAM_DEBIAN_MIRROR:-}" ]]; then
        printf '%s\n' "$EDGESAM_DEBIAN_MIRROR"
        return
    fi
    local src=/etc/apt/sources.list.d/debian.sources uri=""
    if [[ -r $src ]]; then
        # The first URIs: line is the main archive (later ones are e.g. debian-security).
        uri=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$src" | head -n 1)
    fi
    if [[ -z $uri && -r /etc/apt/sources.list ]]; then
        uri=$(awk '$1 == "deb" && $2 !~ /^\[/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list)
    fi
    printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}
MIRROR=$(find_mirror)
MIRROR=${MIRROR%/}
log "root: $ROOT, mirror: $MIRROR"

export DEBIAN_FRONTEND=noninteractive

if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap on the host"
    apt-get update
    apt-get install -y debootstrap
fi

# debootstrap leaves "$ROOT/debootstrap" behind until it finishes successfully, and we write a
# marker of our own after it returns.
DONE_MARK="$ROOT/.edgesam-debootstrap-done"
if [[ ! -f $DONE_MARK || -d "$ROOT/debootstrap" ]]; then
    if [[ -e $ROOT ]]; then
        # Never delete through a mount point (a test run may have bind-mounted things inside).
        if awk -v r="$ROOT" '$2 == r || index($2, r "/") == 1 { found = 1 } END { exit !found }' /proc/mounts; then
            log "$ROOT holds mounts (see /proc/mounts); unmount them before provisioning again"
            exit 1
        fi
        log "removing incomplete root $ROOT"
        rm -rf --one-file-system "$ROOT"
    fi
    log "debootstrap --variant=minbase $SUITE (this downloads the base system)"
    debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR"
    touch "$DONE_MARK"
fi

log "installing swiftlang and libc6-dev inside the root (about 2 GB, takes minutes)"
printf 'deb %s %s main\n' "$MIRROR" "$SUITE" >"$ROOT/etc/apt/sources.list"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get update
chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get install -y swiftlang libc6-dev
chroot "$ROOT" apt-get clean

if [[ ! -x "$ROOT/usr/bin/swiftc" ]]; then
    log "swiftlang installed but $ROOT/usr/bin/swiftc is missing"
    exit 1
fi
log "done: $ROOT/usr/bin/swiftc"
