package cursors

import (
	"errors"
	"maps"
	"sync"
)

// Storage is a string key/value store: localStorage in the browser.
type Storage interface {
	// Get returns the value of key, and false when there is none (or it
	// cannot be read).
	Get(key string) (string, bool)
	// Set stores value under key. A full storage fails with an error
	// wrapping ErrQuotaExceeded.
	Set(key, value string) error
	// Remove deletes key.
	Remove(key string)
}

// ErrQuotaExceeded: the storage is full.
var ErrQuotaExceeded = errors.New("cursors: storage quota exceeded")

// ErrUnavailable: the storage cannot be used (e.g. localStorage denied).
var ErrUnavailable = errors.New("cursors: storage unavailable")

// MemoryStorage is a Storage in memory: for tests, native builds, and
// browsers where localStorage is unavailable. It is safe for concurrent use.
type MemoryStorage struct {
	mu sync.Mutex
	m  map[string]string
	// Quota, when > 0, bounds the total length of keys and values, like
	// localStorage's quota.
	Quota int
}

// NewMemoryStorage returns an empty MemoryStorage without a quota.
func NewMemoryStorage() *MemoryStorage { return &MemoryStorage{m: map[string]string{}} }

// Get implements Storage.
func (m *MemoryStorage) Get(key string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[key]
	return v, ok
}

// Set implements Storage.
func (m *MemoryStorage) Set(key, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]string{}
	}
	if m.Quota > 0 {
		used := len(key) + len(value)
		for k, v := range m.m {
			if k != key {
				used += len(k) + len(v)
			}
		}
		if used > m.Quota {
			return ErrQuotaExceeded
		}
	}
	m.m[key] = value
	return nil
}

// Remove implements Storage.
func (m *MemoryStorage) Remove(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, key)
}

// Snapshot returns a copy of the stored values.
func (m *MemoryStorage) Snapshot() map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.m)
}
