# Test policy for on_failure relay_via_peers (the default policy's MEDIUM
# web rule): the node fetches over Tor, which the test host lacks, so the
# request goes to a peer that can fetch, and the answer comes back directly.
default_level = "MEDIUM"

level "LOW..NEO" {
  budget = "wide"
  web {
    step "tor" {}
    on_failure = ["relay_via_peers", "site_down"]
  }
  p2p {
    step "direct" {}
    on_failure = "queue"
  }
}
