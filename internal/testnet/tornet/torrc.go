package tornet

import (
	"fmt"
	"strings"
)

// Authority is what every node needs to know about the directory
// authority: its addresses and fingerprints.
type Authority struct {
	Nickname string
	ORPort   int
	DirPort  int
	V3Ident  string // fingerprint of the authority's v3 identity certificate
	RSAFP    string // RSA identity fingerprint, 40 hex digits
}

// DirAuthorityLine is the torrc line naming a.
func (a Authority) DirAuthorityLine() string {
	return fmt.Sprintf("DirAuthority %s orport=%d no-v2 v3ident=%s 127.0.0.1:%d %s",
		a.Nickname, a.ORPort, a.V3Ident, a.DirPort, a.RSAFP)
}

// commonLines are in every torrc of the network, clients included: the
// testing-network switches and the fast voting schedule (lower values are
// rejected by tor as insanely low).
func commonLines(auths []Authority) []string {
	l := []string{
		"TestingTorNetwork 1",
		"AssumeReachable 1",
		"PathsNeededToBuildCircuits 0.25",
		"TestingDirAuthVoteGuard *",
		"TestingDirAuthVoteExit *",
		"TestingDirAuthVoteHSDir *",
		"V3AuthNIntervalsValid 2",
		"TestingV3AuthInitialVotingInterval 5",
		"TestingV3AuthInitialVoteDelay 2",
		"TestingV3AuthInitialDistDelay 2",
		"V3AuthVotingInterval 10",
		"V3AuthVoteDelay 2",
		"V3AuthDistDelay 2",
		"TestingV3AuthVotingStartOffset 0",
		"ClientUseIPv6 0",
		"Sandbox 0",
		"ShutdownWaitLength 0",
	}
	for _, a := range auths {
		l = append(l, a.DirAuthorityLine())
	}
	return l
}

// relayLines are a relay's own lines: loopback only, no SOCKS, no exit.
func relayLines(dataDir, nick string, orPort int) []string {
	return []string{
		"DataDirectory " + dataDir,
		"Nickname " + nick,
		"Address 127.0.0.1",
		fmt.Sprintf("ORPort 127.0.0.1:%d", orPort),
		"SocksPort 0",
		"ExitRelay 0",
		"ExitPolicy reject *:*",
		"TestingMinExitFlagThreshold 0",
		"TestingMinFastFlagThreshold 0",
		"Log notice file " + dataDir + "/notice.log",
		"RunAsDaemon 0",
	}
}

// AuthorityTorrc is the authority's torrc.
func AuthorityTorrc(auths []Authority, self Authority, dataDir string) string {
	l := append(commonLines(auths), relayLines(dataDir, self.Nickname, self.ORPort)...)
	l = append(l,
		fmt.Sprintf("DirPort 127.0.0.1:%d", self.DirPort),
		"AuthoritativeDirectory 1",
		"V3AuthoritativeDirectory 1",
	)
	return join(l)
}

// RelayTorrc is a middle relay's torrc.
func RelayTorrc(auths []Authority, dataDir, nick string, orPort int) string {
	return join(append(commonLines(auths), relayLines(dataDir, nick, orPort)...))
}

// BridgeTorrc is an unpublished obfs4 bridge's torrc.
func BridgeTorrc(auths []Authority, dataDir string, orPort, obfs4Port int, obfs4proxy string) string {
	l := append(commonLines(auths), relayLines(dataDir, "bridge", orPort)...)
	l = append(l,
		"BridgeRelay 1",
		"PublishServerDescriptor 0",
		"ServerTransportPlugin obfs4 exec "+obfs4proxy,
		fmt.Sprintf("ServerTransportListenAddr obfs4 127.0.0.1:%d", obfs4Port),
		"ExtORPort auto",
	)
	return join(l)
}

// ClientLines are the lines a tor client (such as the tor plugin's) needs
// to join the network. They name no data directory or ports: the client
// owns those.
func ClientLines(auths []Authority) []string {
	return append(commonLines(auths), "FetchDirInfoEarly 1")
}

// BridgeClientLines are extra client lines to reach the network only
// through the obfs4 bridge described by bridgeLine ("obfs4 127.0.0.1:P FP
// cert=... iat-mode=0").
func BridgeClientLines(bridgeLine, obfs4proxy string) []string {
	return []string{
		"UseBridges 1",
		"ClientTransportPlugin obfs4 exec " + obfs4proxy,
		"Bridge " + bridgeLine,
	}
}

func join(lines []string) string { return strings.Join(lines, "\n") + "\n" }

// PublicAuthorities returns the problems that would let a torrc reach the
// public Tor network: a DirAuthority (or AlternateDirAuthority) line whose
// address is not 127.0.0.1, no DirAuthority line at all (tor then uses its
// built-in public authorities), or TestingTorNetwork 1 missing. Nil means
// the torrc is private.
func PublicAuthorities(torrc string) []string {
	var bad []string
	auths, testing := 0, false
	for _, raw := range strings.Split(torrc, "\n") {
		f := strings.Fields(raw)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToLower(f[0]) {
		case "testingtornetwork":
			testing = len(f) == 2 && f[1] == "1"
		case "dirauthority", "alternatedirauthority", "alternatebridgeauthority":
			auths++
			local := false
			for _, w := range f[1:] {
				if strings.HasPrefix(w, "127.0.0.1:") {
					local = true
				}
			}
			if !local {
				bad = append(bad, "not on 127.0.0.1: "+strings.TrimSpace(raw))
			}
		case "fallbackdir":
			bad = append(bad, "fallback directory: "+strings.TrimSpace(raw))
		}
	}
	if auths == 0 {
		bad = append(bad, "no DirAuthority line: tor would use the public authorities")
	}
	if !testing {
		bad = append(bad, "TestingTorNetwork 1 missing")
	}
	return bad
}
