package policy

import "testing"

func TestDefaultParses(t *testing.T) {
	p, err := Parse(defaultHCL, DefaultFilename)
	if err != nil {
		t.Fatal(err)
	}
	if Default() == nil || p.Default.String() != "HIGH" {
		t.Fatalf("default level %v, want HIGH", p.Default)
	}
}
