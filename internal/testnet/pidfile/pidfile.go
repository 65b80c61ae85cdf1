package pidfile

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

// Name is the pid file's name inside a network's directory.
const Name = "pids"

// Add appends pid and a name for it to dir's pid file.
func Add(dir string, pid int, name string) error {
	f, err := os.OpenFile(filepath.Join(dir, Name), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("pidfile: %w", err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "%d %s\n", pid, name); err != nil {
		return fmt.Errorf("pidfile: %w", err)
	}
	return nil
}

// Remove deletes dir's pid file.
func Remove(dir string) { os.Remove(filepath.Join(dir, Name)) }

// KillAll kills (SIGKILL) each process listed in dir's pid file whose
// command line still names a file in dir, waits up to 5 s for them to exit,
// and removes the pid file. It returns how many processes it signalled.
func KillAll(dir string) (int, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return 0, fmt.Errorf("pidfile: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, Name))
	if err != nil {
		return 0, fmt.Errorf("pidfile: %w", err)
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
		for Alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if Alive(pid) {
			errs = append(errs, fmt.Errorf("pid %d still running", pid))
		}
	}
	Remove(dir)
	if len(errs) > 0 {
		return len(pids), fmt.Errorf("pidfile: %w", errors.Join(errs...))
	}
	return len(pids), nil
}

// Alive reports whether pid exists and is not a zombie.
func Alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}
