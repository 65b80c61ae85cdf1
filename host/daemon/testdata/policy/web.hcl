# Test policy for the web proxy: at LOW and MEDIUM web requests are fetched
# over the direct transport (the only network of the test host; real
# deployments use Tor and I2P here); from HIGH up they go through a relay
# peer with Tor, which the proxy cannot do yet, so it answers 502.
default_level = "LOW"

level "LOW..MEDIUM" {
  budget = "wide"
  web {
    match      = ["*.onion"]
    step "tor" {}
    on_failure = "site_down"
  }
  web {
    step "direct" {}
    on_failure = "site_down"
  }
  p2p {
    step "direct" {}
    on_failure = "queue"
  }
}

level "HIGH..NEO" {
  budget = "wide"
  web {
    step "direct" {
      via { peer_has = ["tor"] }
    }
    on_failure = "site_down"
  }
  p2p {
    step "direct" {}
    on_failure = "queue"
  }
}
