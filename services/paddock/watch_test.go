package main

import (
	"strings"
	"testing"
)

// TestWatchRefusesBadFlags: a watch that could not do its work is
// refused at once (exit 2) with what to give instead, before anything
// starts.
func TestWatchRefusesBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"watch", "--year", "2017"}, "watch a season from 2018"},
		{[]string{"watch", "--every", "0s"}, "--every 0s: want a positive duration"},
		{[]string{"watch", "--after", "2h", "--within", "1h"}, "--within 1h0m0s must be longer than --after 2h0m0s"},
		{[]string{"watch", "--kinds", "wether"}, `unknown kind "wether"`},
		{[]string{"watch", "--recorded", "/nonexistent"}, "not a directory of recorded responses"},
		{[]string{"watch", "2024"}, `unexpected argument "2024"`},
	} {
		out, code, msg := runCLI(t, c.args...)
		if code != 2 || !strings.Contains(msg, c.want) {
			t.Errorf("paddock %s: exit %d, %q (output %q); want exit 2 saying %q", strings.Join(c.args, " "), code, msg, out, c.want)
		}
	}
}
