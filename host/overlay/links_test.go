package overlay

import (
	"slices"
	"testing"
)

// TestLinkLabels: internet-wide networks keep their name; a link-scoped
// network gets one label per subnet, and an allowed "lan" expands to the
// labels in use.
func TestLinkLabels(t *testing.T) {
	got := linkLabels(map[string][]string{
		"direct": {"127.0.0.1:4018"},
		"lan":    {"10.77.0.3:4019", "10.78.0.1:4019", "10.77.0.9:4019", "[fe80::1]:4019", "bogus"},
	})
	want := []string{"direct", "lan@10.77.0.0/24", "lan@10.78.0.0/24", "lan@fe80::/64"}
	if !slices.Equal(got, want) {
		t.Fatalf("labels %q, want %q", got, want)
	}
	if e := expandNetworks([]string{"lan", "tor"}, got); !slices.Equal(e, []string{"lan@10.77.0.0/24", "lan@10.78.0.0/24", "lan@fe80::/64", "tor"}) {
		t.Fatalf("expanded %q", e)
	}
	if a := addrOnLink("lan", []string{"10.77.0.3:4019", "10.78.0.1:4019"}, []string{"lan@10.78.0.0/24"}); a != "10.78.0.1:4019" {
		t.Fatalf("address on the shared link %q", a)
	}
	if a := addrOnLink("lan", []string{"10.77.0.3:4019"}, []string{"lan@10.78.0.0/24"}); a != "" {
		t.Fatalf("address on no shared link %q", a)
	}
}
