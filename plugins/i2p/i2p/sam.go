package i2p

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/eyedeekay/i2pkeys"
	"github.com/eyedeekay/sam3"
)

// The SAM layer. sam3 does the control exchanges (HELLO, DEST GENERATE,
// SESSION CREATE) but has no deadlines of its own, so each call runs in
// bounded, which returns when ctx ends and closes the SAM connection
// under the call to unblock it. The data path (STREAM CONNECT, STREAM
// ACCEPT) is done here instead: sam3 reads those replies through buffers
// that can swallow the first bytes of the stream behind them.

// maxLine bounds a SAM reply line (an accept's destination line is about
// 520 characters, more with a long certificate).
const maxLine = 8 << 10

var i2pB64 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~")

// bounded runs f until it returns or ctx ends. On ctx's end it calls
// abort (to unblock f) and returns ctx's error; a result that f returns
// later is released with release. A panic in f (sam3 panics on some
// replies it cannot parse) becomes an error.
func bounded[T any](ctx context.Context, what string, f func() (T, error), abort func(), release func(T)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r.err = fmt.Errorf("sam library panicked: %v", p)
			}
			ch <- r
		}()
		r.v, r.err = f()
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return r.v, fmt.Errorf("%s: %w", what, r.err)
		}
		return r.v, nil
	case <-ctx.Done():
		if abort != nil {
			abort()
		}
		go func() {
			if r := <-ch; r.err == nil && release != nil {
				release(r.v)
			}
		}()
		var zero T
		return zero, fmt.Errorf("%s: %w", what, ctx.Err())
	}
}

// dialSAM connects to a SAM bridge and completes HELLO, all bounded by
// ctx. It does this itself before handing the bridge to sam3, whose own
// dial and HELLO have no deadline.
func dialSAM(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sam %s: %w", addr, err)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := io.WriteString(c, "HELLO VERSION MIN=3.1 MAX=3.3\n"); err != nil {
		c.Close()
		return nil, fmt.Errorf("sam %s: hello: %w", addr, ctxErr(ctx, err))
	}
	line, err := readLine(c)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("sam %s: hello: %w", addr, ctxErr(ctx, err))
	}
	if r := parseReply(line); r.topic != "HELLO REPLY" || r.kv["RESULT"] != "OK" {
		c.Close()
		return nil, fmt.Errorf("sam %s: hello: %q", addr, line)
	}
	return c, nil
}

// ctxErr prefers ctx's error (a deadline we set to abort) over the I/O
// error it caused.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// probeSAM checks the bridge answers HELLO.
func probeSAM(ctx context.Context, addr string) error {
	c, err := dialSAM(ctx, addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// newSAM returns a sam3 controller for addr, after probing the bridge
// within ctx.
func newSAM(ctx context.Context, addr string) (*sam3.SAM, error) {
	if err := probeSAM(ctx, addr); err != nil {
		return nil, err
	}
	return bounded(ctx, "sam "+addr, func() (*sam3.SAM, error) { return sam3.NewSAM(addr) }, nil,
		func(s *sam3.SAM) { s.Close() })
}

// KeysFile is the destination keys' file name in the data directory; it
// keeps the .b32.i2p address stable across restarts.
const KeysFile = "destination.keys"

// loadKeys reads the persisted destination keys; a missing file is
// (zero, false, nil).
func loadKeys(path string) (i2pkeys.I2PKeys, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return i2pkeys.I2PKeys{}, false, nil
	}
	if err != nil {
		return i2pkeys.I2PKeys{}, false, fmt.Errorf("keys: %w", err)
	}
	pub, priv, ok := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if !ok || pub == "" || priv == "" {
		return i2pkeys.I2PKeys{}, false, fmt.Errorf("keys %s: want two lines, public then private", path)
	}
	if _, err := destB32(pub); err != nil {
		return i2pkeys.I2PKeys{}, false, fmt.Errorf("keys %s: %w", path, err)
	}
	return i2pkeys.NewKeys(i2pkeys.I2PAddr(pub), priv), true, nil
}

// saveKeys writes the keys (mode 0600) atomically.
func saveKeys(path string, k i2pkeys.I2PKeys) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(string(k.Address)+"\n"+k.Both+"\n"), 0o600); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	return nil
}

// ensureKeys loads this node's destination keys, or has the router
// generate Ed25519 ones (DEST GENERATE SIGNATURE_TYPE=7) and saves them.
func ensureKeys(ctx context.Context, samAddr, path string) (i2pkeys.I2PKeys, error) {
	k, ok, err := loadKeys(path)
	if err != nil || ok {
		return k, err
	}
	s, err := newSAM(ctx, samAddr)
	if err != nil {
		return k, err
	}
	defer s.Close()
	k, err = bounded(ctx, "dest generate", func() (i2pkeys.I2PKeys, error) { return s.NewKeys("SIGNATURE_TYPE=7") },
		func() { s.Close() }, nil)
	if err != nil {
		return k, err
	}
	if _, err := destB32(string(k.Address)); err != nil {
		return k, fmt.Errorf("dest generate: %w", err)
	}
	return k, saveKeys(path, k)
}

// createSession makes the STREAM session (SESSION CREATE returns once
// i2pd has built the session's tunnels and made its lease set), bounded
// by ctx.
func createSession(ctx context.Context, samAddr, id string, k i2pkeys.I2PKeys, opts []string) (*sam3.StreamSession, error) {
	s, err := newSAM(ctx, samAddr)
	if err != nil {
		return nil, err
	}
	return bounded(ctx, "session create", func() (*sam3.StreamSession, error) {
		return s.NewStreamSession(id, k, opts)
	}, func() { s.Close() }, func(ss *sam3.StreamSession) { ss.Close() })
}

