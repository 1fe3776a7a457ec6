package grouping

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tocsin/tocsin/event"
)

// TestGroup_Messages: messages that differ only in event-specific values
// are one issue.
func TestGroup_Messages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, a, b string
		same       bool
	}{
		{"numbers", "Retry 3 of 5 failed after 1500 ms", "Retry 4 of 5 failed after 2250 ms", true},
		{"floats", "Balance -12.50 below limit 0.00", "Balance -3.75 below limit 0.00", true},
		{"uuids", "Order 550e8400-e29b-41d4-a716-446655440000 not found", "Order 6ba7b810-9dad-11d1-80b4-00c04fd430c8 not found", true},
		{"ipv4", "Connection to 10.0.0.1 refused", "Connection to 192.168.17.254 refused", true},
		{"ipv6", "Connection to 2001:db8::1 refused", "Connection to 2001:0db8:85a3:0000:0000:8a2e:0370:7334 refused", true},
		{"emails", "Cannot deliver to ana@example.com", "Cannot deliver to bo.lee+shop@mail.example.org", true},
		{"hex", "Segfault at 0x7ffd5e8c and 0x0", "Segfault at 0x10 and 0xdeadbeef", true},
		{"hex ids", "Job 5f2b9c1e04a7 failed", "Job 9a8b7c6d5e4f failed", true},
		{"sha", "Deploy 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12 failed", "Deploy da39a3ee5e6b4b0d3255bfef95601890afd80709 failed", true},
		{"iso timestamps", "Lock held since 2026-11-02T10:00:00Z", "Lock held since 2026-11-03T23:59:59.123+02:00", true},
		{"dates and times", "Report for 2026-11-02 at 10:15:00", "Report for 2025-01-31 at 23:01:59", true},
		{"http dates", "Expired on Mon, 02 Nov 2026 10:00:00 GMT", "Expired on Tue, 03 Nov 2026 11:30:00 GMT", true},
		{"urls", "GET https://api.example.com/v1/users/42?x=1 failed", "GET https://api.example.com/v1/users/7 failed", true},
		{"durations", "Query took 1500ms", "Query took 31ms", true},
		{"key-value strings", "Invalid user='ana' active=true", "Invalid user='bo' active=false", true},
		{"trailing lines", "Crash in worker\nstate: 1\nmore detail 1", "Crash in worker\nstate: 2\nother detail", true},
		{"words", "Payment declined", "Payment refunded", false},
		{"first two lines", "Crash in worker\nstate: ok", "Crash in worker\nstate: broken", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := Group(&event.Event{Platform: "python", Message: tt.a})
			b := Group(&event.Event{Platform: "python", Message: tt.b})
			if (a.Hash == b.Hash) != tt.same {
				t.Errorf("same = %v, want %v: %q vs %q", a.Hash == b.Hash, tt.same, normalizeMessage(tt.a), normalizeMessage(tt.b))
			}
			if a.Method != MethodMessage {
				t.Errorf("method %q", a.Method)
			}
		})
	}
}

func TestParameterize(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Failed to connect to 10.0.0.1:5432", "Failed to connect to <ip>:<int>"},
		{"user john.doe@example.com not found", "user <email> not found"},
		{"request 550e8400-e29b-41d4-a716-446655440000 failed", "request <uuid> failed"},
		{"at 2024-01-15T10:30:00Z and 2024-01-15 10:30:00.123", "at <date> and <date>"},
		{"at 10:30 pm, 23:59:59", "at <date>, <date>"},
		{"Mon, 02 Jan 2006 15:04:05 MST", "<date>"},
		{"Mon Jan 02 2006 15:04:05 GMT+0100 (Central European Standard Time)", "<date>"},
		{"datetime.datetime(2024, 1, 1, 10, 0)", "<date>"},
		{"took 150ms, then 1.5s", "took <duration>, then <duration>"},
		{"pointer 0xdeadbeef and 0XFF", "pointer <hex> and <hex>"},
		{"code abc123 ABC123 added", "code <hex> <hex> added"},
		{"commit abc1234 deadbee", "commit <git_sha> deadbee"},
		{"12345678 and 1234567", "<hex> and <int>"},
		{"GET https://example.com/a?b=1 failed", "GET <url> failed"},
		{"connected to db.example.com", "connected to <hostname>"},
		{"id=42 name='bob' ok=true x=\"y z\"", "id=<int> name=<quoted_str> ok=<bool> x=<quoted_str>"},
		{"value -5 and a-5 and -3.25", "value <int> and a-<int> and <float>"},
		{"trace 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "trace <traceparent>"},
		{"tx 2001:db8::ff00:42:8329 and ::1", "tx <ip>:<int>:<int> and <ip>"},
		// Sentry's lookarounds keep Class::method apart from IPv6.
		{"Foo::bar failed", "Foo::bar failed"},
		{"Übergröße 42", "Übergröße <int>"},
		{"no values here", "no values here"},
	}
	for _, tt := range tests {
		if got := parameterize(tt.in); got != tt.want {
			t.Errorf("parameterize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeMessage(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"one line", "one line"},
		{"first\nsecond\nthird", "first\nsecond..."},
		{"\n\nfirst\r\n  \r\nsecond", "first\nsecond..."},
		{"trailing\n", "trailing..."},
	}
	for _, tt := range tests {
		if got := normalizeMessage(tt.in); got != tt.want {
			t.Errorf("normalizeMessage(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// hostileInputs once made some pattern rescan the rest of the text at
// every position: 8 KB messages took seconds to a minute. The benchmark
// below shows the cost per size (it should grow eightfold from 2 KB to
// 16 KB, not sixty-fourfold); the test only checks they finish whole.
var hostileInputs = map[string]func(n int) string{
	"labels":   func(n int) string { return strings.Repeat("a.", n/2) },
	"dots":     func(n int) string { return strings.Repeat("1.", n/2) },
	"digits":   func(n int) string { return strings.Repeat("1", n) },
	"email":    func(n int) string { return strings.Repeat("a", n) + " @b.com" },
	"datetime": func(n int) string { return strings.Repeat("datetime.datetime(", n/18) },
	"colons":   func(n int) string { return strings.Repeat("1:", n/2) },
	"dashes":   func(n int) string { return strings.Repeat("-1", n/2) },
	"ints":     func(n int) string { return strings.Repeat("1 ", n/2) },
	"dashrun":  func(n int) string { return strings.Repeat("a-", n/2) },
}

func TestParameterize_Hostile(t *testing.T) {
	t.Parallel()
	for name, gen := range hostileInputs {
		if out := parameterize(gen(16384)); out == "" {
			t.Errorf("%s: empty result", name)
		}
	}
}

// BenchmarkParameterize_Hostile: go test -bench Parameterize_Hostile ./grouping/
func BenchmarkParameterize_Hostile(b *testing.B) {
	for name, gen := range hostileInputs {
		for _, size := range []int{2048, 16384} {
			s := gen(size)
			b.Run(fmt.Sprintf("%s/%d", name, size), func(b *testing.B) {
				for b.Loop() {
					parameterize(s)
				}
			})
		}
	}
}
