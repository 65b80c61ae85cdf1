# Test policy for a chain of relay peers (the default policy's NEO web
# rule: a local peer, then another peer over I2P with long delays, which
# fetches over Tor), with the direct transport standing in for every
# network and a short delay.
default_level = "NEO"

level "LOW..NEO" {
  budget = "wide"
  web {
    step "direct" {
      via { peer_has = ["direct"] }
      via {
        network  = "direct"
        peer_has = ["direct"]
        delay    = "1s..2s"
      }
    }
    on_failure = "site_down"
  }
  p2p {
    step "direct" {}
    on_failure = "queue"
  }
}
