package i2pd

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Control is a client of i2pd's I2PControl service (JSON-RPC 2.0 over
// HTTPS with i2pd's self-signed certificate). It only ever talks to the
// address it is given, which this project keeps on 127.0.0.1; the
// certificate is not verified because i2pd makes it up at first start.
// Safe for concurrent use.
type Control struct {
	Addr     string // host:port of i2pcontrol
	Password string // i2pcontrol.password

	once  sync.Once
	hc    *http.Client
	mu    sync.Mutex
	token string
	id    int
}

// Stats are the router figures the plugin and the test network watch.
type Stats struct {
	KnownPeers  int // routers in the netdb
	ActivePeers int // routers with a transport session up
	SuccessRate int // tunnel creation success rate, percent (a moving average)
	Transit     int // transit tunnels this router takes part in
	NetStatus   int // i2pd's RouterStatus: 0 OK, 1 testing, 2 firewalled, 3 unknown, 4 proxy, 5 mesh
	// Received counts the bytes received from other routers since i2pd
	// started. ActivePeers also counts routers being dialled, so growth
	// of Received is what shows a router is really connected.
	Received float64
	Version  string // i2pd's version
}

// rpcError is a JSON-RPC error object.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *rpcError) Error() string { return fmt.Sprintf("i2pcontrol error %d: %s", e.Code, e.Message) }

// DecodeResponse parses one JSON-RPC response and returns its result
// object, or the error it carries.
func DecodeResponse(body []byte) (map[string]json.RawMessage, error) {
	var r struct {
		Result map[string]json.RawMessage `json:"result"`
		Error  *rpcError                  `json:"error"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("i2pd: i2pcontrol response: %w", err)
	}
	if r.Error != nil {
		return nil, r.Error
	}
	if r.Result == nil {
		return nil, errors.New("i2pd: i2pcontrol response has neither result nor error")
	}
	return r.Result, nil
}

// number reads a JSON number, or a string holding one.
func number(raw json.RawMessage) (float64, error) {
	var f float64
	if err := json.Unmarshal(raw, &f); err == nil {
		return f, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, fmt.Errorf("not a number: %s", raw)
	}
	return strconv.ParseFloat(s, 64)
}

// ParseStats reads a RouterInfo result into Stats. Missing keys are
// errors: every key asked for must be answered.
func ParseStats(res map[string]json.RawMessage) (Stats, error) {
	var s Stats
	ints := []struct {
		key string
		to  *int
	}{
		{"i2p.router.netdb.knownpeers", &s.KnownPeers},
		{"i2p.router.netdb.activepeers", &s.ActivePeers},
		{"i2p.router.net.tunnels.successrate", &s.SuccessRate},
		{"i2p.router.net.tunnels.participating", &s.Transit},
		{"i2p.router.net.status", &s.NetStatus},
	}
	for _, f := range ints {
		raw, ok := res[f.key]
		if !ok {
			return Stats{}, fmt.Errorf("i2pd: i2pcontrol: no %s in the answer", f.key)
		}
		v, err := number(raw)
		if err != nil {
			return Stats{}, fmt.Errorf("i2pd: i2pcontrol: %s: %w", f.key, err)
		}
		*f.to = int(v)
	}
	if raw, ok := res["i2p.router.net.total.received.bytes"]; ok {
		if v, err := number(raw); err == nil {
			s.Received = v
		}
	}
	if raw, ok := res["i2p.router.version"]; ok {
		json.Unmarshal(raw, &s.Version)
	}
	return s, nil
}

func (c *Control) client() *http.Client {
	c.once.Do(func() {
		c.hc = &http.Client{Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, // i2pd's own self-signed cert on 127.0.0.1
			DisableKeepAlives: true,
		}}
	})
	return c.hc
}

// call makes one JSON-RPC call, bounded by ctx.
func (c *Control) call(ctx context.Context, method string, params map[string]any) (map[string]json.RawMessage, error) {
	c.mu.Lock()
	c.id++
	id := c.id
	c.mu.Unlock()
	body, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params, "jsonrpc": "2.0"})
	if err != nil {
		return nil, fmt.Errorf("i2pd: i2pcontrol: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+c.Addr+"/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("i2pd: i2pcontrol: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("i2pd: i2pcontrol %s: %w", c.Addr, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("i2pd: i2pcontrol %s: %w", c.Addr, err)
	}
	return DecodeResponse(b)
}

func (c *Control) authenticate(ctx context.Context) (string, error) {
	res, err := c.call(ctx, "Authenticate", map[string]any{"API": 1, "Password": c.Password})
	if err != nil {
		return "", fmt.Errorf("i2pd: i2pcontrol authenticate: %w", err)
	}
	var tok string
	if err := json.Unmarshal(res["Token"], &tok); err != nil || tok == "" {
		return "", errors.New("i2pd: i2pcontrol authenticate: no token in the answer")
	}
	c.mu.Lock()
	c.token = tok
	c.mu.Unlock()
	return tok, nil
}

// Stats asks the router for its figures, authenticating first (and again
// once if the token has expired). Bounded by ctx.
func (c *Control) Stats(ctx context.Context) (Stats, error) {
	c.mu.Lock()
	tok := c.token
	c.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if tok == "" {
			var err error
			if tok, err = c.authenticate(ctx); err != nil {
				return Stats{}, err
			}
		}
		params := map[string]any{"Token": tok}
		for _, k := range []string{"i2p.router.netdb.knownpeers", "i2p.router.netdb.activepeers",
			"i2p.router.net.tunnels.successrate", "i2p.router.net.tunnels.participating",
			"i2p.router.net.status", "i2p.router.net.total.received.bytes", "i2p.router.version"} {
			params[k] = nil
		}
		res, err := c.call(ctx, "RouterInfo", params)
		var rpc *rpcError
		if errors.As(err, &rpc) && attempt == 0 {
			tok = "" // expired or unknown token: authenticate again, once
			continue
		}
		if err != nil {
			return Stats{}, err
		}
		return ParseStats(res)
	}
}

// WaitUp polls until i2pcontrol answers or ctx ends.
func (c *Control) WaitUp(ctx context.Context) (Stats, error) {
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		s, err := c.Stats(cctx)
		cancel()
		if err == nil {
			return s, nil
		}
		select {
		case <-ctx.Done():
			return Stats{}, fmt.Errorf("i2pd: i2pcontrol %s not answering: %v: %w", c.Addr, err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
