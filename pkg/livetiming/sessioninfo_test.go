package livetiming

import (
	"os"
	"testing"
)

func TestCircuitOf(t *testing.T) {
	b, err := os.ReadFile("../../testdata/f1/recorded/livetiming.formula1.com/static/2019/2019-09-08_Italian_Grand_Prix/2019-09-07_Qualifying/SessionInfo.jsonStream")
	if err != nil {
		t.Fatal(err)
	}
	key, name, err := CircuitOf(b)
	if err != nil || key != 39 || name != "Monza" {
		t.Fatalf("CircuitOf = %d, %q, %v; want 39, Monza", key, name, err)
	}
	if _, _, err := CircuitOf([]byte("00:00:00.000{\"Key\":1}\r\n")); err == nil {
		t.Fatal("a SessionInfo without a meeting must be an error")
	}
}
