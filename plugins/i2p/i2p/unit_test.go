package i2p

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/onemfive/onemfive/sdk/base"
	"github.com/onemfive/onemfive/sdk/transport"
	"github.com/onemfive/onemfive/sdk/transport/transporttest"
)

// testDest is a destination-shaped value: 384 bytes of keys and a key
// certificate (type 5, length 4).
func testDest() (string, [32]byte) {
	raw := make([]byte, 391)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	copy(raw[384:], []byte{5, 0, 4, 0, 7, 0, 4})
	return i2pB64.EncodeToString(raw), sha256.Sum256(raw)
}

func TestDestB32(t *testing.T) {
	dest, sum := testDest()
	a, err := destB32(dest)
	if err != nil {
		t.Fatal(err)
	}
	if a != b32.EncodeToString(sum[:])+".b32.i2p" {
		t.Fatalf("b32 %s", a)
	}
	if checkAddr(a) != nil {
		t.Fatalf("%s does not pass checkAddr", a)
	}
	if _, err := destB32("AAAA"); err == nil {
		t.Error("short destination accepted")
	}
	for _, bad := range []string{"", "x.b32.i2p", strings.Repeat("a", 52) + ".onion", strings.Repeat("1", 52) + ".b32.i2p"} {
		if checkAddr(bad) == nil {
			t.Errorf("checkAddr accepted %q", bad)
		}
	}
}

func TestParseReply(t *testing.T) {
	r := parseReply(`STREAM STATUS RESULT=I2P_ERROR MESSAGE="a \"quoted\" text" X=1`)
	if r.topic != "STREAM STATUS" || r.kv["RESULT"] != "I2P_ERROR" || r.kv["MESSAGE"] != `a "quoted" text` || r.kv["X"] != "1" {
		t.Fatalf("%+v", r)
	}
	if err := replyError(parseReply("STREAM STATUS RESULT=CANT_REACH_PEER"), ""); !errors.Is(err, errCantReach) {
		t.Fatalf("CANT_REACH_PEER: %v", err)
	}
}

func FuzzParseReply(f *testing.F) {
	f.Add("HELLO REPLY RESULT=OK VERSION=3.3")
	f.Add(`STREAM STATUS RESULT=I2P_ERROR MESSAGE="x \" y"`)
	f.Add(`A B C=" unterminated`)
	f.Fuzz(func(t *testing.T, line string) {
		r := parseReply(line)
		if strings.Count(r.topic, " ") > 1 {
			t.Fatalf("topic %q has more than two words", r.topic)
		}
		_ = replyError(r, line)
	})
}

func TestFrames(t *testing.T) {
	var b []byte
	b = append(b, streamVersion)
	msgs := [][]byte{{}, []byte("x"), bytes.Repeat([]byte{7}, transport.MaxPacketSize)}
	for _, m := range msgs {
		b = appendFrame(b, m)
	}
	r := bufio.NewReader(bytes.NewReader(b))
	if err := readVersion(r); err != nil {
		t.Fatal(err)
	}
	var buf []byte
	for i, m := range msgs {
		var d []byte
		var err error
		d, buf, err = readFrame(r, buf)
		if err != nil || !bytes.Equal(d, m) {
			t.Fatalf("frame %d: %d bytes, %v", i, len(d), err)
		}
	}
	if _, _, err := readFrame(r, buf); err != io.EOF {
		t.Fatalf("after the last frame: %v", err)
	}
	if _, _, err := readFrame(bytes.NewReader([]byte{0xff, 0, 0, 0}), nil); !errors.Is(err, errMalformed) {
		t.Fatalf("oversize frame: %v", err)
	}
	if _, _, err := readFrame(bytes.NewReader([]byte{0, 0, 0, 9, 1}), nil); err != io.ErrUnexpectedEOF {
		t.Fatalf("truncated frame: %v", err)
	}
	if err := readVersion(bytes.NewReader([]byte{9})); !errors.Is(err, errMalformed) {
		t.Fatalf("bad version: %v", err)
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add(appendFrame(nil, []byte("hello")))
	f.Add([]byte{0, 1, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		var buf []byte
		for {
			d, nb, err := readFrame(r, buf)
			if err != nil {
				return
			}
			if len(d) > transport.MaxPacketSize {
				t.Fatalf("frame of %d bytes", len(d))
			}
			buf = nb
		}
	})
}

func TestConfigProblems(t *testing.T) {
	body := `sam_addr = "nope"
i2pd = { "netid" = "99" }
tunnel_length = 9
sam_timeout = "-1s"
max_queue = 0
`
	_, err := parseConfig(base.Config{Filename: "c.hcl", Body: []byte(body), DataDir: t.TempDir()})
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"c.hcl:1:1: sam_addr", "c.hcl:3:1: tunnel_length", "c.hcl:4:1: sam_timeout", "c.hcl:5:1: max_queue", "i2pd and i2pd_path apply"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := parseConfig(base.Config{Body: []byte("bogus = 1\n"), DataDir: t.TempDir()}); err == nil {
		t.Error("unknown key accepted")
	}
}

// TestSilentSAMBridge: a SAM bridge that accepts the connection and never
// answers makes Start fail with the sam_timeout deadline, not hang, and
// the failure is reported as an event with its reason.
func TestSilentSAMBridge(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	accepted := make(chan struct{}, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // accept, read nothing, write nothing
			accepted <- struct{}{}
		}
	}()
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	tr := newTransport(t, "sam_addr = \""+ln.Addr().String()+"\"\nsam_timeout = \"1s\"\n", "")
	rec := new(transporttest.Recorder)
	done := make(chan error, 1)
	go func() {
		_, err := tr.Start(context.Background(), rec) // no deadline of its own: only sam_timeout can end it
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatal("Start hangs on a silent SAM bridge")
	}
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "hello") {
		t.Fatalf("Start: %v, want the HELLO to hit the deadline", err)
	}
	select {
	case <-accepted:
	default:
		t.Fatal("the bridge never saw a connection")
	}
	evs := rec.Events()
	var blocked, failed bool
	for _, ev := range evs {
		blocked = blocked || (ev.State == transport.StateBlocked && ev.Phase == "sam_unreachable" && ev.Reason != "")
		failed = failed || (ev.State == transport.StateFailed && ev.Reason != "")
	}
	if !blocked || !failed {
		t.Fatalf("want a sam_unreachable block and a failure with reasons; events: %+v", evs)
	}
	t.Logf("Start failed: %v", err)
}
