# Test policy for relayed web requests: at every level a web request goes
# through a peer that has the direct transport, which fetches (the default
# policy's HIGH step, "a peer with Tor reached over I2P", with the direct
# transport standing in for both networks).
default_level = "HIGH"

level "LOW..NEO" {
  budget = "wide"
  web {
    step "direct" {
      via { peer_has = ["direct"] }
    }
    on_failure = "site_down"
  }
  p2p {
    step "direct" {}
    on_failure = "queue"
  }
}
