# Test policy for the web proxy over I2P: every web request, at every level,
# goes out as a stream through the i2p plugin (a SAM STREAM CONNECT from the
# node's destination), so .i2p sites are reached inside I2P. Used by
# TestWebProxyOverI2P, whose host has no other network.
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
