# onemfive default ManCon policy: DESIGN.md's table, level by level.
#
# A level block covers one level, level "HIGH", or a range of levels that
# route alike, level "LOW..HIGH" (levels rise LOW, MEDIUM, HIGH, VERYHIGH,
# EXTREME, NEO). Each level is defined once, alone or in one range; in this
# file no two levels route alike, so each has its own block.
#
# A level holds web and p2p blocks, tried in file order; the first whose
# match fits the destination host is used, and the last one has no match.
# Steps run in order: a step is skipped when its network is blocked or
# absent, or when no peer it must go through is known; when every step
# failed, on_failure actions run in order.
#
#   hops          onemfive onion relays before the network hop ("1..3" ok);
#                 a web step with hops and no via ends at an exit: a peer
#                 with the step's network fetches after the hops
#   delay         random delay each relay holds a packet ("4s..10s")
#   hold          onion-layer store-and-forward delay ("0s..90d")
#   copies        copies of the message sent ("3..12" ok)
#   hop_networks  networks the onion hops pick from at random
#   via { }       a peer the step goes through; the last one fetches (web)
#                 or delivers (p2p). peer_has, peer_mancon_below, network,
#                 delay, discover (allowed before any such peer is known).
#   budget        expected latency, "wide" for none
#
# Networks: i2p, tor, lan, https, direct. Classes: anonymous (i2p, tor),
# clearnet (https, direct), 1dn (lan, direct).

default_level = "HIGH" # P2P default, and web when nothing sets a level

ratchet {
  decay_after = "6h" # verified success needed before stepping down a level
}

# What blocks imply: while they last, the effective level is at least `to`.
escalate {
  # LOW and MEDIUM fetch the web over Tor; HIGH is the first level that
  # reaches a Tor-capable peer over I2P instead.
  when_blocked = ["tor"]
  to           = "HIGH"
}

escalate {
  # "I2P is getting attacked": VERYHIGH falls back to Tor tunnels and 1DN.
  when_blocked = ["i2p"]
  to           = "VERYHIGH"
}

escalate {
  # Tor and I2P both blocked: the internet is as good as gone; only 1DN.
  when_blocked = ["tor", "i2p"]
  to           = "EXTREME"
}

level "LOW" {
  budget = "500ms..2s"

  web {
    match      = ["*.i2p"]
    step "i2p" {}
    on_failure = "site_down"
  }
  web {
    match      = ["*.onion"]
    step "tor" {}
    on_failure = "site_down"
  }
  web {
    step "tor" {}
    on_failure = "site_down"
  }

  p2p {
    hops = 2
    step "i2p" {}
    step "tor" {
      via { peer_has = ["i2p"] } # Tor as a tunnel to an I2P-capable peer
    }
    step "1dn" {
      via { discover = true } # local peers assist
    }
    on_failure = "queue"
  }
}

level "MEDIUM" {
  budget = "500ms..4s"

  web {
    # Not in the table: a Tor exit cannot reach .i2p, so .i2p stays on I2P.
    match      = ["*.i2p"]
    step "i2p" {}
    on_failure = "site_down"
  }
  web {
    step "tor" {}
    # Forward to peers until one can fetch; the result comes back directly.
    on_failure = ["relay_via_peers", "site_down"]
  }

  p2p { # as LOW
    hops = 2
    step "i2p" {}
    step "tor" {
      via { peer_has = ["i2p"] }
    }
    step "1dn" {
      via { discover = true }
    }
    on_failure = "queue"
  }
}

level "HIGH" {
  budget = "4s..10s"

  web {
    match      = ["*.i2p"]
    hops       = 1
    step "i2p" {}
    on_failure = "site_down"
  }
  web {
    hops = 1
    step "i2p" {
      via { peer_has = ["tor"] } # a onemfive peer with Tor fetches
    }
    on_failure = "site_down"
  }

  p2p { # as LOW
    hops = 2
    step "i2p" {}
    step "tor" {
      via { peer_has = ["i2p"] }
    }
    step "1dn" {
      via { discover = true }
    }
    on_failure = "queue"
  }
}

level "VERYHIGH" {
  budget = "6s..16s"

  web {
    match      = ["*.i2p"]
    hops       = 2
    delay      = "4s..10s"
    step "i2p" {}
    on_failure = "site_down"
  }
  web {
    hops  = 2
    delay = "4s..10s"
    step "i2p" {
      via {
        peer_has          = ["tor"]
        peer_mancon_below = "VERYHIGH"
      }
    }
    step "tor" { # I2P blocked, Tor not: tunnel to the same kind of peer
      via {
        peer_has          = ["tor"]
        peer_mancon_below = "VERYHIGH"
      }
    }
    step "1dn" { # I2P and Tor both blocked: find such a peer locally
      via {
        peer_has          = ["tor"]
        peer_mancon_below = "VERYHIGH"
        discover          = true
      }
    }
    on_failure = "site_down"
  }

  p2p {
    hops = 2
    step "i2p" {
      delay = "4s..10s"
    }
    step "tor" {
      via { peer_has = ["i2p"] }
    }
    step "1dn" {
      via { discover = true }
    }
    on_failure = "queue"
  }
}

level "EXTREME" {
  budget = "wide"

  web {
    match = ["*.i2p"]
    hops  = 2
    step "1dn" {
      via {
        peer_has = ["i2p"]
        discover = true
      }
    }
    on_failure = "queue"
  }
  web {
    hops = 2
    step "1dn" {
      via {
        peer_has          = ["tor"]
        peer_mancon_below = "EXTREME"
        discover          = true
      }
    }
    on_failure = "queue" # only asynchronous requests are plausible here
  }

  p2p {
    hops = 3
    step "1dn" {
      via { # 1DN peers until one with I2P can route
        peer_has = ["i2p"]
        discover = true
      }
    }
    on_failure = "queue"
  }
}

level "NEO" {
  budget = "wide"

  web {
    match = ["*.i2p"]
    hops  = 3
    step "1dn" {
      via { discover = true }
      via {
        network  = "i2p"
        peer_has = ["i2p"]
        delay    = "30s..90s"
      }
    }
    on_failure = "queue"
  }
  web {
    hops = 3
    step "1dn" {
      via { discover = true } # a local peer ...
      via {                   # ... asks another over I2P with long delays ...
        network  = "i2p"
        peer_has = ["tor"]
        delay    = "30s..90s"
      }                       # ... which makes the request over Tor
    }
    on_failure = "queue"
  }

  # The 12-word mnemonic being the only key is the keychain's business.
  p2p {
    hops         = "3..6"
    hop_networks = ["1dn", "i2p"]
    delay        = "0s..90s"
    hold         = "0s..90d"
    copies       = "3..12"
    step "1dn" {
      via { discover = true }
    }
    on_failure = "queue"
  }
}
