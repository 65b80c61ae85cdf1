# plugins/tor/tor/testdata/tor-only.hcl,
# as it was before its identical level blocks were merged into ranges.
# TestMergedTestPolicies checks that the merged file means exactly this;
# do not edit one without the other.
#
# Test policy: Tor is the network for everything (the default policy only
# uses Tor as a tunnel to an I2P-capable peer for P2P, and these hosts have no
# I2P). Used by the two-host test over onion services.
default_level = "LOW"

level "LOW" {
  budget = "wide"
  web {
    step "tor" {}
    on_failure = "site_down"
  }
  p2p {
    step "tor" {}
    on_failure = "queue"
  }
}

level "MEDIUM" {
  budget = "wide"
  web {
    step "tor" {}
    on_failure = "site_down"
  }
  p2p {
    step "tor" {}
    on_failure = "queue"
  }
}

level "HIGH" {
  budget = "wide"
  web {
    step "tor" {}
    on_failure = "site_down"
  }
  p2p {
    step "tor" {}
    on_failure = "queue"
  }
}

level "VERYHIGH" {
  budget = "wide"
  web {
    step "tor" {}
    on_failure = "site_down"
  }
  p2p {
    step "tor" {}
    on_failure = "queue"
  }
}

level "EXTREME" {
  budget = "wide"
  web {
    step "tor" {}
    on_failure = "site_down"
  }
  p2p {
    step "tor" {}
    on_failure = "queue"
  }
}

level "NEO" {
  budget = "wide"
  web {
    step "tor" {}
    on_failure = "site_down"
  }
  p2p {
    step "tor" {}
    on_failure = "queue"
  }
}
