package consume

import (
	"errors"
	"fmt"
	"time"
)

// Policy is how a consumer retries what fails and when it gives up. A
// failed delivery waits First, the next twice as long, and so on up to
// Max; a message is given up (dead-lettered) once it has been failing for
// For, or at once for a *PermanentError, or when its Panics-th delivery
// panics. Zero fields take DefaultPolicy's values.
type Policy struct {
	First  time.Duration // delay after the first failure; 1 s
	Max    time.Duration // the delay's cap; 30 s
	For    time.Duration // the retry budget; 6 h (PADDOCK_RETRY_FOR); negative: never give up
	Panics int           // deliveries that may panic; 3
}

// DefaultPolicy is production's policy: an outage of a dependency is
// waited out for six hours, retrying at most every 30 s.
func DefaultPolicy() Policy {
	return Policy{First: time.Second, Max: 30 * time.Second, For: 6 * time.Hour, Panics: 3}
}

func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	if p.First <= 0 {
		p.First = d.First
	}
	if p.Max <= 0 {
		p.Max = d.Max
	}
	if p.Max < p.First {
		p.Max = p.First
	}
	if p.For == 0 {
		p.For = d.For
	}
	if p.Panics <= 0 {
		p.Panics = d.Panics
	}
	return p
}

// delay is the wait after the delivery-th failed delivery.
func (p Policy) delay(delivery uint64) time.Duration {
	d := p.First
	for i := uint64(1); i < delivery && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// spent is the time a message has waited after n failed deliveries.
func (p Policy) spent(n uint64) time.Duration {
	var t time.Duration
	for i := uint64(1); i <= n; i++ {
		d := p.delay(i)
		if d == p.Max { // the rest are capped
			return t + time.Duration(n-i+1)*d
		}
		t += d
	}
	return t
}

// decision is what becomes of a failed delivery.
type decision struct {
	after  time.Duration // nak delay
	reason string        // metric label: the dependency down, "retry", "panic" or "error"
	giveUp string        // non-empty: dead-letter, with why in words
	class  string        // metric label of a dead letter: permanent, panic, retry-budget
}

// decide settles a failed delivery (the delivery-th) of a message failing
// since since (zero: not seen failing in this process).
func (s *settler) decide(err error, delivery uint64, since time.Time) decision {
	p := s.policy
	var perm *PermanentError
	var retry *RetryError
	var down *DownError
	var pan *panicError
	d := decision{after: p.delay(delivery), reason: "error"}
	switch {
	case errors.As(err, &perm):
		return decision{giveUp: "permanent error", class: "permanent"}
	case errors.As(err, &pan):
		d.reason = "panic"
		if delivery >= uint64(p.Panics) {
			return decision{giveUp: fmt.Sprintf("panicked on %d deliveries", delivery), class: "panic"}
		}
	case errors.As(err, &down):
		d.reason = down.Dependency
	case errors.As(err, &retry):
		d.after, d.reason = retry.After, "retry"
	}
	if p.For > 0 {
		// Deliveries say how long the message has waited at least, even
		// when another process saw its first failures.
		failing := p.spent(delivery - 1)
		if !since.IsZero() {
			failing = max(failing, time.Since(since))
		}
		if failing >= p.For {
			return decision{giveUp: fmt.Sprintf("retry budget spent (failing for %s, %d deliveries; PADDOCK_RETRY_FOR=%s)",
				roundDuration(failing), delivery, p.For), class: "retry-budget"}
		}
	}
	return d
}

// roundDuration rounds d for people: to the second from a minute on.
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}
