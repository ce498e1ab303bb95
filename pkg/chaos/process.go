package chaos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Process is a program the chaos trials run, kill and start again: a
// service or nats-server. Its output goes to a log file that every start
// appends to.
type Process struct {
	Name string   // what the logs and the table call it
	Path string   // the binary
	Args []string // its arguments
	Env  []string // its environment (nil: the harness's)
	Log  string   // file its output is appended to
	// Supervise starts the process again a second after it ended on its
	// own (not by Kill or Stop), as the shipped deployments' restart
	// policies do (compose's unless-stopped, a Kubernetes Deployment);
	// Crashes counts those ends.
	Supervise bool

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	state   *os.ProcessState
	kills   int
	crashes int
	halted  bool // ended by Kill or Stop: not started again until Start
}

// Start runs the process; it fails if it is already running.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.halted = false
	return p.startLocked()
}

func (p *Process) startLocked() error {
	if p.cmd != nil && p.state == nil {
		return fmt.Errorf("chaos: %s is already running", p.Name)
	}
	log, err := os.OpenFile(p.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("chaos: log of %s: %w", p.Name, err)
	}
	fmt.Fprintf(log, "--- %s start %s\n", time.Now().Format(time.RFC3339Nano), p.Name)
	cmd := exec.Command(p.Path, p.Args...)
	cmd.Env = p.Env
	cmd.Stdout, cmd.Stderr = log, log
	// If the harness dies, so does everything it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("chaos: start %s: %w", p.Name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.state = cmd, done, nil
	go func() {
		_ = cmd.Wait()
		p.mu.Lock()
		p.state = cmd.ProcessState
		crashed := p.Supervise && !p.halted
		if crashed {
			p.crashes++
		}
		p.mu.Unlock()
		fmt.Fprintf(log, "--- %s exit %s: %s\n", time.Now().Format(time.RFC3339Nano), p.Name, cmd.ProcessState)
		log.Close()
		close(done)
		if crashed {
			time.AfterFunc(time.Second, func() {
				p.mu.Lock()
				defer p.mu.Unlock()
				if !p.halted && p.state != nil {
					_ = p.startLocked()
				}
			})
		}
	}()
	return nil
}

// Crashes is how many times the process ended on its own while supervised.
func (p *Process) Crashes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.crashes
}

// Running reports whether the process runs.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil && p.state == nil
}

// Kill sends SIGKILL and waits until the process is gone. A process that
// is not running is left alone.
func (p *Process) Kill() error {
	p.mu.Lock()
	cmd, done, running := p.cmd, p.done, p.cmd != nil && p.state == nil
	if running {
		p.kills++
	}
	p.halted = true
	p.mu.Unlock()
	if !running {
		return nil
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("chaos: kill %s: %w", p.Name, err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("chaos: %s still running 10s after SIGKILL", p.Name)
	}
}

// Stop sends SIGTERM and waits up to grace for the process to end; it
// returns how it ended (nil if it was not running), or an error if it did
// not end within grace (it is killed then).
func (p *Process) Stop(grace time.Duration) (*os.ProcessState, error) {
	p.mu.Lock()
	cmd, done, running := p.cmd, p.done, p.cmd != nil && p.state == nil
	p.halted = true
	p.mu.Unlock()
	if !running {
		return nil, nil
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.state, nil
	case <-time.After(grace):
		_ = p.Kill()
		return nil, fmt.Errorf("chaos: %s did not stop within %s of SIGTERM", p.Name, grace)
	}
}

// Kills is how many times Kill ended the process.
func (p *Process) Kills() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.kills
}

// NATS returns a nats-server process with JetStream on port, storing in
// dir: killed and started again, it finds its streams there.
func NATS(bin string, port int, dir, log string) *Process {
	return &Process{
		Name: "nats",
		Path: bin,
		Args: []string{"-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", dir, "-n", "paddock-chaos"},
		Log:  log,
	}
}

// WaitListening polls until addr accepts TCP connections.
func WaitListening(ctx context.Context, addr string, timeout time.Duration) error {
	return poll(ctx, timeout, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// FreePort returns a TCP port on 127.0.0.1 nobody listened on a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Build compiles the main packages pkgs (import paths or ./dirs relative
// to root) into dir with one go build, each binary named as go names it
// (the last path element without a major version suffix).
func Build(ctx context.Context, root, dir string, pkgs ...string) error {
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-o", dir + string(filepath.Separator)}, pkgs...)...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("chaos: go build %v: %w\n%s", pkgs, err, b)
	}
	return nil
}
