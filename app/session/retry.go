package session

// RetryNow cuts a reconnect back-off short: while the session waits to
// reconnect, the next attempt starts at once (the "retry now" of the
// status bar). It does nothing while connected.
func (s *Session) RetryNow() {
	select {
	case s.retryNow <- struct{}{}:
	default:
	}
}
