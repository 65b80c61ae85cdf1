# onemfive daemon configuration (HCL).
#
# This is the working default: `make run` starts
# `bin/onemfived --config config.hcl --data-dir data` from the repository root,
# and the same file is compiled into the daemon, which uses it when started
# without --config. So that it works from anywhere, it leaves data_dir and
# plugin_dir to their defaults (shown commented out below).
#
# Every key is optional. Each can also be set, in increasing order of
# precedence, by an environment variable or a command-line flag:
#
#   key          environment variable    flag
#   data_dir     ONEMFIVE_DATA_DIR       --data-dir
#   plugin_dir   ONEMFIVE_PLUGIN_DIR     --plugin-dir
#   mancon       ONEMFIVE_MANCON         --mancon
#   log_level    ONEMFIVE_LOG_LEVEL      --log-level
#   api.listen   ONEMFIVE_API_LISTEN     --api-listen
#
# Unknown keys and wrong types are errors, reported all at once with their
# file:line:col, so a typo never silently falls back to a default.

# Where the daemon keeps its state (peer directory, queues, keys of plugins).
# Relative paths are resolved against the directory of this file.
# Default when absent: $ONEMFIVE_HOME, or ~/.onemfive.
# data_dir = "data"

# Where installed plugins live: each is a binary onemfive-<kind>-<name> plus
# a manifest <name>.plugin.json with its sha256 (written by
# `onemfive plugin install`). Files without a manifest are never started.
# Relative to this file. Default when absent: "plugins" next to the daemon's
# executable, so bin/onemfived finds the bin/plugins that `make build` fills.
# plugin_dir = "bin/plugins"

# The base maneuvering condition: LOW, MEDIUM, HIGH, VERYHIGH, EXTREME or NEO.
# Higher levels route through stronger networks with more relays and longer
# delays. The effective level only ever ratchets up from here when transports
# detect blocking. Default: HIGH.
mancon = "HIGH"

# ManCon policy files (HCL; globs allowed), relative to this file. They say,
# per level and kind of traffic, which networks to try in which order, how
# many onion hops, what delays, and when blocks make the level climb.
# Edits are applied without a restart (also on SIGHUP); an invalid edit is
# refused with its file:line:col and the previous policy stays in force.
# Default when absent: the built-in policy (`onemfive policy default`).
# policies = ["policies/*.hcl"]

# trace, debug, info, warn or error. Default: info.
log_level = "info"

# The local API that applications on this machine use (HTTP+JSON, WebSocket).
api {
  # A loopback host:port. The API is for apps on this machine only; exposing
  # it would let anyone on the network send as you, so a non-loopback address
  # is refused unless you also set `allow_remote = true`.
  listen = "127.0.0.1:2018"
}

# The web proxy: point applications at it (HTTP_PROXY and HTTPS_PROXY, a
# browser's proxy setting, `curl -x`; `onemfive web url` prints the URL)
# and their web requests are routed by the ManCon policy's web rules: at
# LOW and MEDIUM, .onion and everything else over Tor and .i2p over I2P;
# from HIGH up through a onemfive peer that has Tor (reached over I2P, with
# onion hops), which fetches (some peer must set relay = true below). The
# password is the API token (api.cookie in the data dir); a user name that
# names a level (e.g. LOW) asks for that level, never below the node's.
#   curl -x "http://LOW:$(cat ~/.onemfive/api.cookie)@127.0.0.1:2019" http://example.onion/
# Loopback only. Without a web block there is no proxy.
web {
  listen = "127.0.0.1:2019"
  # dial_timeout = "60s"  # per route tried
  # Fetch for peers whose policy goes through a peer with a network this
  # node has (like a Tor exit: sites see this node's Tor exit, and plain
  # HTTP passes through it). Default false.
  # relay = true
  # The networks it dials for peers; the default keeps to Tor and I2P, so
  # peers cannot reach this machine or its local network through it.
  # relay_networks = ["tor", "i2p"]
}

# The onion layer. This node relays other nodes' onion packets (every one
# 2048 bytes on every link) and sends its own messages over onion paths when
# the ManCon policy asks for hops, so that no relay learns both who sends and
# who receives. Every key is optional; the values below are the defaults.
onion {
  enabled = true
  # Publish a lease set: peers that know only this node's id can reach it
  # through gateway relays without learning where it is.
  publish = true
  # While few relays are known, a message whose policy asks for hops goes
  # over a direct route instead (an event and a log line say so), but only
  # over tor or i2p, which hide this node's address anyway; false keeps
  # such messages queued until a path exists.
  fallback_direct = true
  # The same over direct, lan or https links, which show the destination
  # this node's IP address.
  fallback_clearnet = false
  # client_only = true          # never relay for others
  # guards = ["<node id>", ...] # the only first relays (like Tor's guards);
  #                             # default: one picked automatically, kept
  #                             # across restarts, replaced when it is down
  # lease_lifetime = "10m"
  # probe_interval = "5s"      # loop probes that find relays that are down
}

# One block per plugin. The host reads only `enabled` (default true); every
# other key in the block is handed, with its position in this file, to the
# plugin, which decodes and validates it itself. See plugins/<name>/README.md
# for each plugin's keys.
#
# "direct": direct TCP links between onemfive nodes (the 1DN transport).
# Its keys: listen, advertise, keepalive, dial_timeout, max_queue, tap_file.
plugin "direct" {
  # Where this node accepts links from peers.
  listen = "127.0.0.1:4018"
}
