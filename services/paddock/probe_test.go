package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestProbe: 0 for a 200, 1 for anything else, 2 without a URL.
func TestProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"probe", srv.URL + "/healthz"}, 0},
		{[]string{"probe", srv.URL + "/readyz"}, 1},
		{[]string{"probe", "http://127.0.0.1:1/healthz", "--timeout", "1s"}, 1},
		{[]string{"probe"}, 2},
		{[]string{"probe", srv.URL + "/healthz", "--timeout", "0s"}, 2},
		{[]string{"probe", srv.URL + "/healthz", "--timeout", "-1s"}, 2},
	} {
		if _, code, _ := runCLI(t, tc.args...); code != tc.code {
			t.Errorf("paddock %v: exit %d, want %d", tc.args, code, tc.code)
		}
	}
}
