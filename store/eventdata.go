package store

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Events are stored whole as zstd-compressed JSON: a 10 KB Python event
// shrinks to about 2 KB, which keeps the store and its I/O small.

var (
	zenc = sync.OnceValue(func() *zstd.Encoder {
		// One encoder per CPU: EncodeAll waits for a free one, and request
		// goroutines compress in parallel.
		e, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithLowerEncoderMem(true))
		return e
	})
	zdec = sync.OnceValue(func() *zstd.Decoder {
		d, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(64<<20))
		return d
	})
)

// CompressEventData compresses an event's JSON for storage. Ingest calls it
// in the request, before the write batch, so the single writer does not
// spend its time compressing.
func CompressEventData(json []byte) []byte {
	return zenc().EncodeAll(json, make([]byte, 0, len(json)/3))
}

// decompressEventData reverses CompressEventData.
func decompressEventData(data []byte) ([]byte, error) {
	out, err := zdec().DecodeAll(data, nil)
	if err != nil {
		return nil, fmt.Errorf("decompress event: %w", err)
	}
	return out, nil
}
