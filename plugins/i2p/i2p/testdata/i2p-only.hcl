# Test policy: I2P is the network for everything, at every level (the hosts
# of the two-host test have no other transport). Used by the two-host test
# over I2P.
default_level = "LOW"

level "LOW..NEO" {
  budget = "wide"
  web {
    step "i2p" {}
    on_failure = "site_down"
  }
  p2p {
    step "i2p" {}
    on_failure = "queue"
  }
}
