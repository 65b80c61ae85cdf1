# host/daemon/testdata/policy/veil.hcl,
# as it was before its identical level blocks were merged into ranges.
# TestMergedTestPolicies checks that the merged file means exactly this;
# do not edit one without the other.
#
# Test policy: "veil" is this test's only anonymous network. LOW and MEDIUM
# send over it; a block on it escalates to HIGH, where only 1DN (direct) is
# used.
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

level "LOW" {
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

level "MEDIUM" {
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

level "HIGH" {
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

level "VERYHIGH" {
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

level "EXTREME" {
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

level "NEO" {
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
