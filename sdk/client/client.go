package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/onemfive/onemfive/sdk/envelope"
)

// File names the daemon writes in its data directory.
const (
	CookieFile = "api.cookie" // bearer token, hex, mode 0600
	AddrFile   = "api.addr"   // host:port the API listens on
)

// DefaultPort is the local API's default TCP port on 127.0.0.1.
const DefaultPort = 2018

// Environment variables DefaultDataDir reads, as the daemon's configuration
// does: DataDirEnv wins over HomeEnv.
const (
	DataDirEnv = "ONEMFIVE_DATA_DIR"
	HomeEnv    = "ONEMFIVE_HOME"
)

// maxResponse caps what the client reads from one non-streaming response.
const maxResponse = 16 << 20

// DefaultDataDir returns the daemon's default data directory:
// $ONEMFIVE_DATA_DIR, else $ONEMFIVE_HOME, else ~/.onemfive (".onemfive" when
// the home directory is unknown). A data_dir set in the daemon's config file
// is not seen here; pass that directory explicitly.
func DefaultDataDir() string {
	for _, v := range []string{DataDirEnv, HomeEnv} {
		if d := os.Getenv(v); d != "" {
			return d
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".onemfive"
	}
	return filepath.Join(home, ".onemfive")
}

// Client talks to one daemon's local API. Create it with New or FromDataDir.
type Client struct {
	base  string // "http://host:port", no trailing slash
	token string
	hc    *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client use hc instead of a default http.Client.
// Do not set a Timeout on hc if you use Events: it would cut the stream.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.hc = hc }
}

// New returns a client for the API at baseURL ("http://127.0.0.1:2018", or
// just "127.0.0.1:2018") that authenticates with token.
func New(baseURL, token string, opts ...Option) *Client {
	base := strings.TrimRight(strings.TrimSpace(baseURL), "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	c := &Client{base: base, token: strings.TrimSpace(token), hc: &http.Client{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// FromDataDir returns a client for the daemon whose data directory is
// dataDir, reading the token from api.cookie and the address from api.addr.
func FromDataDir(dataDir string, opts ...Option) (*Client, error) {
	addr, err := ReadAddr(dataDir)
	if err != nil {
		return nil, err
	}
	tok, err := ReadCookie(dataDir)
	if err != nil {
		return nil, err
	}
	return New(addr, tok, opts...), nil
}

// ReadCookie reads the API token from <dataDir>/api.cookie.
func ReadCookie(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, CookieFile))
	if err != nil {
		return "", fmt.Errorf("client: read token (is the daemon running?): %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("client: %s is empty", filepath.Join(dataDir, CookieFile))
	}
	return tok, nil
}

// ReadAddr reads the API address from <dataDir>/api.addr.
func ReadAddr(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, AddrFile))
	if err != nil {
		return "", fmt.Errorf("client: read api address (is the daemon running?): %w", err)
	}
	addr := strings.TrimSpace(string(b))
	if addr == "" {
		return "", fmt.Errorf("client: %s is empty", filepath.Join(dataDir, AddrFile))
	}
	return addr, nil
}

// BaseURL returns the API base URL the client uses.
func (c *Client) BaseURL() string { return c.base }

// Status returns a snapshot of the daemon's state.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	err := c.do(ctx, http.MethodGet, "/v1/status", nil, &st)
	return st, err
}

// Send hands an envelope to the daemon for delivery. Empty ID, Created and
// Kind are filled in by the server; the result carries the ID used.
func (c *Client) Send(ctx context.Context, env *envelope.Envelope) (SendResult, error) {
	var res SendResult
	if env == nil {
		return res, errors.New("client: send: nil envelope")
	}
	err := c.do(ctx, http.MethodPost, "/v1/envelopes", env, &res)
	return res, err
}

// Inbox returns up to limit received envelopes with sequence numbers greater
// than after, oldest first. limit <= 0 means the server's default.
func (c *Client) Inbox(ctx context.Context, after uint64, limit int) ([]InboxItem, error) {
	q := url.Values{"after": {strconv.FormatUint(after, 10)}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var page InboxPage
	if err := c.do(ctx, http.MethodGet, "/v1/inbox?"+q.Encode(), nil, &page); err != nil {
		return nil, err
	}
	return page.Items, nil
}

// Node returns this node's signed peer record.
func (c *Client) Node(ctx context.Context) (NodeRecord, error) {
	var rec NodeRecord
	err := c.do(ctx, http.MethodGet, "/v1/node", nil, &rec)
	return rec, err
}

// AddPeer adds a peer from its signed record (as another node's Node
// returned it) and returns what the daemon learned from it.
func (c *Client) AddPeer(ctx context.Context, record string) (PeerInfo, error) {
	var p PeerInfo
	err := c.do(ctx, http.MethodPost, "/v1/peers", PeerRequest{Record: strings.TrimSpace(record)}, &p)
	return p, err
}

// Peers lists the peers the daemon knows.
func (c *Client) Peers(ctx context.Context) ([]PeerInfo, error) {
	var l PeerList
	if err := c.do(ctx, http.MethodGet, "/v1/peers", nil, &l); err != nil {
		return nil, err
	}
	return l.Peers, nil
}

func (c *Client) newRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("client: encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	req, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return decodeError(resp)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(out); err != nil {
		return fmt.Errorf("client: %s %s: decode response: %w", method, path, err)
	}
	return nil
}

// decodeError turns an error response into *Error, keeping the status even
// when the body is not the API's JSON shape (a proxy, a panic page).
func decodeError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &Error{Status: resp.StatusCode}
	var body ErrorBody
	if json.Unmarshal(b, &body) == nil && body.Error.Message != "" {
		e.Code, e.Message = body.Error.Code, body.Error.Message
	} else {
		e.Message = strings.TrimSpace(string(b))
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
	}
	return e
}

// ManCon returns the node's ManCon state.
func (c *Client) ManCon(ctx context.Context) (ManConStatus, error) {
	var out ManConStatus
	err := c.do(ctx, http.MethodGet, "/v1/mancon", nil, &out)
	return out, err
}

// SetManCon sets the node's base level (LOW ... NEO).
func (c *Client) SetManCon(ctx context.Context, level string) (ManConStatus, error) {
	var out ManConStatus
	err := c.do(ctx, http.MethodPut, "/v1/mancon", ManConRequest{Level: level}, &out)
	return out, err
}

// Explain evaluates the policy for a destination against the node's live
// network state. kind is web or p2p; level may be empty.
func (c *Client) Explain(ctx context.Context, kind, to, level string) (Explanation, error) {
	q := url.Values{"kind": {kind}, "to": {to}}
	if level != "" {
		q.Set("level", level)
	}
	var out Explanation
	err := c.do(ctx, http.MethodGet, "/v1/explain?"+q.Encode(), nil, &out)
	return out, err
}
