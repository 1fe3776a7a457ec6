package grouping

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tocsin/tocsin/event"
)

// maxContextLine: longer source lines are likely minified or generated
// and say nothing stable about the code; Sentry ignores them.
const maxContextLine = 120

// frame is one stack frame prepared for grouping: its paths and module
// filled in as Relay and Sentry's JavaScript processing would have.
type frame struct {
	src      *event.Frame
	platform string
	family   string
	absPath  string
	filename string
	module   string
}

func prepareFrame(f *event.Frame, eventPlatform string) frame {
	fr := frame{src: f, platform: f.Platform, module: f.Module}
	if fr.platform == "" {
		fr.platform = eventPlatform
	}
	fr.family = familyOf(fr.platform)
	fr.absPath, fr.filename = framePaths(f)
	if fr.family == familyJavaScript {
		if fr.module == "" && hasAnyPrefix(fr.absPath, "http:", "https:", "webpack:", "app:") {
			fr.module = generateModule(fr.absPath)
		}
		if fr.module != "" {
			fr.module = stripBuildHashes(fr.module)
		}
	}
	return fr
}

// framePaths fills in abs_path from filename and filename from abs_path
// (its path when it is a URL), as Relay's frame normalization does: SDKs
// send one or the other.
func framePaths(f *event.Frame) (absPath, filename string) {
	absPath, filename = f.AbsPath, f.Filename
	if absPath == "" {
		absPath, filename = filename, ""
	}
	if filename == "" && absPath != "" {
		filename = absPath
		if strings.Contains(absPath, "://") {
			if u, err := url.Parse(absPath); err == nil && u.Path != "" && u.Path != "/" {
				filename = u.Path
			}
		}
	}
	return absPath, filename
}

// ruleFrame is the frame as the built-in stack trace rules see it.
func (fr *frame) ruleFrame() ruleFrame {
	return newRuleFrame(fr.family, ruleFunction(fr.src, fr.platform), fr.module, fr.absPath, fr.filename,
		fr.src.Package, fr.src.IsInApp())
}

// ruleFunction is the function name rules match on: the client's, trimmed
// when it sent no raw one (get_function_name_for_frame).
func ruleFunction(f *event.Frame, platform string) string {
	if f.RawFunction != "" || f.Function == "" {
		return f.Function
	}
	return trimFunction(f.Function, platform)
}

func trimFunction(fn, platform string) string {
	switch {
	case platform == "csharp":
		name, _, _ := strings.Cut(fn, " (")
		return name
	case familyOf(platform) == familyNative:
		return trimNativeFunction(fn)
	}
	return fn
}

// values returns what the frame contributes to the hash, in Sentry's order
// (module, filename, function, context line), or nil when it contributes
// nothing. Line and column numbers never contribute: they move with every
// unrelated edit above them.
// Followed: frame, get_module_component, get_filename_component,
// get_function_component and get_contextline_component in
// src/sentry/grouping/strategies/newstyle.py.
func (fr *frame) values() []string {
	f := fr.src
	module, moduleOK := fr.moduleValue()
	filename, fileOK := fr.filenameValue()
	if moduleOK {
		fileOK = false // the module says the same, more stably
	}
	context, contextOK := fr.contextLineValue()
	function, functionOK := functionValue(f, fr.platform, fr.family)

	if fr.family == familyJavaScript {
		// Functions browsers name differently or not at all, and frames of
		// eval'd or native code, only split issues.
		name := f.RawFunction
		if name == "" {
			name = f.Function
		}
		name = name[strings.LastIndex(name, ".")+1:]
		if name == "" || isOneOf(name, "?", "<anonymous function>", "<anonymous>", "Anonymous function") ||
			strings.HasSuffix(name, "/<") {
			functionOK = false
		}
		if name == "eval" || isOneOf(fr.absPath, "[native code]", "native code", "eval code", "<anonymous>") {
			return nil
		}
	}

	var out []string
	if moduleOK {
		out = append(out, module)
	}
	if fileOK {
		out = append(out, filename)
	}
	if functionOK {
		out = append(out, function)
	}
	if contextOK {
		out = append(out, context)
	}
	return out
}

