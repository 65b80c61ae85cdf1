package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/onemfive/onemfive/sdk/client"
)

func TestManConEndpoints(t *testing.T) {
	f := newFake()
	_, c := newTestServer(t, f, nil)
	ctx := context.Background()
	st, err := c.ManCon(ctx)
	if err != nil || st.Base != "HIGH" {
		t.Fatalf("get: %+v %v", st, err)
	}
	st, err = c.SetManCon(ctx, "veryhigh")
	if err != nil || st.Base != "VERYHIGH" {
		t.Fatalf("set: %+v %v", st, err)
	}
	if _, err := c.SetManCon(ctx, "ULTRA"); client.StatusOf(err) != http.StatusBadRequest {
		t.Fatalf("bad level: %v", err)
	}
	if _, err := c.SetManCon(ctx, ""); client.StatusOf(err) != http.StatusBadRequest {
		t.Fatalf("empty level: %v", err)
	}
	ex, err := c.Explain(ctx, "web", "example.org", "")
	if err != nil || ex.Kind != "web" || len(ex.Routes) != 1 {
		t.Fatalf("explain: %+v %v", ex, err)
	}
	if _, err := c.Explain(ctx, "", "", ""); client.StatusOf(err) != http.StatusBadRequest {
		t.Fatalf("explain without kind: %v", err)
	}
}
