package grouping

import (
	"net/url"
	"path"
	"regexp"
	"strings"
)

// Platform families, as Sentry's get_behavior_family_for_platform
// (src/sentry/stacktraces/platform.py): rules written for a family apply to
// every platform in it.
const (
	familyJavaScript = "javascript"
	familyNative     = "native"
	familyJava       = "java"
	familyOther      = "other"
)

func familyOf(platform string) string {
	switch platform {
	case "javascript", "node":
		return familyJavaScript
	case "objc", "cocoa", "swift", "native", "c":
		return familyNative
	case "java", "groovy":
		return familyJava
	}
	return familyOther
}

// contextLinePlatforms are those whose source line Sentry trusts enough to
// group by (the "contextline_platforms" of its grouping configs).
func usesContextLine(platform string) bool {
	switch platform {
	case "javascript", "node", "python", "php", "ruby":
		return true
	}
	return false
}

// hasURLOrigin reports whether a frame's path points to a URL rather than
// to a file in the application. filesAreURLs counts file: URLs too.
// Followed: has_url_origin in src/sentry/grouping/strategies/utils.py.
func hasURLOrigin(p string, filesAreURLs bool) bool {
	for _, prefix := range []string{"http:", "https:", "applewebdata:", "blob:"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return filesAreURLs && strings.HasPrefix(p, "file:")
}

// basename is the last element of a POSIX or Windows path.
func basename(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// --- JavaScript ---

var (
	// cleanModuleRe drops folder prefixes that say nothing about the code
	// (static/, js/, versions, short shas) and a trailing commit-ish.
	// Followed: CLEAN_MODULE_RE in src/sentry/lang/javascript/processor.py.
	cleanModuleRe = regexp.MustCompile(`(?i)^(?:/|(?:(?:java)?scripts?|js|build|static|node_modules|bower_components|[_.~].*?|v?(?:\d+\.)*\d+|[a-f0-9]{7,8}|[a-f0-9]{32}|[a-f0-9]{40})/)+|(?:[-.][a-f0-9]{7,}$)`)
	// versionRe is a path element that is a whole release hash.
	versionRe = regexp.MustCompile(`(?i)^[a-f0-9]{32}|^[a-f0-9]{40}$`)
)

// generateModule makes up a module name from a script URL, as Sentry does
// for JavaScript frames that came without one:
// https://example.com/static/js/v1.0/foo/bar.min.js?x=1 -> foo/bar.
// Followed: generate_module in src/sentry/lang/javascript/processor.py.
func generateModule(src string) string {
	p := src
	if u, err := url.Parse(src); err == nil {
		p = u.Path
	} else {
		p, _, _ = strings.Cut(p, "?")
		p, _, _ = strings.Cut(p, "#")
	}
	if ext := path.Ext(p); ext != "" && !strings.HasSuffix(p, "/"+ext) {
		p = strings.TrimSuffix(p, ext)
	}
	p = strings.TrimSuffix(p, ".min")
	tokens := strings.Split(p, "/")
	for i, t := range tokens {
		if versionRe.MatchString(t) {
			return strings.Join(tokens[i+1:], "/")
		}
	}
	if m := cleanModuleRe.ReplaceAllString(p, ""); m != "" {
		return m
	}
	return "<unknown module>"
}

// stripBuildHashes removes the content hashes bundlers put into file and
// chunk names (main.3f2a1b9c.chunk, index-BzK3a9Qf, app.min.js?v=12) so
// that every deploy does not start new issues. Sentry only drops a hash at
// the very end of a module name; Tocsin drops one anywhere in a name.
func stripBuildHashes(name string) string {
	name, _, _ = strings.Cut(name, "?")
	name, _, _ = strings.Cut(name, "#")
	segments := strings.Split(name, "/")
	kept := segments[:0]
	for i, seg := range segments {
		if out := stripSegmentHashes(seg); out != "" || seg == "" && (i == 0 || i == len(segments)-1) {
			kept = append(kept, out)
		}
	}
	return strings.Join(kept, "/")
}

// stripSegmentHashes drops the hash tokens of one path element; tokens are
// separated by . - _ or ~, and a token goes with the separator before it.
func stripSegmentHashes(seg string) string {
	seg = stripViteHash(seg)
	type token struct{ sep, text string }
	var toks []token
	start := 0
	for i := 0; i <= len(seg); i++ {
		if i < len(seg) && !strings.ContainsRune(".-_~", rune(seg[i])) {
			continue
		}
		t := token{text: seg[start:i]}
		if start > 0 {
			t.sep = seg[start-1 : start]
		}
		toks = append(toks, t)
		start = i + 1
	}
	var b strings.Builder
	dropped := false
	for _, t := range toks {
		if looksLikeHash(t.text) {
			dropped = true
			continue
		}
		if b.Len() == 0 && dropped {
			t.sep = "" // the first token went: no separator before the new first
		}
		b.WriteString(t.sep)
		b.WriteString(t.text)
	}
	return b.String()
}

// stripViteHash drops the hash of Vite and Rollup's "[name]-[hash].js": 8
// base64url characters, which may contain - and _ and need not have a
// digit, so the token rule of looksLikeHash cannot see them.
func stripViteHash(seg string) string {
	stem, ext := seg, ""
	if i := strings.LastIndexByte(seg, '.'); i > 0 && len(seg)-i <= 5 && isAlnum(seg[i+1:]) {
		stem, ext = seg[:i], seg[i:]
	}
	if len(stem) < 10 || stem[len(stem)-9] != '-' {
		return seg
	}
	hash := stem[len(stem)-8:]
	digitOrMark, upper, lower := false, false, false
	for i := 0; i < len(hash); i++ {
		switch c := hash[i]; {
		case c >= '0' && c <= '9', c == '-', c == '_':
			digitOrMark = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		default:
			return seg
		}
	}
	if !digitOrMark && !(upper && lower) {
		return seg // a word: user-settings
	}
	return stem[:len(stem)-9] + ext
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return s != ""
}

// looksLikeHash: 7+ hex digits with a digit (a commit-ish or a hex content
// hash), or 8+ letters and digits with at least two digits (base32/62
// hashes).
func looksLikeHash(tok string) bool {
	if len(tok) < 7 {
		return false
	}
	hex, digits, upper, lower := true, 0, false, false
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'z':
			lower = true
			hex = hex && c <= 'f'
		case c >= 'A' && c <= 'Z':
			upper = true
			hex = hex && c <= 'F'
		default:
			return false
		}
	}
	return (hex && digits > 0 && !(upper && lower)) || (len(tok) >= 8 && digits >= 2 && (upper || lower))
}

