package tornet

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Down stops a network that Start ran with Detach into dir: it kills each
// pid listed in dir's pid file whose command line still names a file in
// dir (a reused pid is left alone), waits up to 5 s for them to exit, and
// removes the pid file. It returns how many processes it signalled.
func Down(dir string) (int, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return 0, fmt.Errorf("tornet: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, PidFile))
	if err != nil {
		return 0, fmt.Errorf("tornet: down: %w", err)
	}
	var pids []int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil || pid <= 1 {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !bytes.Contains(cmdline, []byte(dir+"/")) {
			continue
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err == nil {
			pids = append(pids, pid)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for processAlive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	var errs []error
	for _, pid := range pids {
		if processAlive(pid) {
			errs = append(errs, fmt.Errorf("pid %d still running", pid))
		}
	}
	os.Remove(filepath.Join(dir, PidFile))
	if len(errs) > 0 {
		return len(pids), fmt.Errorf("tornet: down: %w", errors.Join(errs...))
	}
	return len(pids), nil
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// Env reads the client torrc lines Start wrote into dir; with bridge, the
// lines to join through the obfs4 bridge.
func Env(dir string, bridge bool) ([]string, error) {
	name := ClientFile
	if bridge {
		name = BridgeClientFile
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("tornet: env: %w", err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n"), nil
}
