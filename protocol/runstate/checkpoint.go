package runstate

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/klauspost/compress/zstd"

	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
)

// CheckpointInfo describes a checkpoint a run keeps.
type CheckpointInfo struct {
	// ID is the checkpoint_id in hex (the message_id when it had none).
	ID  string
	Seq uint64
	// Valid: its state was usable; otherwise Reason says why not.
	Valid  bool
	Reason string
}

// checkpoints keeps a run's recent checkpoints by id (their states bounded by
// Config.MaxCheckpointsPerRun, M-715) and remembers the ids of valid ones
// longer, which is all a base_checkpoint_id check needs.
type checkpoints struct {
	kept     []keptCheckpoint // ascending seq
	validIDs []string         // oldest first
}

type keptCheckpoint struct {
	id     string
	seq    uint64
	root   *jsontree.Node
	reason string // "" when valid
}

func (c *checkpoints) add(id string, seq uint64, root *jsontree.Node, reason string, cfg *Config) {
	c.kept = appendBounded(c.kept, keptCheckpoint{id: id, seq: seq, root: root, reason: reason}, cfg.MaxCheckpointsPerRun)
	if reason == "" && !slices.Contains(c.validIDs, id) {
		c.validIDs = appendBounded(c.validIDs, id, 8*cfg.MaxCheckpointsPerRun)
	}
}

// knownValid reports whether id names a valid checkpoint of this run.
func (c *checkpoints) knownValid(id string) bool {
	if slices.Contains(c.validIDs, id) {
		// An id seen valid once may have been reused by an invalid one
		// later; the latest checkpoint with that id decides.
		for i := len(c.kept) - 1; i >= 0; i-- {
			if c.kept[i].id == id {
				return c.kept[i].reason == ""
			}
		}
		return true
	}
	return false
}

func (c *checkpoints) list() []CheckpointInfo {
	out := make([]CheckpointInfo, len(c.kept))
	for i, k := range c.kept {
		out[i] = CheckpointInfo{ID: hexID([]byte(k.id)), Seq: k.seq, Valid: k.reason == "", Reason: k.reason}
	}
	return out
}

// checkpointState returns a checkpoint's state bytes, decompressed when
// compression_info says ZSTD (upstream's Rust producer compresses states of
// 512 bytes or more, which its own UI could never read), and verified
// against checksum, the SHA-256 of the uncompressed bytes, when present.
func (s *Store) checkpointState(cp *pb.Checkpoint) ([]byte, error) {
	data := cp.GetState()
	limit := s.cfg.MaxSnapshotBytes
	switch t := cp.GetCompressionInfo().GetType(); t {
	case pb.CompressionType_COMPRESSION_NONE:
	case pb.CompressionType_COMPRESSION_ZSTD:
		if us := cp.GetCompressionInfo().GetUncompressedSize(); us > uint64(limit) {
			return nil, fmt.Errorf("declared uncompressed size %d exceeds the %d-byte limit", us, limit)
		}
		out, err := s.zstdDecoder().DecodeAll(data, nil)
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		data = out
	default:
		return nil, fmt.Errorf("unsupported compression %s", t)
	}
	if len(data) > limit {
		return nil, fmt.Errorf("state of %d bytes exceeds the %d-byte limit", len(data), limit)
	}
	if sum := cp.GetChecksum(); len(sum) == sha256.Size {
		if got := sha256.Sum256(data); !bytes.Equal(got[:], sum) {
			return nil, fmt.Errorf("checksum mismatch: expected %s, computed %s", shortHex(sum), shortHex(got[:]))
		}
	}
	return data, nil
}

// zstdDecoder returns the store's decoder for checkpoint states, created on
// first use. With a nil reader and DecodeAll only, it starts no goroutines;
// its memory and output are capped at MaxSnapshotBytes.
func (s *Store) zstdDecoder() *zstd.Decoder {
	if s.zstd == nil {
		d, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxMemory(uint64(s.cfg.MaxSnapshotBytes)),
		)
		if err != nil {
			// Only invalid options fail, and these are fixed and valid.
			panic(fmt.Sprintf("runstate: zstd decoder: %v", err))
		}
		s.zstd = d
	}
	return s.zstd
}
