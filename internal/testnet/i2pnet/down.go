package i2pnet

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/onemfive/onemfive/plugins/i2p/i2pd"
)

// Down stops a network that Start ran with Detach into dir: it kills each
// pid in dir's pid file whose command line still names dir (a reused pid
// is left alone), waits up to 5 s for them to exit, and removes the pid
// file. It returns how many processes it signalled.
func Down(dir string) (int, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return 0, fmt.Errorf("i2pnet: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, PidFile))
	if err != nil {
		return 0, fmt.Errorf("i2pnet: down: %w", err)
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
	var errs []error
	for _, pid := range pids {
		for processAlive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if processAlive(pid) {
			errs = append(errs, fmt.Errorf("pid %d still running", pid))
		}
	}
	os.Remove(filepath.Join(dir, PidFile))
	if len(errs) > 0 {
		return len(pids), fmt.Errorf("i2pnet: down: %w", errors.Join(errs...))
	}
	return len(pids), nil
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// Env reads the client options Start wrote into dir.
func Env(dir string) (i2pd.Options, error) {
	b, err := os.ReadFile(filepath.Join(dir, ClientFile))
	if err != nil {
		return nil, fmt.Errorf("i2pnet: env: %w", err)
	}
	return parseOptions(string(b))
}

// formatOptions writes options one "key = value" a line, sorted.
func formatOptions(o i2pd.Options) string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = %s\n", k, o[k])
	}
	return b.String()
}

// parseOptions reads what formatOptions wrote.
func parseOptions(s string) (i2pd.Options, error) {
	o := i2pd.Options{}
	for i, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		k, v, ok := strings.Cut(l+" ", " = ")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("i2pnet: env: line %d: want key = value", i+1)
		}
		o[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return o, o.Check()
}
