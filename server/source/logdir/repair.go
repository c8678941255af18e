package logdir

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// repair copies a damaged partition's files to qdir, then rewrites each
// damaged segment with only its readable batches (named after its first
// one, with a matching index) and drops the partition's snapshot, so the
// broker rebuilds its view from the segments. Offsets of lost batches stay
// unused: the broker skips such holes as it does after compaction.
func repair(ps *scanned, qdir string) error {
	if err := copyDir(ps.dir, qdir); err != nil {
		return fmt.Errorf("moving the damaged log aside: %w", err)
	}
	for _, s := range ps.segments {
		if s.badBytes == 0 && s.idxEntries <= len(s.batches) {
			continue
		}
		oldDat := filepath.Join(ps.dir, strconv.FormatInt(s.base, 10)+".dat")
		oldIdx := filepath.Join(ps.dir, strconv.FormatInt(s.base, 10)+".idx")
		if len(s.batches) == 0 {
			if err := removeAll(oldDat, oldIdx); err != nil {
				return err
			}
			continue
		}
		var dat, idx []byte
		for _, b := range s.batches {
			raw := s.raw[b.pos : b.pos+b.size]
			dat = append(dat, raw...)
			idx = append(idx, indexEntry(raw)...)
		}
		base := s.batches[0].first
		newDat := filepath.Join(ps.dir, strconv.FormatInt(base, 10)+".dat")
		newIdx := filepath.Join(ps.dir, strconv.FormatInt(base, 10)+".idx")
		if err := writeAtomic(newDat, dat); err != nil {
			return err
		}
		if err := writeAtomic(newIdx, idx); err != nil {
			return err
		}
		if base != s.base {
			if err := removeAll(oldDat, oldIdx); err != nil {
				return err
			}
		}
	}
	return removeAll(filepath.Join(ps.dir, "snapshot.json"))
}

// indexEntry is kfake's index entry for a batch: version 1, a checksum
// byte, the leader epoch, the running max timestamp (recomputed on load, so
// 0) and whether the batch is transactional.
func indexEntry(raw []byte) []byte {
	var e [indexEntrySize]byte
	e[0] = 1
	copy(e[2:6], binary.LittleEndian.AppendUint32(nil, binary.BigEndian.Uint32(raw[12:16])))
	attrs := binary.BigEndian.Uint16(raw[21:23])
	if attrs&0x10 != 0 && attrs&0x20 == 0 {
		e[14] = 1
	}
	e[1] = byte(crc32.Checksum(e[2:], crc32c))
	return e[:]
}

func writeAtomic(path string, data []byte) error {
	tmp := path + ".repair"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("repairing the log: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("repairing the log: %w", err)
	}
	return nil
}

func removeAll(paths ...string) error {
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("repairing the log: %w", err)
		}
	}
	return nil
}

// copyDir copies the regular files of src into dst.
func copyDir(src, dst string) error {
	entries, err := os.ReadDir(src)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
