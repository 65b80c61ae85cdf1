#!/usr/bin/env bash
# install-i2pd.sh: build i2pd 2.56.0 from Debian trixie's source package and install the
# binary once to /opt/onemfive/i2pd/bin/i2pd.
#
# Why: Debian 12 ships i2pd 2.45.1, whose NTCP2/SSU2 code refuses peers on 127.0.0.0/8, so
# it cannot form the project's private loopback network; 2.51 fixed that. Debian trixie
# carries 2.56.0 as a source package, buildable on bookworm with bookworm's own libraries.
#
# Idempotent: when the fixed path already holds an i2pd whose --version reports >= 2.51
# it does nothing. Needs root (apt, /opt). Build dependencies are installed only when
# missing. The trixie deb-src line lives in a private apt directory under the build dir,
# so the system's apt sources and lists are left untouched.
set -euo pipefail

PREFIX=${I2PD_PREFIX:-/opt/onemfive/i2pd}
BIN="$PREFIX/bin/i2pd"
VERSION=2.56.0
DEBVER=2.56.0-1
MIN=2.51
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
WORK=${I2PD_BUILD_DIR:-/var/tmp/onemfive-i2pd-build}

log() { echo "install-i2pd: $*" >&2; }

# version_of prints the x.y.z version an i2pd binary reports, or nothing.
version_of() {
	"$1" --version 2>/dev/null | sed -n 's/.*i2pd version \([0-9][0-9.]*\).*/\1/p' | head -n1
}

# at_least A B: true when version A >= B.
at_least() {
	[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

if [ -x "$BIN" ]; then
	have=$(version_of "$BIN")
	if [ -n "$have" ] && at_least "$have" "$MIN"; then
		log "$BIN is i2pd $have (>= $MIN), nothing to do"
		exit 0
	fi
	log "$BIN reports version '${have:-unknown}', below $MIN: rebuilding"
fi

if [ "$(id -u)" -ne 0 ]; then
	log "must run as root (installs build dependencies and writes $PREFIX)"
	exit 1
fi

DEPS=(dpkg-dev build-essential cmake libboost-program-options-dev libboost-filesystem-dev
	libboost-system-dev libboost-date-time-dev libssl-dev zlib1g-dev)
missing=()
for p in "${DEPS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ "${#missing[@]}" -gt 0 ]; then
	log "installing build dependencies: ${missing[*]}"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/sources.list.d" "$WORK/src"
echo "deb-src $MIRROR trixie main" >"$WORK/apt/sources.list"
APTOPTS=(-o "Dir::Etc::SourceList=$WORK/apt/sources.list"
	-o "Dir::Etc::SourceParts=$WORK/apt/sources.list.d"
	-o "Dir::State::Lists=$WORK/apt/lists")

cd "$WORK/src"
if [ ! -d "i2pd-$VERSION" ]; then
	log "fetching i2pd $DEBVER source from trixie"
	apt-get "${APTOPTS[@]}" update
	apt-get "${APTOPTS[@]}" source --download-only "i2pd=$DEBVER"
	dpkg-source -x "i2pd_$DEBVER.dsc" "i2pd-$VERSION"
fi

log "building i2pd $VERSION (several minutes)"
cmake -S "i2pd-$VERSION/build" -B out -DCMAKE_BUILD_TYPE=Release -DWITH_UPNP=OFF >/dev/null
make -C out -j"$(nproc)" i2pd

install -D -m 0755 out/i2pd "$BIN"
have=$(version_of "$BIN")
if [ -z "$have" ] || ! at_least "$have" "$MIN"; then
	log "built binary reports version '${have:-unknown}', expected >= $MIN"
	exit 1
fi
log "installed i2pd $have at $BIN"
