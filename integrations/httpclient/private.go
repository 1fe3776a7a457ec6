package httpclient

import "net/netip"

// nonPublic are ranges that netip.Addr's predicates do not cover and that
// no webhook receiver on the public internet lives in.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"; 0.0.0.0 reaches the local host
	netip.MustParsePrefix("100.64.0.0/10"),  // CGNAT shared address space (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments (RFC 6890)
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking, used inside networks (RFC 2544)
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and 255.255.255.255 broadcast
	netip.MustParsePrefix("::/96"),          // IPv4-compatible IPv6 (deprecated), :: and ::1 too
	netip.MustParsePrefix("100::/64"),       // discard-only (RFC 6666)
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64 (RFC 8215)
	netip.MustParsePrefix("fec0::/10"),      // deprecated site-local
	netip.MustParsePrefix("2001:10::/28"),   // ORCHID (deprecated)
	netip.MustParsePrefix("2001:20::/28"),   // ORCHIDv2
}

// Prefixes whose IPv6 addresses embed an IPv4 address that a gateway
// would connect to: the embedded address is checked too.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96") // well-known NAT64 (RFC 6052)
	sixToFour = netip.MustParsePrefix("2002::/16")    // 6to4 (RFC 3056)
)

// IsPrivate reports whether a is an address that outgoing webhooks must
// not reach: loopback (127/8, ::1), private (RFC 1918, fc00::/7),
// link-local (169.254/16 with the cloud metadata endpoint
// 169.254.169.254, fe80::/10), unspecified, multicast, CGNAT (100.64/10),
// reserved and documentation ranges, and any of these in IPv4-mapped,
// NAT64 or 6to4 form. An invalid address counts as private.
func IsPrivate(a netip.Addr) bool {
	if !a.IsValid() {
		return true
	}
	a = a.Unmap().WithZone("")
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return true
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return true
		}
	}
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64.Contains(a):
			return IsPrivate(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(a):
			return IsPrivate(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	return false
}