func (fr *frame) moduleValue() (string, bool) {
	m := fr.module
	switch {
	case m == "":
		return "", false
	case fr.platform == "javascript" && strings.Contains(m, "/") && fr.absPath != "" && strings.HasSuffix(fr.absPath, m):
		return m, false // a path, not a module
	case fr.platform == "java":
		return javaModule(m)
	}
	return m, true
}

func (fr *frame) filenameValue() (string, bool) {
	name := fr.filename
	if name == "" {
		return "", false
	}
	if fr.family == familyJavaScript {
		name, _, _ = strings.Cut(name, "?")
		name, _, _ = strings.Cut(name, "#")
		name = stripBuildHashes(basename(name))
	}
	name = strings.ToLower(basename(name))
	switch {
	case hasURLOrigin(fr.absPath, false), name == "<anonymous>", name == "[native code]":
		return name, false
	case fr.platform == "java":
		name = javaAssistRe.ReplaceAllString(name, "${1}<auto>")
	}
	return name, true
}

func (fr *frame) contextLineValue() (string, bool) {
	raw := fr.src.ContextLine
	if raw == "" || !usesContextLine(fr.platform) {
		return "", false
	}
	line := collapseSpace(raw)
	switch {
	case line == "":
		return "", false
	case utf8.RuneCountInString(raw) > maxContextLine:
		return line, false
	case fr.family == familyJavaScript && fr.src.Function == "" && hasURLOrigin(fr.absPath, true):
		return line, false // minified code fetched from the web, no function to anchor it
	}
	return line, true
}

// functionValue normalizes the frame's function per platform.
func functionValue(f *event.Frame, platform, family string) (string, bool) {
	var fn string
	if platform == "csharp" {
		// The .NET SDK trims function; the raw one is what Sentry groups by.
		fn = f.RawFunction
		if fn == "" {
			fn = f.Function
		}
	} else {
		fn = f.Function
		if fn == "" {
			fn = f.RawFunction
		} else if f.RawFunction == "" {
			fn = trimFunction(fn, platform)
		}
	}
	if fn == "" {
		return "", false
	}
	switch {
	case platform == "ruby":
		if strings.HasPrefix(fn, "block ") {
			return "block", true
		}
		return rubyERBRe.ReplaceAllString(fn, ""), true
	case platform == "php":
		ok := !strings.HasPrefix(fn, "[Anonymous") && !strings.HasPrefix(fn, "class@anonymous\x00")
		if strings.HasPrefix(fn, "class@anonymous") {
			if i := strings.LastIndex(fn, "::"); i >= 0 {
				fn = fn[i+2:]
			}
		}
		return fn, ok
	case platform == "java":
		return fn, !strings.HasPrefix(fn, "lambda$")
	case family == familyNative:
		return fn, fn != "<redacted>" && fn != "<unknown>"
	case family == familyJavaScript:
		// Object.foo vs foo: browsers disagree on the receiver's name.
		return fn[strings.LastIndex(fn, ".")+1:], true
	case platform == "go":
		return goFunction(fn), true
	}
	return fn, true
}

// isRecursion reports whether f repeats the frame before it exactly: a
// recursive call, which should not make a deeper recursion a new issue.
func isRecursion(f, prev *event.Frame) bool {
	return prev != nil && f.AbsPath == prev.AbsPath && f.Package == prev.Package && f.Module == prev.Module &&
		f.Filename == prev.Filename && f.Function == prev.Function && f.Lineno == prev.Lineno && f.Colno == prev.Colno
}

// collapseSpace trims s and turns every run of white space into one space,
// as Python's " ".join(s.split()): indentation and tabs are not code.
func collapseSpace(s string) string {
	var b strings.Builder
	changed, space := false, false
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		if unicode.IsSpace(r) {
			if !changed && (r != ' ' || space || i == 0 || i+size == len(s)) {
				changed = true
				b.Grow(len(s))
				b.WriteString(strings.TrimRightFunc(s[:i], unicode.IsSpace))
			}
			space = true
			i += size
			continue
		}
		if changed {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(s[i : i+size])
		}
		space = false
		i += size
	}
	if !changed {
		return s
	}
	return b.String()
}
