# plugins/i2p/i2p/testdata/i2p-only.hcl,
# as it was before its identical level blocks were merged into ranges.
# TestMergedTestPolicies checks that the merged file means exactly this;
# do not edit one without the other.
#
# Test policy: I2P is the network for everything (the hosts of the two-host
# test have no other transport). Used by the two-host test over I2P.
default_level = "LOW"

level "LOW" {
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

level "MEDIUM" {
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

level "HIGH" {
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

level "VERYHIGH" {
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

level "EXTREME" {
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

level "NEO" {
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
