package grouping

import "strings"

// Sentry applies "stack trace rules" (grouping enhancements) before it
// groups: a built-in base set, then the project's own. They mark frames out
// of the app (-app), keep them out of the hash (-group), and do so for
// ranges of frames around well-known borders (^ towards the crash, v
// towards the thread's start). Tocsin applies the part of the built-in set
// that matters for the SDKs it targets, written as code, not parsed rules.
// Followed: src/sentry/grouping/enhancer/enhancement-configs/all-platforms@2026-01-20.txt
// and newstyle@2023-01-11.txt.

// ruleFrame is a frame as the rules see it.
type ruleFrame struct {
	family   string
	function string // trimmed, as get_function_name_for_frame
	module   string
	paths    []string // abs_path and filename: lowercase, "/" separated, rooted
	pkg      string   // lowercase, "/" separated
	inApp    bool
	grouped  bool
}

func newRuleFrame(family, function, module, absPath, filename, pkg string, inApp bool) ruleFrame {
	rf := ruleFrame{family: family, function: function, module: module, inApp: inApp, grouped: true,
		pkg: strings.ToLower(strings.ReplaceAll(pkg, `\`, "/"))}
	for _, p := range []string{absPath, filename} {
		if p == "" {
			continue
		}
		p = strings.ToLower(strings.ReplaceAll(p, `\`, "/"))
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		rf.paths = append(rf.paths, p)
	}
	return rf
}

func (f *ruleFrame) pathContains(subs ...string) bool {
	for _, p := range f.paths {
		for _, s := range subs {
			if strings.Contains(p, s) {
				return true
			}
		}
	}
	return false
}

func (f *ruleFrame) pathHasPrefix(prefixes ...string) bool {
	for _, p := range f.paths {
		for _, s := range prefixes {
			if strings.HasPrefix(p, s) {
				return true
			}
		}
	}
	return false
}

// pkgIs matches a native package (an image path) by its path or its name.
func (f *ruleFrame) pkgIs(names ...string) bool {
	base := basename(f.pkg)
	for _, n := range names {
		if f.pkg == n || base == n {
			return true
		}
	}
	return false
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func isOneOf(s string, set ...string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}

// javaFrameworks are the JVM modules Sentry files under category:framework
// (and kotlin's), which are never the application.
var javaFrameworks = []string{
	"akka.", "com.fasterxml.", "com.microsoft.", "com.sun.", "feign.", "io.opentelemetry.",
	"io.sentry.", "jdk.", "oauth.", "org.apache.", "org.glassfish.", "org.jboss.", "org.jdesktop.",
	"org.postgresql.", "org.springframework.", "org.web3j.", "reactor.core.", "scala.", "sun.",
	"kotlin.", "kotlinx.", "io.ktor.", "io.netty.",
}

// notApp is the built-in -app rules of single frames.
func (f *ruleFrame) notApp() bool {
	switch {
	case f.pathContains("/vendor/", "/site-packages/", "/dist-packages/", "/node_modules/",
		"/go/pkg/mod/", "/.local/share/", "https://unpkg.com/", "https://cdnjs.cloudflare.com/",
		"https://cdn.jsdelivr.net/", "https://esm.run/"),
		f.pathHasPrefix("/usr/local/lib/", "/usr/local/cellar/"),
		hasAnyPrefix(f.pkg, "/lib/", "/usr/lib/"),
		hasAnyPrefix(f.module, javaFrameworks...),
		hasAnyPrefix(f.module, "unpkg/"):
		return true
	}
	if f.family != familyNative {
		return false
	}
	return hasAnyPrefix(f.function, "std::", "core::", "alloc::", "__rust_") ||
		f.function == "rust_begin_unwind" ||
		strings.Contains(f.pkg, "/frameworks/libswift") ||
		strings.Contains(f.pkg, "/frameworks/kscrash.framework/") ||
		strings.Contains(f.pkg, "/frameworks/sentryswift.framework/") ||
		strings.Contains(f.pkg, "/frameworks/sentry.framework/") ||
		f.nativeSystem()
}

// nativeSystem is Sentry's category:system for native images: the OS.
func (f *ruleFrame) nativeSystem() bool {
	return hasAnyPrefix(f.pkg, "/system/library/frameworks/", "c:/windows/", "/usr/lib/", "/system/", "/vendor/") ||
		f.pkgIs("corefoundation", "foundation", "cfnetwork", "iokit", "quartzcore", "iomobileframebuffer",
			"libdispatch.dylib", "webkit") ||
		hasAnyPrefix(basename(f.pkg), "libobjc", "libsystem", "linux-gate.so", "linux-vdso.so") ||
		strings.HasSuffix(f.pkg, "/libart.so")
}

// noGroup is the built-in -group rules of single frames (they are -app too).
func (f *ruleFrame) noGroup() bool {
	switch {
	case hasAnyPrefix(f.module, "io.sentry.", "@babel/", "core-js/", "regenerator-runtime/", "tslib/"),
		f.module == "newrelic",
		f.inDirNamed("newrelic", "logrocket"),
		isOneOf(f.nodeFunction(), "runMicrotasks", "queueMicrotask", "processTicksAndRejections", "runNextTicks", "nextTick"),
		f.family == familyJavaScript && f.function == "_callSuper":
		return true
	}
	if f.family != familyNative {
		return false
	}
	fn := f.function
	return hasAnyPrefix(fn, "kscm_", "sentrycrashcm_", "kscrash_", "google_breakpad::", "crashpad::", "std::_", "__swift_", "_INTERNAL") ||
		strings.Contains(fn, "sentrycrash_") ||
		len(fn) > 1 && hasAnyPrefix(fn[1:], "[KSCrash", "[RNSentry", "[Sentry") ||
		strings.HasPrefix(fn, "__") && strings.Contains(fn, "[Sentry") ||
		isOneOf(fn, "_mh_execute_header", "gpusKillClientExt") ||
		f.nativeSystem() && strings.HasPrefix(fn, "_") && fn != "_purecall"
}

// nodeFunction is the function without the receiver node prints before
// it (process.processTicksAndRejections) for JavaScript frames.
func (f *ruleFrame) nodeFunction() string {
	if f.family != familyJavaScript {
		return f.function
	}
	return f.function[strings.LastIndex(f.function, ".")+1:]
}

// inDirNamed reports whether a path has a directory whose name contains
// one of the words: Sentry's path:**/*newrelic*/** rules.
func (f *ruleFrame) inDirNamed(words ...string) bool {
	if !f.pathContains(words...) {
		return false
	}
	for _, p := range f.paths {
		dirs := strings.Split(p[:strings.LastIndex(p, "/")+1], "/")
		for _, d := range dirs {
			for _, w := range words {
				if strings.Contains(d, w) {
					return true
				}
			}
		}
	}
	return false
}

// crashBorder: frames where the crash machinery starts (abort, throw,
// panic). They and everything they called are neither app nor grouped
// (^-group -group ^-app -app); keepApp: only grouping stops (signal and
// exception handlers, ^-group -group).
func (f *ruleFrame) crashBorder() (border, keepApp bool) {
	fn := f.function
	if f.family != familyNative {
		return false, false
	}
	switch {
	case isOneOf(fn, "abort", "raise", "std::terminate", "RtlExitUserThread", "TppRaiseInvalidParameter",
		"_CxxThrowException", "RaiseException", "RaiseComPlusException", "_CFThrowFormattedException",
		"objc_exception_throw", "__cxa_throw", "__assert_rtn", "_NSRaiseError",
		"std::panicking::begin_panic", "core::panicking::begin_panic",
		"failure::backtrace::Backtrace::new", "error_chain::make_backtrace"),
		strings.HasPrefix(fn, "AG::precondition_failure"):
		return true, false
	case isOneOf(fn, "RtlpExecuteHandlerForException", "_sigtramp", "DispatchHookW", "execute_onexit_table",
		"google_breakpad::ExceptionHandler::SignalHandler",
		"google_breakpad::ExceptionHandler::WriteMinidumpWithException"):
		return true, true
	}
	return false, false
}

// appBorder: only the in-app flag stops here (^-app -app).
func (f *ruleFrame) appBorder() bool {
	return f.family == familyJavaScript && f.function == "reportError" ||
		f.family == familyNative && isOneOf(f.function, "std::panicking::panic_fmt", "core::panicking::panic_fmt")
}

// threadBase: where a thread starts (main loops, thread trampolines);
// they and what called them are noise (-group v-group).
func (f *ruleFrame) threadBase() bool {
	fn := f.function
	switch f.family {
	case familyNative:
		return isOneOf(fn, "wWinMain", "invoke_main", "BaseThreadInitThunk", "RtlUserThreadStart", "thread_start",
			"_pthread_start", "__pthread_start", "_pthread_body", "_dispatch_worker_thread2", "start_wqthread",
			"_pthread_wqthread", "TppWorkerThread", "TppWorkpExecuteCallback", "RtlpTpWorkCallback") ||
			fn == "start" && (strings.HasPrefix(f.pkg, "/usr/lib/system/") || f.pkgIs("libdyld.dylib")) ||
			fn == "UIApplicationMain" && f.pkgIs("uikit", "uikitcore") ||
			strings.HasPrefix(fn, "boost::") && strings.HasSuffix(fn, "::thread_proxy")
	case familyJava:
		m := f.module
		return strings.HasPrefix(m, "java.util.concurrent.ThreadPoolExecutor") && fn == "runWorker" ||
			m == "android.app.ActivityThread" && fn == "main" ||
			m == "android.os.Looper" && fn == "loop" ||
			m == "android.os.Handler" && (fn == "dispatchMessage" || fn == "handleCallback")
	}
	return false
}

// applyRules runs the built-in rules over a stack trace, oldest frame
// first, in place.
func applyRules(fs []ruleFrame) {
	for i := range fs {
		f := &fs[i]
		if f.notApp() {
			f.inApp = false
		}
		if f.noGroup() {
			f.inApp, f.grouped = false, false
		}
	}
	for i := range fs {
		if border, keepApp := fs[i].crashBorder(); border {
			for j := i; j < len(fs); j++ {
				fs[j].grouped = false
				if !keepApp {
					fs[j].inApp = false
				}
			}
			break
		}
	}
	for i := range fs {
		if fs[i].appBorder() {
			for j := i; j < len(fs); j++ {
				fs[j].inApp = false
			}
			break
		}
	}
	for i := len(fs) - 1; i >= 0; i-- {
		if fs[i].threadBase() {
			for j := 0; j <= i; j++ {
				fs[j].grouped = false
			}
			break
		}
	}
}
