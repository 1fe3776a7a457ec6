package grouping

import (
	"regexp"
	"strings"
	"unicode"
)

// Native (C, C++, Objective-C, Swift, Rust) function names come demangled
// with return types, argument lists, template arguments and compiler
// specific lambda names that vary between builds and compilers. Sentry
// groups by the bare function name; trimNativeFunction does the same.
// Followed: trim_native_function_name in src/sentry/stacktraces/functions.py.

var (
	windowsDeclRe = regexp.MustCompile(`^@?(.*?)@[0-9]+$`)
	rustHashRe    = regexp.MustCompile(`::h[a-z0-9]{16}$`)
	cppTrailerRe  = regexp.MustCompile(`(\bconst\b|&)$`)
	rustBlanketRe = regexp.MustCompile(`^([A-Z] as )`)
	// gcc {lambda(int)#1}, msvc lambda_<32 hex>, clang $_0
	lambdaRe        = regexp.MustCompile(`\{lambda\(.*?\)#\d+\}|\blambda_[a-f0-9]{32}\b|\$_\d+\b`)
	lambdaPrefixRe  = regexp.MustCompile(`^(?:\{lambda\(.*?\)#\d+\}|\blambda_[a-f0-9]{32}\b|\$_\d+\b)`)
	anonNamespaceRe = regexp.MustCompile(`\?A0x[a-f0-9]{8}::`)

	// Placeholders for the tokens that would upset bracket balancing.
	nativeProtect = strings.NewReplacer(
		"operator<<", "operator⟨⟨",
		"operator<", "operator⟨",
		"operator()", "operator◯",
		" -> ", " ⟿ ",
		"`anonymous namespace'", "〔anonymousnamespace〕",
	)
	nativeRestore = strings.NewReplacer(
		"⟨", "<",
		"◯", "()",
		" ⟿ ", " -> ",
		"〔anonymousnamespace〕", "`anonymous namespace'",
	)
)

// trimNativeFunction reduces a demangled native function to its name:
// "unsigned int std::foo<int>::bar(char const*) const" -> "std::foo<T>::bar".
func trimNativeFunction(function string) string {
	if function == "<redacted>" || function == "<unknown>" {
		return function
	}
	original := function
	function = strings.TrimSpace(function)
	// Objective-C methods are already what we want.
	if strings.HasPrefix(function, "[") || strings.HasPrefix(function, "+[") || strings.HasPrefix(function, "-[") {
		return function
	}
	for {
		loc := cppTrailerRe.FindStringIndex(function)
		if loc == nil {
			break
		}
		function = strings.TrimRightFunc(function[:loc[0]], unicode.IsSpace)
	}
	function = nativeProtect.Replace(function)
	function = lambdaRe.ReplaceAllString(function, "lambda")
	function = anonNamespaceRe.ReplaceAllString(function, "〔anonymousnamespace〕::")

	// Drop argument lists.
	function = replaceEnclosed(function, '(', ')', func(inner string, _ int) string {
		inner = strings.TrimSpace(inner)
		if inner == "anonymous namespace" || inner == "operator" {
			return "(" + inner + ")"
		}
		return ""
	})
	// Generic arguments become <T>, except Rust's <Foo as Bar>::baz.
	function = replaceEnclosed(function, '<', '>', processGenerics)

	tokens := splitFuncTokens(function)
	// MSVC puts a space between an operator and its generic arguments.
	if len(tokens) > 1 && tokens[len(tokens)-1] == "<T>" {
		tokens = tokens[:len(tokens)-1]
		tokens[len(tokens)-1] += " <T>"
	}
	// The name is the token before a Swift "->" return marker, else the last.
	var name string
	for i, t := range tokens {
		if t == "⟿" {
			if i > 0 {
				name = tokens[i-1]
			} else {
				name = tokens[len(tokens)-1]
			}
			break
		}
	}
	if name == "" && len(tokens) > 0 {
		name = tokens[len(tokens)-1]
	}
	if name == "" {
		function = original
	} else {
		function = nativeRestore.Replace(name)
	}
	function = rustHashRe.ReplaceAllString(function, "")
	return windowsDeclRe.ReplaceAllString(function, "$1")
}

func processGenerics(inner string, start int) string {
	if inner == "lambda" || lambdaPrefixRe.MatchString(inner) {
		return "<" + inner + ">"
	}
	if start > 0 {
		return "<T>"
	}
	inner = rustBlanketRe.ReplaceAllString(inner, "")
	inner = replaceEnclosed(inner, '<', '>', processGenerics)
	name, _, _ := strings.Cut(inner, " as ")
	return name
}

// replaceEnclosed replaces each outermost open…close span of s with what
// repl returns for its inside and its start offset; unbalanced closers
// swallow the rest, as in Sentry's replace_enclosed_string.
func replaceEnclosed(s string, open, close rune, repl func(inner string, start int) string) string {
	if !strings.ContainsRune(s, open) {
		return s
	}
	var b strings.Builder
	depth, pairStart := 0, 0
	for i, c := range s {
		switch {
		case c == open:
			if depth == 0 {
				pairStart = i
			}
			depth++
		case c == close:
			depth--
			if depth == 0 {
				b.WriteString(repl(s[pairStart+len(string(open)):i], pairStart))
			}
		case depth == 0:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// splitFuncTokens splits s on whitespace outside of brackets.
func splitFuncTokens(s string) []string {
	var out []string
	var buf strings.Builder
	var stack []rune
	end := 0
	for i, c := range s {
		next := i + len(string(c))
		switch closer, isOpen := closerOf(c); {
		case isOpen:
			stack = append(stack, closer)
		case len(stack) > 0 && c == stack[len(stack)-1]:
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				buf.WriteString(s[end:next])
				end = next
			}
		case len(stack) == 0:
			if unicode.IsSpace(c) {
				if buf.Len() > 0 {
					out = append(out, buf.String())
				}
				buf.Reset()
			} else {
				buf.WriteString(s[end:next])
			}
			end = next
		}
	}
	if buf.Len() > 0 {
		out = append(out, buf.String())
	}
	return out
}

func closerOf(c rune) (rune, bool) {
	switch c {
	case '(':
		return ')', true
	case '{':
		return '}', true
	case '[':
		return ']', true
	case '<':
		return '>', true
	}
	return 0, false
}
