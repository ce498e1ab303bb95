package streams_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/paddock-f1/paddock/streams"
)

// TestDecodeReadsItsTypeAndRefusesNewerVersions: a message decodes into its
// type; one from a newer schema asks for an upgrade, whether or not its
// body fits this build's type; a body that is not JSON says so.
func TestDecodeReadsItsTypeAndRefusesNewerVersions(t *testing.T) {
	var m streams.Manifest
	in := streams.Encode(streams.Manifest{V: streams.SchemaVersion, RunID: "r1", Kinds: []string{"weather"},
		Feeds: []streams.Feed{{Name: "WeatherData.jsonStream", Status: streams.FeedOK}}})
	if err := streams.Decode(in, &m); err != nil || m.RunID != "r1" || m.Feed("WeatherData.jsonStream") == nil {
		t.Fatalf("decode: %v, %+v", err, m)
	}
	newer := streams.SchemaVersion + 1
	for _, body := range []string{
		fmt.Sprintf(`{"v":%d,"run_id":"r2"}`, newer),
		fmt.Sprintf(`{"v":%d,"run_id":{"a new":"shape"}}`, newer), // does not fit Manifest
	} {
		err := streams.Decode([]byte(body), &streams.Manifest{})
		if err == nil || !strings.Contains(err.Error(), "upgrade paddock") {
			t.Fatalf("%s: %v, want the upgrade error", body, err)
		}
	}
	if err := streams.Decode([]byte(`{"v":1,"run_id":`), &streams.Manifest{}); err == nil || !strings.Contains(err.Error(), "streams: decode") {
		t.Fatalf("truncated body: %v", err)
	}
	var head struct {
		RunID string `json:"run_id"`
	} // no V: the version is read on its own
	if err := streams.Decode([]byte(fmt.Sprintf(`{"v":%d}`, newer)), &head); err == nil {
		t.Fatal("a newer message decoded into a type without V")
	}
}
