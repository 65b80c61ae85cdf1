# Test policy: "veil" is this test's only anonymous network. LOW and MEDIUM
# send over it; a block on it escalates to HIGH, where P2P goes over 1DN
# (direct) only. Web keeps using veil up to VERYHIGH, and 1DN above.
default_level = "LOW"

ratchet {
  decay_after = "1h"
}

network "veil" {
  classes = ["anonymous"]
}

escalate {
  when_blocked = ["veil"]
  to           = "HIGH"
}

level "LOW..MEDIUM" {
  budget = "wide"
  web {
    step "veil" {}
    on_failure = "site_down"
  }
  p2p {
    step "anonymous" {}
    on_failure = "queue"
  }
}

level "HIGH..VERYHIGH" {
  budget = "wide"
  web {
    step "veil" {}
    on_failure = "site_down"
  }
  p2p {
    step "1dn" {}
    on_failure = "queue"
  }
}

level "EXTREME..NEO" {
  budget = "wide"
  web {
    step "1dn" {}
    on_failure = "site_down"
  }
  p2p {
    step "1dn" {}
    on_failure = "queue"
  }
}
