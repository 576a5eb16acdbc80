// ls.go: list the live keys of an etcd snapshot with Go bbolt, the reader
// every Go etcd tool stands on — a baseline for etcdsnap's own reader.
//
// It opens the file read-only, scans the `key` bucket with a cursor,
// decodes field 1 (key) of each value's mvccpb.KeyValue protobuf by hand,
// keeps the newest entry per user key (bucket keys are revisions: 8-byte
// main + '_' + 8-byte sub = 17 bytes, plus a trailing 't' on tombstones),
// drops keys whose newest entry is a tombstone, sorts and prints one key per
// line. With -walk-only it only walks the bucket (keys, no values) and
// prints the number of entries.
//
// GOPATH mode, no modules (see build.sh):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o target/go-bbolt-ls benches/go-bbolt/ls.go
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

const (
	revBytesLen   = 8 + 1 + 8
	markedRevLen  = revBytesLen + 1
	markTombstone = 't'
)

var errNoKey = errors.New("KeyValue has no field 1")

// uvarint decodes a protobuf base-128 varint at b[i:].
func uvarint(b []byte, i int) (uint64, int, error) {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if i >= len(b) {
			return 0, 0, errors.New("truncated varint")
		}
		c := b[i]
		i++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, i, nil
		}
	}
	return 0, 0, errors.New("varint overflow")
}

// kvKey returns field 1 (bytes key) of a marshaled mvccpb.KeyValue,
// skipping any other field that comes before it.
func kvKey(b []byte) ([]byte, error) {
	for i := 0; i < len(b); {
		tag, j, err := uvarint(b, i)
		if err != nil {
			return nil, err
		}
		i = j
		field, wire := tag>>3, tag&7
		switch wire {
		case 0: // varint
			if _, i, err = uvarint(b, i); err != nil {
				return nil, err
			}
		case 1: // fixed64
			i += 8
		case 5: // fixed32
			i += 4
		case 2: // length-delimited
			n, j, err := uvarint(b, i)
			if err != nil {
				return nil, err
			}
			if n > uint64(len(b)-j) {
				return nil, errors.New("truncated field")
			}
			if field == 1 {
				return b[j : j+int(n)], nil
			}
			i = j + int(n)
		default:
			return nil, fmt.Errorf("unsupported wire type %d", wire)
		}
	}
	return nil, errNoKey
}

func main() {
	walkOnly := flag.Bool("walk-only", false, "only walk the bucket (no values read); print the entry count")
	bucket := flag.String("bucket", "key", "bucket to scan")
	timing := flag.Bool("time", false, "print open/scan/output timings to stderr")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: %s [-walk-only] [-time] SNAPSHOT.db\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *bucket, *walkOnly, *timing); err != nil {
		fmt.Fprintln(os.Stderr, "go-bbolt-ls:", err)
		os.Exit(1)
	}
}

func run(path, bucket string, walkOnly, timing bool) error {
	t0 := time.Now()
	// Read-only: O_RDONLY, shared flock, no freelist load, never writes.
	db, err := bolt.Open(path, 0400, &bolt.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	t1 := time.Now()

	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	defer out.Flush()

	var tScan, tWalked time.Time
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return fmt.Errorf("no bucket %q", bucket)
		}
		c := b.Cursor()
		if walkOnly {
			n := 0
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				n++
			}
			tScan = time.Now()
			fmt.Fprintln(out, n)
			return nil
		}

		// Revisions ascend in key order, so the last entry seen for a user
		// key is its newest; true = newest entry is a tombstone.
		tomb := make(map[string]bool)
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var dead bool
			switch {
			case len(k) == revBytesLen:
			case len(k) == markedRevLen && k[revBytesLen] == markTombstone:
				dead = true
			default:
				return fmt.Errorf("unexpected revision key %x", k)
			}
			uk, err := kvKey(v)
			if err != nil {
				return fmt.Errorf("revision %x: %w", k, err)
			}
			tomb[string(uk)] = dead // copies uk: it points into the mmap
		}
		tWalked = time.Now()
		keys := make([]string, 0, len(tomb))
		for k, dead := range tomb {
			if !dead {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		tScan = time.Now()
		for _, k := range keys {
			out.WriteString(k)
			out.WriteByte('\n')
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if timing {
		t3 := time.Now()
		if tWalked.IsZero() { // -walk-only
			tWalked = tScan
		}
		fmt.Fprintf(os.Stderr, "open %v, scan %v, sort %v, output %v, total %v\n",
			t1.Sub(t0), tWalked.Sub(t1), tScan.Sub(tWalked), t3.Sub(tScan), t3.Sub(t0))
	}
	return nil
}
