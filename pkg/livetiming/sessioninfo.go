package livetiming

import (
	"encoding/json"
	"fmt"
)

// CircuitOf reads the circuit key and short name a SessionInfo.jsonStream
// body names (Meeting.Circuit), from its first line that has them.
func CircuitOf(sessionInfo []byte) (key int, shortName string, err error) {
	s, err := Decode(sessionInfo, false)
	if err != nil {
		return 0, "", err
	}
	for _, l := range s.Lines {
		var v struct {
			Meeting struct {
				Circuit struct {
					Key       int    `json:"Key"`
					ShortName string `json:"ShortName"`
				} `json:"Circuit"`
			} `json:"Meeting"`
		}
		if json.Unmarshal(l.Data, &v) == nil && v.Meeting.Circuit.Key != 0 {
			return v.Meeting.Circuit.Key, v.Meeting.Circuit.ShortName, nil
		}
	}
	return 0, "", fmt.Errorf("livetiming: SessionInfo names no circuit")
}
