package tor

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cretz/bine/control"
	"github.com/cretz/bine/torutil"
	bineed "github.com/cretz/bine/torutil/ed25519"

	"github.com/onemfive/onemfive/host/web"
	"github.com/onemfive/onemfive/internal/hosttest"
	"github.com/onemfive/onemfive/internal/testnet/tornet"
)

// onionSite publishes ports (virtual port → loopback target) as one v3
// onion service of a tor of its own on the private network and returns the
// service id once every descriptor upload tor launched has finished and at
// least one HSDir holds the descriptor. Waiting for the upload keeps a
// client from asking the HSDirs too early: tor does not ask an HSDir again
// for the same service for 15 minutes after a failed lookup. The service
// lives as long as the control connection that added it, closed at
// cleanup.
func onionSite(t *testing.T, n *tornet.Network, ports map[int]string) (id string, published func()) {
	t.Helper()
	x := startExternalTor(t, n, "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	owner, _, err := dialControl(ctx, x.control, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close() })
	// A second connection carries the HS_DESC events: the owner's
	// connection stays free of event handling.
	events, evConn, err := dialControl(ctx, x.control, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { events.Close() })
	// Big enough for every HS_DESC event of the wait below, so relaying
	// one never blocks.
	ch := make(chan control.Event, 1024)
	if err := events.AddEventListener(ch, control.EventCodeHSDesc); err != nil {
		t.Fatalf("SETEVENTS HS_DESC: %v", err)
	}
	req := &control.AddOnionRequest{Key: control.GenKey(control.KeyAlgoED25519V3)}
	for virt, target := range ports {
		req.Ports = append(req.Ports, &control.KeyVal{Key: fmt.Sprint(virt), Val: target})
	}
	resp, err := owner.AddOnion(req)
	if err != nil {
		t.Fatalf("ADD_ONION: %v", err)
	}
	id = resp.ServiceID
	published = func() {
		t.Helper()
		// A fresh tor bootstraps, then uploads; the bound is only
		// reached when something is broken.
		evConn.SetReadDeadline(time.Now().Add(120 * time.Second))
		pending := map[string]int{} // HSDir → uploads not yet answered
		uploaded := 0
		for uploaded == 0 || len(pending) > 0 {
			if err := events.HandleNextEvent(); err != nil {
				t.Fatalf("onion service %s not published (uploaded %d, pending %v): %v", id, uploaded, pending, err)
			}
			for drained := false; !drained; {
				select {
				case e := <-ch:
					ev, ok := e.(*control.HSDescEvent)
					if !ok || ev.Address != id {
						continue
					}
					switch ev.Action {
					case "UPLOAD":
						pending[ev.HSDir]++
					case "UPLOADED", "FAILED":
						if ev.Action == "UPLOADED" {
							uploaded++
						}
						if pending[ev.HSDir]--; pending[ev.HSDir] <= 0 {
							delete(pending, ev.HSDir)
						}
					}
				default:
					drained = true
				}
			}
		}
		evConn.SetReadDeadline(time.Time{})
	}
	return id, published
}

// TestWebProxyOverTor: an application fetches an onion site through the
// daemon's web proxy. One onemfived host runs the real tor plugin with its
// own tor on the private network, a web proxy on loopback and a policy
// that sends every web request over Tor; the site is a plain-HTTP and a
// TLS httptest server published as one v3 onion service (ports 80 and 443)
// by a separate tor. A plain GET is forwarded and answered with
// X-Onemfive-Network: tor, an HTTPS GET goes through a CONNECT tunnel with
// TLS end to end, and an onion address nobody publishes gets the proxy's
// site-down answer naming the tor route.
func TestWebProxyOverTor(t *testing.T) {
	n := privateNet(t)
	bin := hosttest.Build(t, "./plugins/tor", "onemfive-transport-tor")
	hosttest.Daemon(t)
	hosttest.CLI(t)
	begin := time.Now()

	plainSite := hosttest.NewSite("plain onion site")
	plain := httptest.NewServer(plainSite)
	defer plain.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "secure onion site %s", r.URL.Path)
	}))
	defer secure.Close()
	id, published := onionSite(t, n, map[int]string{80: plain.Listener.Addr().String(), 443: secure.Listener.Addr().String()})
	onion := id + ".onion"

	// The host starts while the site's tor bootstraps and publishes.
	policyFile, err := filepath.Abs("testdata/web-tor.hcl")
	if err != nil {
		t.Fatal(err)
	}
	h := hosttest.NewHost(t, "W", hosttest.Options{
		Config:  fmt.Sprintf("mancon = \"LOW\"\npolicies = [%q]\nweb {\n  listen = \"127.0.0.1:0\"\n  dial_timeout = \"30s\"\n}", policyFile),
		Plugins: []hosttest.Plugin{{Name: "tor", Binary: bin, Body: "torrc = " + hclList(n.ClientTorrc())}},
	})
	h.Start()
	// Bootstrap on the shared network took 13–62 s here; CI machines run
	// about twice as slow. The bound is only reached on failure.
	h.WaitPlugin("tor", "ready", 240*time.Second)
	t.Logf("host with tor plugin ready after %v", time.Since(begin).Round(time.Millisecond))
	proxyURL := h.WebProxyURL("LOW")
	published()
	t.Logf("onion service %s published after %v", onion, time.Since(begin).Round(time.Millisecond))

	// The CONNECT answer's headers are not part of the tunnelled
	// response: keep the network it names.
	var connectMu sync.Mutex
	var connectNetwork []string
	// The TLS server's certificate names 127.0.0.1 and example.com, not
	// the onion address: verify it as example.com against its own CA.
	tlsConf := &tls.Config{RootCAs: secure.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs, ServerName: "example.com"}
	c := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		Proxy:             http.ProxyURL(proxyURL),
		TLSClientConfig:   tlsConf,
		DisableKeepAlives: true,
		OnProxyConnectResponse: func(_ context.Context, _ *url.URL, _ *http.Request, res *http.Response) error {
			connectMu.Lock()
			connectNetwork = append(connectNetwork, res.Header.Get(web.NetworkHeader))
			connectMu.Unlock()
			return nil
		},
	}}
	get := func(u string) (int, http.Header, string, error) {
		r := hosttest.WebGet(c, u)
		return r.Code, r.Header, r.Body, r.Err
	}

	// The first stream to a fresh onion service can take tens of seconds
	// on a loaded machine (descriptor fetch, introduction, rendezvous),
	// and the proxy answers 502 when its 30 s dial bound passes first: so
	// the first request is retried within a bound that only a broken
	// setup reaches.
	r := h.WebGetUntilOK(t, c, "http://"+onion+"/path", 180*time.Second)
	hdr, body := r.Header, r.Body
	var code int // the later requests' status
	if body != "plain onion site /path" || hdr.Get(web.NetworkHeader) != "tor" {
		t.Fatalf("plain GET: %q (network %q)", body, hdr.Get(web.NetworkHeader))
	}
	seen := plainSite.Hosts()
	if len(seen) != 1 || seen[0] != onion {
		t.Fatalf("the site saw Host %q, want %q once", seen, onion)
	}

	// HTTPS through a CONNECT tunnel: the circuit to the service is built
	// now, so one try must do.
	tlsBegin := time.Now()
	code, _, body, err = get("https://" + onion + ":443/secret")
	if err != nil || code != http.StatusOK || body != "secure onion site /secret" {
		t.Fatalf("HTTPS GET of the onion site through the proxy: %d %q %v", code, body, err)
	}
	connectMu.Lock()
	nets := append([]string(nil), connectNetwork...)
	connectMu.Unlock()
	if len(nets) != 1 || nets[0] != "tor" {
		t.Fatalf("CONNECT answers named networks %q, want one \"tor\"", nets)
	}
	t.Logf("HTTPS GET through a CONNECT tunnel took %v", time.Since(tlsBegin).Round(time.Millisecond))

	// A well-formed v3 address whose key nobody publishes: tor finds no
	// descriptor and the proxy answers site down, naming the route.
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	nobody := torutil.OnionServiceIDFromV3PublicKey(bineed.PublicKey(pub)) + ".onion"
	if err := checkAddr(net.JoinHostPort(nobody, "80")); err != nil {
		t.Fatalf("made-up onion address: %v", err)
	}
	downBegin := time.Now()
	code, _, body, err = get("http://" + nobody + "/")
	if err != nil || code != http.StatusBadGateway || !strings.Contains(body, nobody+" is unreachable at ManCon LOW") ||
		!strings.Contains(body, "route tor (") || !strings.Contains(body, "on failure: site_down") {
		t.Fatalf("unpublished onion: %d %q %v", code, body, err)
	}
	t.Logf("unpublished onion answered 502 after %v: %s", time.Since(downBegin).Round(time.Millisecond), strings.ReplaceAll(body, "\n", " | "))
	t.Logf("whole test %v", time.Since(begin).Round(time.Millisecond))
}
