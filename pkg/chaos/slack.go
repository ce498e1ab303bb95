package chaos

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
)

// Slack is a stand-in for a Slack incoming webhook: it answers every post
// 200 and keeps its text.
type Slack struct {
	mu    sync.Mutex
	posts []string
	srv   *http.Server
	ln    net.Listener
}

// StartSlack listens on 127.0.0.1 on a free port.
func StartSlack() (*Slack, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Slack{ln: ln}
	s.srv = &http.Server{Handler: s}
	go s.srv.Serve(ln)
	return s, nil
}

// URL is the webhook's URL.
func (s *Slack) URL() string { return "http://" + s.ln.Addr().String() + "/hook" }

// ServeHTTP records a webhook post.
func (s *Slack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var msg struct {
		Text string `json:"text"`
	}
	if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.posts = append(s.posts, msg.Text)
	s.mu.Unlock()
	w.Write([]byte("ok"))
}

// Summaries counts the posted run summaries ("F1 Import Complete" or
// "Failed"), and Pauses the other posts.
func (s *Slack) Summaries() (summaries, others int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.posts {
		if strings.Contains(p, "F1 Import") {
			summaries++
		} else {
			others++
		}
	}
	return summaries, others
}

// Close stops the listener.
func (s *Slack) Close() error { return s.srv.Close() }
