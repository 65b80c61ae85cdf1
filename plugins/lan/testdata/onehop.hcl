# Test policy for a 1DN mesh of four nodes: every level sends P2P traffic
# over the lan network with one onion relay before the gateway, since a
# node in the mesh knows only two or three relays.
default_level = "HIGH"

ratchet {
  decay_after = "1h"
}

level "LOW..NEO" {
  budget = "wide"
  web {
    step "lan" {}
    on_failure = "site_down"
  }
  p2p {
    hops = 1
    step "lan" {}
    on_failure = "queue"
  }
}
