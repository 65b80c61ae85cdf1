package registry

import (
	"encoding/json"
	"testing"
)

// FuzzManifest checks that no manifest file content makes the decoder
// panic, and that whatever it accepts is valid and survives a round trip.
func FuzzManifest(f *testing.F) {
	f.Add([]byte(`{"name":"direct","kind":"transport","binary":"onemfive-transport-direct","sha256":"` +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" + `","installed":"2025-01-01T00:00:00Z","api_versions":[1,2]}`))
	f.Add([]byte(`{"name":"direct","kind":"transport","binary":"../onemfive-transport-direct"}`))
	f.Add([]byte(`{"name":"direct","kind":"service","binary":"onemfive-service-direct","sha256":"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855","installed":"bad"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"name":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeManifest(data, "/plugins/direct"+ManifestSuffix)
		if err != nil {
			return
		}
		if m.Name != "direct" {
			t.Fatalf("manifest for %q accepted from direct%s", m.Name, ManifestSuffix)
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("accepted an invalid manifest: %v", err)
		}
		if _, err := m.SecureConfig(); err != nil {
			t.Fatalf("accepted manifest has no SecureConfig: %v", err)
		}
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := decodeManifest(out, "/plugins/direct"+ManifestSuffix)
		if err != nil || m2.SHA256 != m.SHA256 || m2.Binary != m.Binary || !m2.Installed.Equal(m.Installed) {
			t.Fatalf("round trip: %+v, %v", m2, err)
		}
	})
}
