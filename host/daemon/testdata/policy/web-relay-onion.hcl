# Test policy for relayed web requests over onion hops: the default
# policy's HIGH web step (one onemfive relay, then a peer that has the
# network and fetches), with the direct transport standing in for I2P and
# Tor.
default_level = "HIGH"

level "LOW..NEO" {
  budget = "wide"
  web {
    hops = 1
    step "direct" {
      via { peer_has = ["direct"] }
    }
    on_failure = "site_down"
  }
  p2p {
    hops = 1
    step "direct" {}
    on_failure = "queue"
  }
}
