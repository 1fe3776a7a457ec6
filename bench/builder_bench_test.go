package bench_test

import (
	"testing"

	"github.com/tocsin/tocsin/bench"
)

// BenchmarkBuilder_Next is the generator's cost per event, which `tocsin
// bench ingest` takes from the CPU the server could have had.
func BenchmarkBuilder_Next(b *testing.B) {
	evs, err := bench.NewEvents(300)
	if err != nil {
		b.Fatal(err)
	}
	gen := bench.NewBuilder(evs, "http://0123456789abcdef0123456789abcdef@127.0.0.1:9000/1", 1, 2)
	gen.Next()
	b.SetBytes(int64(gen.EventSize())) // MB/s of event JSON
	b.ReportAllocs()
	for b.Loop() {
		gen.Next()
	}
}
