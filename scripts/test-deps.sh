#!/usr/bin/env bash
# test-deps.sh: install what the real-component tests need when it is missing:
# tor and tor-gencert, obfs4proxy (Debian packages), and i2pd >= 2.51 (built once by
# install-i2pd.sh into /opt/onemfive/i2pd). `make test` runs it; so does .ci/run.
#
# As root it installs; otherwise it only says what is missing (the tests that need it
# then skip, each saying why). Installing tor must not start the system's tor service
# (it would reach for the public network), so service starts are refused meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v unshare >/dev/null || need+=(util-linux)
command -v ip >/dev/null || need+=(iproute2)
command -v tor >/dev/null || need+=(tor)
command -v tor-gencert >/dev/null || need+=(tor)
command -v obfs4proxy >/dev/null || need+=(obfs4proxy)

if [ "$(id -u)" -ne 0 ]; then
	if [ ${#need[@]} -gt 0 ]; then
		echo "test-deps: missing ${need[*]} (run as root to install); the tests that need them will skip" >&2
	fi
	exit 0
fi

if [ ${#need[@]} -gt 0 ]; then
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

# i2pd >= 2.51 for the I2P tests (Debian 12's 2.45 cannot run on loopback); a no-op when
# /opt/onemfive/i2pd/bin/i2pd is there and new enough.
bash scripts/install-i2pd.sh
