package httpclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

func TestIsPrivate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"10.0.0.1", true},
		{"172.16.5.4", true},
		{"172.31.255.255", true},
		{"192.168.1.1", true},
		{"169.254.169.254", true},
		{"169.254.1.1", true},
		{"100.64.0.1", true},
		{"100.127.255.255", true},
		{"0.0.0.0", true},
		{"255.255.255.255", true},
		{"224.0.0.1", true},
		{"::", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"fc00::1", true},
		{"fd12:3456::1", true},
		{"ff02::1", true},
		{"::ffff:127.0.0.1", true},
		{"::ffff:169.254.169.254", true},
		{"::ffff:10.1.2.3", true},
		{"::127.0.0.1", true},
		{"64:ff9b::7f00:1", true},    // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", true}, // NAT64 of 169.254.169.254
		{"2002:7f00:1::", true},      // 6to4 of 127.0.0.1
		{"8.8.8.8", false},
		{"1.1.1.1", false},
		{"100.63.255.255", false},
		{"100.128.0.0", false},
		{"172.32.0.1", false},
		{"2606:4700:4700::1111", false},
		{"::ffff:8.8.8.8", false},
		{"64:ff9b::808:808", false}, // NAT64 of 8.8.8.8
	} {
		t.Run(tc.addr, func(t *testing.T) {
			t.Parallel()
			if got := IsPrivate(netip.MustParseAddr(tc.addr)); got != tc.want {
				t.Errorf("IsPrivate(%s) = %v, want %v", tc.addr, got, tc.want)
			}
		})
	}
	if !IsPrivate(netip.Addr{}) {
		t.Error("the invalid address must count as private")
	}
}

// server starts an HTTP server on addr ("127.0.0.1:0", "[::1]:0") that
// counts its requests; it skips the test when addr cannot be listened on.
func server(t *testing.T, addr string, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	var hits atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if h != nil {
			h(w, r)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &hits
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

func wantRefused(t *testing.T, err error, addr string) {
	t.Helper()
	var pe *PrivateAddressError
	if !errors.As(err, &pe) {
		t.Fatalf("want a PrivateAddressError, got %v", err)
	}
	if !errors.Is(err, ErrPrivateAddress) {
		t.Errorf("errors.Is(%v, ErrPrivateAddress) = false", err)
	}
	if pe.Addr.String() != addr {
		t.Errorf("refused %s, want %s", pe.Addr, addr)
	}
	if want := "refused to connect to private address " + addr; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

func TestNew_refusesPrivate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, listen, addr string
		url                func(srv *httptest.Server) string
	}{
		{"ipv4 loopback", "127.0.0.1:0", "127.0.0.1", func(s *httptest.Server) string { return s.URL }},
		{"ipv6 loopback", "[::1]:0", "::1", func(s *httptest.Server) string { return s.URL }},
		{"localhost resolved", "127.0.0.1:0", "127.0.0.1", func(s *httptest.Server) string {
			return "http://localhost:" + s.URL[strings.LastIndex(s.URL, ":")+1:]
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, hits := server(t, tc.listen, nil)
			_, err := get(t, New(Options{}), tc.url(srv))
			if tc.name == "localhost resolved" {
				// localhost may resolve to ::1 first; either is refused.
				var pe *PrivateAddressError
				if !errors.As(err, &pe) || !pe.Addr.IsLoopback() {
					t.Fatalf("want a loopback refused, got %v", err)
				}
			} else {
				wantRefused(t, err, tc.addr)
			}
			if hits.Load() != 0 {
				t.Errorf("the private server got %d requests", hits.Load())
			}

			resp, err := get(t, New(Options{AllowPrivate: true}), srv.URL)
			if err != nil {
				t.Fatalf("AllowPrivate: %v", err)
			}
			if resp.StatusCode != http.StatusNoContent || hits.Load() != 1 {
				t.Errorf("AllowPrivate: status %d, %d requests", resp.StatusCode, hits.Load())
			}
		})
	}
}

// public treats 127.0.0.2 as a public address, so that a test server
// listening there stands for a server on the internet.
func public(a netip.Addr) bool {
	return a != netip.MustParseAddr("127.0.0.2") && IsPrivate(a)
}

func TestNew_redirectToPrivateRefused(t *testing.T) {
	t.Parallel()
	private, privateHits := server(t, "127.0.0.1:0", nil)
	allowed, allowedHits := server(t, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, private.URL+"/latest/meta-data/", http.StatusFound)
	})

	_, err := get(t, New(Options{IsPrivateFunc: public}), allowed.URL)
	wantRefused(t, err, "127.0.0.1")
	if allowedHits.Load() != 1 || privateHits.Load() != 0 {
		t.Errorf("allowed got %d requests, private %d; want 1 and 0", allowedHits.Load(), privateHits.Load())
	}

	resp, err := get(t, New(Options{AllowPrivate: true}), allowed.URL)
	if err != nil || resp.StatusCode != http.StatusNoContent || privateHits.Load() != 1 {
		t.Errorf("AllowPrivate: %v, private got %d requests", err, privateHits.Load())
	}
}

func TestNew_redirectLimit(t *testing.T) {
	t.Parallel()
	var srv *httptest.Server
	srv, hits := server(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/again", http.StatusFound)
	})

	_, err := get(t, New(Options{AllowPrivate: true, MaxRedirects: 2}), srv.URL)
	if err == nil || !strings.Contains(err.Error(), "stopped after 2 redirects") {
		t.Errorf("want stopped after 2 redirects, got %v", err)
	}
	if hits.Load() != 3 {
		t.Errorf("%d requests, want 3 (the first and 2 redirects)", hits.Load())
	}

	resp, err := get(t, New(Options{AllowPrivate: true, MaxRedirects: -1}), srv.URL)
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Errorf("MaxRedirects -1: %v, want the 302 itself", err)
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	srv, _ := server(t, "127.0.0.1:0", nil)
	url := strings.Replace(srv.URL, "http://", "http://hookuser:hookpass@", 1) + "/hook/tok3n?key=s3cret"
	_, err := get(t, New(Options{}), url)
	err = RedactURL(err)
	for _, secret := range []string{"hookuser", "hookpass", "tok3n", "s3cret"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q reveals %q", err, secret)
		}
	}
	wantRefused(t, err, "127.0.0.1")
	if want := "Get " + srv.URL + "/…: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q does not start with %q", err, want)
	}
}
