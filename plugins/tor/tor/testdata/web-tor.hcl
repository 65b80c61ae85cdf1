# Test policy for the web proxy over Tor: every web request, at every level,
# goes out as a stream through the tor plugin (tor's SOCKS port), so onion
# sites are reached as onion services. Used by TestWebProxyOverTor, whose
# host has no other network.
default_level = "LOW"

level "LOW..NEO" {
  budget = "wide"
  web {
    step "tor" {}
    on_failure = "site_down"
  }
  p2p {
    step "tor" {}
    on_failure = "queue"
  }
}
