package producer

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Error classes of failed sends: the bounded reason label of
// dashstream_telemetry_send_failures_total, and what ErrorClass returns.
const (
	// ErrClassBufferFull: the Kafka client's own buffer was full.
	ErrClassBufferFull = "buffer_full"
	// ErrClassClosing: the client was closed or its records aborted.
	ErrClassClosing = "closing"
	// ErrClassTooLarge: the broker or client refused the record's size.
	ErrClassTooLarge = "too_large"
	// ErrClassAuthorization: authentication or an ACL refused the write.
	ErrClassAuthorization = "authorization"
	// ErrClassUnknownTopic: the topic does not exist (and is not auto-created).
	ErrClassUnknownTopic = "unknown_topic"
	// ErrClassTimeout: the delivery timeout expired (broker unreachable or
	// failing with retriable errors all along).
	ErrClassTimeout = "timeout"
	// ErrClassRetriable: a retriable broker error the client gave up on.
	ErrClassRetriable = "retriable"
	// ErrClassOther: anything else.
	ErrClassOther = "other"
)

// ErrorClass sorts a delivery error into one of the ErrClass values. The
// non-retriable causes (size, authorization, unknown topic) win over a
// timeout that wraps them, since they say what to fix. The Kafka client
// already retries retriable errors itself, idempotently, until the delivery
// timeout; the producer adds no application-level retry, which would only
// duplicate records (upstream S-7) or retry what cannot succeed (§16.10).
func ErrorClass(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, kgo.ErrMaxBuffered):
		return ErrClassBufferFull
	case errors.Is(err, kgo.ErrClientClosed), errors.Is(err, kgo.ErrAborting), errors.Is(err, context.Canceled):
		return ErrClassClosing
	case errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge), errors.Is(err, kerr.InvalidRecord):
		return ErrClassTooLarge
	case errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed),
		errors.Is(err, kerr.SaslAuthenticationFailed), errors.Is(err, kerr.TransactionalIDAuthorizationFailed):
		return ErrClassAuthorization
	case errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, kerr.UnknownTopicID):
		return ErrClassUnknownTopic
	case errors.Is(err, kgo.ErrRecordTimeout), errors.Is(err, kgo.ErrRecordRetries), errors.Is(err, context.DeadlineExceeded):
		return ErrClassTimeout
	case kerr.IsRetriable(err):
		return ErrClassRetriable
	}
	return ErrClassOther
}

// ErrClosed is returned by Flush after Close.
var ErrClosed = errors.New("producer: closed")
