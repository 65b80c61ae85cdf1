# Test policy: Tor is the network for everything, at every level (the default
# policy only uses Tor as a tunnel to an I2P-capable peer for P2P, and these
# hosts have no I2P). Used by the two-host test over onion services.
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
