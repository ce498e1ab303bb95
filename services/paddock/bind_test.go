package main

import (
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestOpsEndpointsStayOnThisMachineByDefault: a service started without
// PADDOCK_HTTP_ADDR serves /healthz, /readyz and /metrics on 127.0.0.1
// only, not on the machine's other addresses.
func TestOpsEndpointsStayOnThisMachineByDefault(t *testing.T) {
	other := nonLoopback(t)
	d := newDeployment(t)
	cmd := exec.Command(filepath.Join(d.bin, "planner"))
	cmd.Env = d.env // no PADDOCK_HTTP_ADDR: the default
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	waitFor(t, 30*time.Second, func() error {
		resp, err := http.Get("http://127.0.0.1:8081/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("healthz %d", resp.StatusCode)
		}
		return nil
	})
	c, err := net.DialTimeout("tcp", net.JoinHostPort(other, "8081"), 2*time.Second)
	if err == nil {
		c.Close()
		t.Fatalf("the planner's ops endpoint answers on %s:8081: by default it must serve 127.0.0.1 only", other)
	}
}

// nonLoopback returns an address of this machine other than loopback.
func nonLoopback(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Skip("this machine has no address but loopback")
	return ""
}
