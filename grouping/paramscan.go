package grouping

import (
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The hand-written matchers, guards and lookbehinds of the parameterizer
// (parameterize.go), and what it reads off its regexes: where a match can
// start and how long it can be.

// emailLocal are the characters of an email's local part besides letters
// and digits.
const emailLocal = ".!#$%&'*+/=?^_`{|}~-"

func isEmailLocal(c byte) bool { return isAlnumASCII(c) || strings.IndexByte(emailLocal, c) >= 0 }

func isAlnumASCII(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isHostByte(c byte) bool { return isAlnumASCII(c) || c == '-' }

// matchEmail matches an email address by hand: its local part is the
// longest run of local characters, shared by every position in the run,
// so the run's end is found once per run and not once per position, which
// costs O(n²) on "-1-1-1…" or "aaaa… b@c".
func matchEmail(sc *scanner, i int) int {
	s := sc.s
	if sc.localEnd <= i {
		j := i
		for j < len(s) && isEmailLocal(s[j]) {
			j++
		}
		sc.localEnd = j
	}
	at := sc.localEnd
	if at == i || at >= len(s) || s[at] != '@' {
		return -1
	}
	k := at + 1
	for k < len(s) && isHostByte(s[k]) {
		k++
	}
	if k == at+1 {
		return -1
	}
	for k+1 < len(s) && s[k] == '.' && isHostByte(s[k+1]) {
		k += 2
		for k < len(s) && isHostByte(s[k]) {
			k++
		}
	}
	return k - i
}

// topLevelDomains are the TLDs Sentry recognizes in hostnames, in upper or
// lower case (not mixed).
var topLevelDomains = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range strings.Split(reTLDs, "|") {
		m[t], m[strings.ToLower(t)] = true, true
	}
	return m
}()

// maxHostname is DNS's limit; longer runs of labels are not a hostname.
const maxHostname = 253

// matchHostname matches labels of letters, digits and dashes, each ending
// in a dot, lazily until the word after a dot is a known TLD. Scanning
// from a later position of the same chain of labels sees the same dots and
// words, so it resumes where the last scan stopped (sc.hostUpTo): each dot
// is looked at once, not once per position.
func matchHostname(sc *scanner, i int) int {
	s := sc.s
	j := i
	if i < sc.hostUpTo {
		j = sc.hostUpTo
	}
	for j < len(s) && j-i <= maxHostname {
		k := j
		for k < len(s) && k-j <= 63 && isHostByte(s[k]) {
			k++
		}
		if k == j || k-j > 63 || k == len(s) || s[k] != '.' {
			return -1
		}
		j = k + 1
		w := j
		for w < len(s) && isWordByte(s[w]) {
			w++
		}
		if topLevelDomains[s[j:w]] {
			return w - i
		}
		sc.hostUpTo = j
	}
	return -1
}

// matchDatetime matches Python's repr of a datetime, up to the first ")"
// on the line; where that is, is found once and reused, so that many
// unclosed "datetime.datetime(" do not each scan the rest of the line.
func matchDatetime(sc *scanner, i int) int {
	s := sc.s
	if !strings.HasPrefix(s[i:], "datetime") || i+8 >= len(s) {
		return -1
	}
	// Sentry's pattern leaves the dot unescaped: any character but a
	// newline.
	r, size := utf8.DecodeRuneInString(s[i+8:])
	j := i + 8 + size
	if r == '\n' || !strings.HasPrefix(s[j:], "datetime(") {
		return -1
	}
	j += len("datetime(")
	if sc.closeAt < j {
		k := strings.IndexAny(s[j:], ")\n")
		if k < 0 {
			k = len(s) - j
		}
		sc.closeAt = j + k
	}
	if sc.closeAt >= len(s) || s[sc.closeAt] != ')' {
		return -1
	}
	return sc.closeAt + 1 - i
}

// digitsThen is a guard: n digits, then one of the bytes in next.
func digitsThen(n int, next string) func(string) bool {
	return func(rest string) bool {
		if len(rest) <= n {
			return false
		}
		for i := 0; i < n; i++ {
			if !isDigitByte(rest[i]) {
				return false
			}
		}
		return strings.IndexByte(next, rest[n]) >= 0
	}
}

// digitRunThen is a guard: an optional minus, digits, then one of the
// bytes in next.
func digitRunThen(next string) func(string) bool {
	return func(rest string) bool {
		i := 0
		if i < len(rest) && rest[i] == '-' {
			i++
		}
		j := i
		for j < len(rest) && isDigitByte(rest[j]) {
			j++
		}
		return j > i && j < len(rest) && strings.IndexByte(next, rest[j]) >= 0
	}
}

// hexPrefix is a guard: 0x or 0X.
func hexPrefix(rest string) bool { return len(rest) > 2 && (rest[1] == 'x' || rest[1] == 'X') }

// dateThenTime is a guard for datetimes: \d{4}-?[01]\d-?[0-3]\d[\sT].
func dateThenTime(rest string) bool {
	i := 0
	digits := func(n int, first string) bool {
		for k := 0; k < n; k++ {
			if i >= len(rest) || !isDigitByte(rest[i]) || k == 0 && first != "" && strings.IndexByte(first, rest[i]) < 0 {
				return false
			}
			i++
		}
		return true
	}
	dash := func() {
		if i < len(rest) && rest[i] == '-' {
			i++
		}
	}
	if !digits(4, "") {
		return false
	}
	dash()
	if !digits(2, "01") {
		return false
	}
	dash()
	return digits(2, "0123") && i < len(rest) && (rest[i] == 'T' || unicode.IsSpace(rune(rest[i])))
}

// dayOfMonthThenSpace is a guard for the RFC 2822 date that starts with
// the day of the month: one or two digits, white space, a month.
func dayOfMonthThenSpace(rest string) bool {
	if !isDigitByte(rest[0]) {
		return true // starts with the weekday
	}
	i := 1
	if i < len(rest) && isDigitByte(rest[i]) {
		i++
	}
	if i == len(rest) || !unicode.IsSpace(rune(rest[i])) {
		return false
	}
	for i < len(rest) && unicode.IsSpace(rune(rest[i])) {
		i++
	}
	return len(rest)-i >= 3 && strings.Contains(reMonth, rest[i:i+3])
}

// hexThenColon: an IPv6 address has a colon within its first five bytes.
func hexThenColon(rest string) bool {
	for i := 0; i < len(rest) && i <= 4; i++ {
		c := rest[i]
		if c == ':' {
			return true
		}
		if !(isDigitByte(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return false
}

func notWord(c byte) bool  { return !isWordByte(c) }
func notDigit(c byte) bool { return !isDigitByte(c) }
func isEquals(c byte) bool { return c == '=' }

// minusAfterNonWord is Sentry's (?<!\w)- : a minus sign, not a dash
// between two words.
func minusAfterNonWord(a *paramAlt) { a.before = notWord }

// firstBytes computes which bytes a match of pattern can start with, from
// the parsed regex; bytes of multi-byte runes are all allowed.
func firstBytes(pattern string) (set [256]bool) {
	if firstBytesOf(parse(pattern), &set) {
		for i := range set {
			set[i] = true // can match empty: no filter
		}
	}
	return set
}

func parse(pattern string) *syntax.Regexp {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		panic(err)
	}
	return re.Simplify()
}

// maxLen is the longest match of re in bytes, or -1 when unbounded.
func maxLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			n += utf8.RuneLen(r)
		}
		return n
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return utf8.UTFMax
	case syntax.OpCapture, syntax.OpQuest:
		return maxLen(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		return -1
	case syntax.OpRepeat:
		n := maxLen(re.Sub[0])
		if n < 0 || re.Max < 0 {
			return -1
		}
		return n * re.Max
	case syntax.OpConcat, syntax.OpAlternate:
		total := 0
		for _, sub := range re.Sub {
			n := maxLen(sub)
			switch {
			case n < 0:
				return -1
			case re.Op == syntax.OpConcat:
				total += n
			case n > total:
				total = n
			}
		}
		return total
	}
	return 0 // empty-width assertions
}

// firstBytesOf adds the possible first bytes of re to set and reports whether
// re can match the empty string.
func firstBytesOf(re *syntax.Regexp, set *[256]bool) bool {
	addRune := func(lo, hi rune) {
		for r := lo; r <= hi && r < 0x80; r++ {
			set[r] = true
		}
		if hi >= 0x80 {
			for i := 0x80; i < 0x100; i++ {
				set[i] = true
			}
		}
	}
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return true
		}
		r := re.Rune[0]
		addRune(r, r)
		if re.Flags&syntax.FoldCase != 0 {
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				addRune(f, f)
			}
		}
		return false
	case syntax.OpCharClass:
		for j := 0; j+1 < len(re.Rune); j += 2 {
			addRune(re.Rune[j], re.Rune[j+1])
		}
		return false
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		addRune(0, 0x10FFFF)
		return false
	case syntax.OpCapture, syntax.OpPlus:
		return firstBytesOf(re.Sub[0], set)
	case syntax.OpStar, syntax.OpQuest:
		firstBytesOf(re.Sub[0], set)
		return true
	case syntax.OpRepeat:
		empty := firstBytesOf(re.Sub[0], set)
		return empty || re.Min == 0
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if !firstBytesOf(sub, set) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		empty := false
		for _, sub := range re.Sub {
			if firstBytesOf(sub, set) {
				empty = true
			}
		}
		return empty
	case syntax.OpNoMatch:
		return false
	default: // empty-width assertions and empty matches
		return true
	}
}
