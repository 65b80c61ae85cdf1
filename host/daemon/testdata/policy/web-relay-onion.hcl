# Test policy for relayed web requests over onion hops: the default
# policy's HIGH web step (one onemfive relay, then a peer that has the
# network and fetches), with the direct transport standing in for I2P and
# Tor. From VERYHIGH up the step names no peer: the policy adds an exit, a
# peer with the step's network (the default policy's .i2p rules).
default_level = "HIGH"

level "LOW..HIGH" {
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

level "VERYHIGH..NEO" {
  budget = "wide"
  web {
    hops = 1
    step "direct" {}
    on_failure = "site_down"
  }
  p2p {
    hops = 1
    step "direct" {}
    on_failure = "queue"
  }
}
