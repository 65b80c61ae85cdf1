package pidfile

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestKillAll: a process whose command line names the directory is killed
// and reaped from the file; a listed pid that does not (here: this test
// process) is left alone.
func TestKillAll(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "sleeper.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nwhile :; do sleep 0.1; done\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", script)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	if err := Add(dir, cmd.Process.Pid, "sleeper"); err != nil {
		t.Fatal(err)
	}
	if err := Add(dir, os.Getpid(), "not ours"); err != nil {
		t.Fatal(err)
	}
	n, err := KillAll(dir)
	if err != nil || n != 1 {
		t.Fatalf("KillAll = %d, %v; want 1 process", n, err)
	}
	<-done
	if _, err := os.Stat(filepath.Join(dir, Name)); !os.IsNotExist(err) {
		t.Fatalf("pid file left behind: %v", err)
	}
	if !Alive(os.Getpid()) {
		t.Fatal("Alive says this process is gone")
	}
}