// --- Java ---

var (
	// Followed: the *_enhancer_re patterns of
	// src/sentry/grouping/strategies/newstyle.py.
	javaReflectRe    = regexp.MustCompile(`(sun\.reflect\.Generated(?:Serialization)?ConstructorAccessor)\d+`)
	javaCGLIBRe      = regexp.MustCompile(`(\$\$[\w_]+?CGLIB\$\$)[a-fA-F0-9]+(_[0-9]+)?`)
	javaAssistRe     = regexp.MustCompile(`(\$\$_javassist)(?:_seam)?(?:_[0-9]+)?`)
	clojureFnRe      = regexp.MustCompile(`(\$fn__)\d+`)
	javaEnhancerByRe = regexp.MustCompile(`(\$\$?EnhancerBy[\w_]+?\$?\$)[a-fA-F0-9]+(_[0-9]+)?`)
	javaFastClassRe  = regexp.MustCompile(`(\$\$?FastClassBy[\w_]+?\$?\$)[a-fA-F0-9]+(_[0-9]+)?`)
	javaHibernateRe  = regexp.MustCompile(`(\$\$?HibernateProxy\$?\$)\w+(_[0-9]+)?`)
)

// javaModule cleans the class name of a Java frame of what code generators
// number at run time. ok is false for lambda classes, which say nothing.
func javaModule(module string) (string, bool) {
	// JDK 8-17 name lambdas Foo$$Lambda$123/0x..., JDK 21 Foo$$Lambda/0x...
	if strings.Contains(module, "$$Lambda$") || strings.Contains(module, "$$Lambda/") {
		return module, false
	}
	for _, prefix := range []string{"sun.reflect.GeneratedMethodAccessor", "jdk.internal.reflect.GeneratedMethodAccessor"} {
		if strings.HasPrefix(module, prefix) {
			return prefix, true
		}
	}
	if strings.Contains(module, "Generated") {
		module = javaReflectRe.ReplaceAllString(module, "${1}<auto>")
	}
	if !strings.Contains(module, "$") {
		return module, true
	}
	for _, re := range []*regexp.Regexp{javaCGLIBRe, javaAssistRe, clojureFnRe, javaEnhancerByRe, javaFastClassRe, javaHibernateRe} {
		module = re.ReplaceAllString(module, "${1}<auto>")
	}
	return anonymousJavaClasses(module), true
}

// anonymousJavaClasses replaces the numbers javac gives anonymous classes
// (Foo$1, Foo$Bar$2) with <auto>: they shift whenever one is added above.
// Sentry keeps them; Tocsin does not.
func anonymousJavaClasses(module string) string {
	if !strings.Contains(module, "$") {
		return module
	}
	parts := strings.Split(module, "$")
	for i := 1; i < len(parts); i++ {
		if p := parts[i]; p != "" && strings.Trim(p, "0123456789") == "" {
			parts[i] = "<auto>"
		}
	}
	return strings.Join(parts, "$")
}

// --- Go ---

// goClosureRe matches the numbers the Go compiler gives function literals
// and wrappers: handler.func1, main.func2.3, glob..func1, main.gowrap1.
var goClosureRe = regexp.MustCompile(`\.(func|gowrap|deferwrap)\d+(?:\.\d+)*`)

// goFunction keeps a closure's enclosing function and drops its number, so
// adding a closure above it does not split the issue.
func goFunction(fn string) string {
	if !strings.Contains(fn, ".") {
		return fn
	}
	return goClosureRe.ReplaceAllString(fn, ".$1")
}

// --- Ruby, PHP ---

var rubyERBRe = regexp.MustCompile(`__\d{4,}_\d{4,}$`)
