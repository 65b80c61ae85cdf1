package i2p

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eyedeekay/sam3"

	"github.com/onemfive/onemfive/host/web"
	"github.com/onemfive/onemfive/internal/hosttest"
	"github.com/onemfive/onemfive/internal/testnet/i2pnet"
)

// i2pSite publishes target (a loopback TCP address) as an I2P destination
// of its own: a SAM STREAM session on r's bridge whose accepted streams
// are each spliced to target. The session is created in the background
// (SESSION CREATE takes seconds to tens of seconds); the returned function
// waits for it and gives the site's .b32.i2p address. At cleanup the
// streams close before the session: i2pd 2.56 crashes when a stream socket
// outlives its session.
func i2pSite(t *testing.T, r i2pnet.Router, target string) (ready func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var idb [6]byte
	rand.Read(idb[:])
	id := "web-site-" + hex.EncodeToString(idb[:])
	var (
		mu      sync.Mutex
		streams = map[net.Conn]bool{}
		wg      sync.WaitGroup
		ss      *sam3.StreamSession
		addr    string
		err     error
		created = make(chan struct{})
	)
	track := func(cs ...net.Conn) bool {
		mu.Lock()
		defer mu.Unlock()
		if ctx.Err() != nil {
			return false
		}
		for _, c := range cs {
			streams[c] = true
		}
		return true
	}
	untrack := func(cs ...net.Conn) {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range cs {
			c.Close()
			delete(streams, c)
		}
	}
	keysFile := filepath.Join(t.TempDir(), KeysFile)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(created)
		// Bounds only a broken router: SESSION CREATE returns once i2pd
		// has built the tunnels and the lease set.
		cctx, ccancel := context.WithTimeout(ctx, 120*time.Second)
		defer ccancel()
		k, kerr := ensureKeys(cctx, r.SAMAddr(), keysFile)
		if kerr != nil {
			err = kerr
			return
		}
		if addr, err = destB32(string(k.Address)); err != nil {
			return
		}
		ss, err = createSession(cctx, r.SAMAddr(), id, k, []string{"inbound.length=1", "outbound.length=1",
			"inbound.quantity=2", "outbound.quantity=2", "i2cp.leaseSetEncType=4,0"})
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				s, _, aerr := streamAccept(ctx, r.SAMAddr(), id, 10*time.Second)
				if aerr != nil {
					if ctx.Err() == nil {
						t.Logf("site %s: accept: %v", addr, aerr)
					}
					return
				}
				c, derr := net.Dial("tcp", target)
				if derr != nil {
					s.Close()
					t.Logf("site %s: %v", addr, derr)
					continue
				}
				if !track(s, c) {
					s.Close()
					c.Close()
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Either direction ending (the server closes after
					// its answer: the proxy sends Connection: close) ends
					// both.
					done := make(chan struct{}, 2)
					go func() { io.Copy(c, s); done <- struct{}{} }()
					go func() { io.Copy(s, c); done <- struct{}{} }()
					<-done
					untrack(s, c)
					<-done
				}()
			}
		}()
	}()
	t.Cleanup(func() {
		cancel()
		<-created
		mu.Lock()
		for c := range streams {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
		if ss != nil {
			// Let i2pd process the stream closes first (as the
			// transport's closeSession does).
			time.Sleep(sessionCloseGrace)
			ss.Close()
		}
	})
	return func() string {
		t.Helper()
		<-created
		if err != nil {
			t.Fatalf("i2p site on %s: %v", r.Name, err)
		}
		return addr
	}
}

// TestWebProxyOverI2P: an application fetches an .i2p site through the
// daemon's web proxy. One onemfived host runs the real i2p plugin with its
// own i2pd joined to the private network, a web proxy on loopback and a
// policy that sends every web request over I2P; the site is an httptest
// server behind a SAM STREAM session of its own on one of the network's
// routers. GET http://<site>.b32.i2p/ is forwarded over an I2P stream and
// answered with X-Onemfive-Network: i2p.
func TestWebProxyOverI2P(t *testing.T) {
	n := privateNet(t)
	bin := hosttest.Build(t, "./plugins/i2p", "onemfive-transport-i2p")
	hosttest.Daemon(t)
	hosttest.CLI(t)
	begin := time.Now()

	eepsite := hosttest.NewSite("eepsite")
	site := httptest.NewServer(eepsite)
	defer site.Close()
	// The site's session is created while the host starts.
	siteReady := i2pSite(t, n.Routers[0], site.Listener.Addr().String())

	policyFile, err := filepath.Abs("testdata/web-i2p.hcl")
	if err != nil {
		t.Fatal(err)
	}
	h := hosttest.NewHost(t, "W", hosttest.Options{
		Config:  fmt.Sprintf("mancon = \"LOW\"\npolicies = [%q]\nweb {\n  listen = \"127.0.0.1:0\"\n  dial_timeout = \"30s\"\n}", policyFile),
		Plugins: []hosttest.Plugin{{Name: "i2p", Binary: bin, Body: managedBody(n) + "start_wait = \"60s\"\n"}},
	})
	h.Start()
	h.WaitPlugin("i2p", "ready", 150*time.Second)
	t.Logf("host with i2p plugin ready after %v", time.Since(begin).Round(time.Millisecond))
	addr := siteReady()
	t.Logf("site %s on %s ready after %v", addr, n.Routers[0].Name, time.Since(begin).Round(time.Millisecond))

	c := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(h.WebProxyURL("LOW")), DisableKeepAlives: true}}

	// The first stream to a fresh destination fails (CANT_REACH_PEER)
	// until its lease set has reached the floodfills and the host's
	// router has looked it up, which can take tens of seconds on a loaded
	// machine: the proxy then answers 502, and the request is retried
	// within a bound only a broken network reaches.
	r := h.WebGetUntilOK(t, c, "http://"+addr+"/page", 150*time.Second)
	if r.Body != "eepsite /page" || r.Header.Get(web.NetworkHeader) != "i2p" {
		t.Fatalf("GET: %q (network %q)", r.Body, r.Header.Get(web.NetworkHeader))
	}
	// A second request needs no retry: the lease set is known now.
	again := time.Now()
	if r = hosttest.WebGet(c, "http://"+addr+"/again"); r.Err != nil || r.Code != http.StatusOK || r.Body != "eepsite /again" || r.Header.Get(web.NetworkHeader) != "i2p" {
		t.Fatalf("second GET: %d %q %v (network %q)", r.Code, r.Body, r.Err, r.Header.Get(web.NetworkHeader))
	}
	t.Logf("second GET took %v", time.Since(again).Round(time.Millisecond))
	seen := eepsite.Hosts()
	// Each request that reached the site named it as Host (a retried
	// first request could in principle reach it more than once).
	if len(seen) < 2 || strings.Count(strings.Join(seen, " ")+" ", addr+" ") != len(seen) {
		t.Fatalf("the site saw Host %q, want only %q, at least twice", seen, addr)
	}
	t.Logf("whole test %v", time.Since(begin).Round(time.Millisecond))
}
