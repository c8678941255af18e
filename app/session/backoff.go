package session

import (
	"math/rand/v2"
	"time"
)

// backoff returns the delay before reconnect attempt n (0 for the first
// retry): d = min(max, base·2^n), then a uniformly random time in [d/2, d].
// The jitter keeps a fleet of tabs from reconnecting in lockstep after a
// server restart; the floor keeps a flapping server from being hammered.
// There is no last attempt: the session never gives up.
func backoff(n int, base, max time.Duration, r *rand.Rand) time.Duration {
	d := base
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	if d > max || d <= 0 {
		d = max
	}
	half := d / 2
	return half + time.Duration(r.Int64N(int64(d-half)+1))
}