// streamConnect opens a stream from session id to dest (a .b32.i2p or
// other .i2p name, or a full base64 destination).
func streamConnect(ctx context.Context, samAddr, id, dest string) (net.Conn, error) {
	c, err := dialSAM(ctx, samAddr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	line, err := command(c, fmt.Sprintf("STREAM CONNECT ID=%s DESTINATION=%s SILENT=false\n", id, dest))
	if !stop() || err != nil {
		c.Close()
		return nil, fmt.Errorf("stream connect: %w", ctxErr(ctx, err))
	}
	if r := parseReply(line); r.topic != "STREAM STATUS" || r.kv["RESULT"] != "OK" {
		c.Close()
		return nil, fmt.Errorf("stream connect: %w", replyError(r, line))
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// streamAccept waits for one incoming stream on session id and returns it
// with the sender's destination as a .b32.i2p address (authenticated by
// I2P's streaming layer). HELLO and the STREAM ACCEPT reply are bounded
// by timeout; the wait for a stream only by ctx.
func streamAccept(ctx context.Context, samAddr, id string, timeout time.Duration) (net.Conn, string, error) {
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := dialSAM(hctx, samAddr)
	if err != nil {
		return nil, "", err
	}
	expire := context.AfterFunc(hctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	line, err := command(c, fmt.Sprintf("STREAM ACCEPT ID=%s SILENT=false\n", id))
	if !expire() || err != nil {
		c.Close()
		return nil, "", fmt.Errorf("stream accept: %w", ctxErr(hctx, err))
	}
	if r := parseReply(line); r.topic != "STREAM STATUS" || r.kv["RESULT"] != "OK" {
		c.Close()
		return nil, "", fmt.Errorf("stream accept: %w", replyError(r, line))
	}
	c.SetDeadline(time.Time{})
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	dl, err := readLine(c)
	if err != nil {
		c.Close()
		return nil, "", fmt.Errorf("stream accept: %w", ctxErr(ctx, err))
	}
	from, err := destB32(strings.Fields(dl + " ")[0])
	if err != nil {
		c.Close()
		return nil, "", fmt.Errorf("stream accept: %w", err)
	}
	return c, from, nil
}

// command writes one SAM command and reads its one-line reply.
func command(c net.Conn, cmd string) (string, error) {
	if _, err := io.WriteString(c, cmd); err != nil {
		return "", err
	}
	return readLine(c)
}

// readLine reads one line a byte at a time, so that nothing after it
// (the stream's first bytes) is consumed.
func readLine(r io.Reader) (string, error) {
	var b []byte
	var one [1]byte
	for len(b) < maxLine {
		if _, err := io.ReadFull(r, one[:]); err != nil {
			if errors.Is(err, io.EOF) && len(b) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		if one[0] == '\n' {
			return strings.TrimSuffix(string(b), "\r"), nil
		}
		b = append(b, one[0])
	}
	return "", fmt.Errorf("sam reply line longer than %d bytes", maxLine)
}

// reply is a parsed SAM reply line: "STREAM STATUS RESULT=OK MESSAGE=\"..\"".
type reply struct {
	topic string            // the first two words
	kv    map[string]string // KEY=VALUE pairs, values unquoted
}

// parseReply parses a SAM reply. Values may be double-quoted (with \"
// and \\ escapes); malformed input yields what could be read.
func parseReply(line string) reply {
	r := reply{kv: map[string]string{}}
	words := 0
	for i := 0; i < len(line); {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i >= len(line) {
			break
		}
		start := i
		for i < len(line) && line[i] != ' ' && line[i] != '=' {
			i++
		}
		key := line[start:i]
		if i >= len(line) || line[i] != '=' {
			if words < 2 {
				r.topic = strings.TrimSpace(r.topic + " " + key)
				words++
			}
			continue
		}
		i++ // '='
		var val strings.Builder
		if i < len(line) && line[i] == '"' {
			i++
			for i < len(line) && line[i] != '"' {
				if line[i] == '\\' && i+1 < len(line) {
					i++
				}
				val.WriteByte(line[i])
				i++
			}
			i++ // closing quote
		} else {
			for i < len(line) && line[i] != ' ' {
				val.WriteByte(line[i])
				i++
			}
		}
		r.kv[key] = val.String()
	}
	return r
}

// errCantReach is a STREAM CONNECT the router could not complete yet
// (CANT_REACH_PEER, TIMEOUT): usual while a fresh lease set propagates.
var errCantReach = errors.New("peer not reachable yet")

func replyError(r reply, line string) error {
	res := r.kv["RESULT"]
	msg := res
	if m := r.kv["MESSAGE"]; m != "" {
		msg += ": " + m
	}
	if res == "" {
		return fmt.Errorf("unexpected reply %q", line)
	}
	if res == "CANT_REACH_PEER" || res == "TIMEOUT" {
		return fmt.Errorf("%w (%s)", errCantReach, msg)
	}
	return errors.New(msg)
}

// destB32 computes the .b32.i2p address of a base64 destination.
func destB32(dest string) (string, error) {
	raw, err := i2pB64.DecodeString(dest)
	if err != nil || len(raw) < 387 {
		return "", fmt.Errorf("not an I2P destination (%d base64 chars)", len(dest))
	}
	sum := sha256.Sum256(raw)
	return b32.EncodeToString(sum[:]) + ".b32.i2p", nil
}
