package observability_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// repoRoot is the repository root relative to this package's directory (clients/go/observability).
const repoRoot = "../../.."

var listeningRE = regexp.MustCompile(`listening on (http://[^\s]+)`)

// server is a real rs3gw-observability process started from the repository's build.
type server struct {
	url    string
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // the process's exit status, once exited is closed

	mu     sync.Mutex
	output bytes.Buffer // stdout and stderr, for failure messages
}

// startServer runs `node dist/src/cli.js serve --port 0` and waits for its listening line; env
// adds NAME=value settings.
func startServer(t *testing.T, env ...string) *server {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	cli := filepath.Join(root, "dist", "src", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("the server is not built: %v\nrun `npm run build` in %s first", err, root)
	}

	s := &server{exited: make(chan struct{})}
	s.cmd = exec.Command("node", cli, "serve", "--port", "0")
	s.cmd.Dir = root
	// Host CPU alone does not shed here: the machine running the tests is shared (see testResources).
	s.cmd.Env = append(append(os.Environ(), "RS3GW_PROFILING_INTERVAL=1", "RS3GW_LOAD_SHEDDING_THRESHOLD=1", "RS3GW_PSI_THRESHOLD=99"), env...)
	s.cmd.Stderr = &lockedWriter{s}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start the server: %v", err)
	}

	urls := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			line := scanner.Text()
			_, _ = (&lockedWriter{s}).Write([]byte(line + "\n"))
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		// Wait only after stdout is drained, as os/exec requires for StdoutPipe.
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})

	select {
	case s.url = <-urls:
		return s
	case <-s.exited:
		t.Fatalf("the server exited before listening (%v); output:\n%s", s.err, s.log())
	case <-time.After(30 * time.Second):
		t.Fatalf("the server printed no listening line within 30 s; output:\n%s", s.log())
	}
	return nil
}

// stop sends SIGTERM and requires a clean exit (status 0) within the server's shutdown grace.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("the server did not exit within 20 s of SIGTERM; output:\n%s", s.log())
	}
	if s.err != nil {
		t.Fatalf("the server exited with %v after SIGTERM, want status 0; output:\n%s", s.err, s.log())
	}
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.output.String()
}

type lockedWriter struct{ s *server }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.output.Write(p)
}

// procRSS reads a process's resident set size from /proc, as the server should measure it.
func procRSS(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	var kib uint64
	for _, line := range bytes.Split(data, []byte("\n")) {
		if n, _ := fmt.Sscanf(string(line), "VmRSS: %d kB", &kib); n == 1 {
			return kib * 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
