package grouping

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tocsin/tocsin/event"
)

// TestGroup_Relations checks the relations between events that matter to
// users: what must land in the same issue and what must not.
func TestGroup_Relations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		a, b   func(testing.TB) *event.Event
		same   bool
		method string // of both a and b
	}{
		// Python
		{"python: same error twice", fixture("python"), fixture("python", newIdentity), true, MethodStacktrace},
		{"python: line numbers only", fixture("python"), fixture("python", shiftLines(7)), true, MethodStacktrace},
		{"python: other in-app function", fixture("python"), fixture("python", renameFunction("load_user", "load_account")), false, MethodStacktrace},
		{"python: other in-app module", fixture("python"), fixture("python", replaceInFrames("shop.users", "shop.accounts")), false, MethodStacktrace},
		{"python: non-in-app frames change", fixture("python"), fixture("python", renameFunction("_get_response", "get_response_async"), replaceInFrames("python3.12", "python3.13")), true, MethodStacktrace},
		{"python: other in-app context line", fixture("python"), fixture("python", editFrames(functionIs("load_user"), func(f *event.Frame) { f.ContextLine = "    return CACHE.get(key)" })), false, MethodStacktrace},
		{"python: over-long context line ignored", fixture("python", editFrames(functionIs("load_user"), func(f *event.Frame) { f.ContextLine = strings.Repeat("x", 121) })), fixture("python", editFrames(functionIs("load_user"), func(f *event.Frame) { f.ContextLine = strings.Repeat("y", 121) })), true, MethodStacktrace},
		{"python: whitespace of context line", fixture("python"), fixture("python", editFrames(functionIs("load_user"), func(f *event.Frame) { f.ContextLine = "\treturn   CACHE[f\"user:{user_id}\"]  " })), true, MethodStacktrace},
		{"python: other value with stack", fixture("python"), fixture("python", lastException(setValue("'session:abc'"))), true, MethodStacktrace},
		{"python: other type with stack", fixture("python"), fixture("python", lastException(setType("IndexError"))), false, MethodStacktrace},
		{"python: other value without stack", fixture("python", lastException(dropStack)), fixture("python", lastException(dropStack), lastException(setValue("'session'"))), false, MethodException},
		{"python: value without stack differing in numbers", fixture("python", lastException(dropStack)), fixture("python", lastException(dropStack), lastException(setValue("'user:43'"))), true, MethodException},
		{"python: synthetic exception type ignored", fixture("python", lastException(synthetic)), fixture("python", lastException(synthetic), lastException(setType("SIGSEGV"))), true, MethodStacktrace},
		{"python: no in-app flags, library frames count", fixture("python", clearInApp), fixture("python", clearInApp, renameFunction("_get_response", "get_response_async")), false, MethodStacktrace},
		{"python: recursion depth", fixture("python"), fixture("python", func(ev *event.Event) {
			st := ev.Exceptions[0].Stacktrace
			last := st.Frames[len(st.Frames)-1]
			st.Frames = append(st.Frames, last, last)
		}), true, MethodStacktrace},
		{"python: top-level stacktrace moves into the exception", fixture("python"), fixture("python", func(ev *event.Event) {
			ev.Stacktrace, ev.Exceptions[0].Stacktrace = ev.Exceptions[0].Stacktrace, nil
		}), true, MethodStacktrace},

		// Chained exceptions
		{"python chained: other cause type", fixture("python_chained"), fixture("python_chained", firstException(setType("TimeoutError"))), false, MethodStacktrace},
		{"python chained: cause value differs in numbers", fixture("python_chained"), fixture("python_chained", firstException(setValue("[Errno 113] Connection refused"))), true, MethodStacktrace},
		{"python chained: other cause value", fixture("python_chained"), fixture("python_chained", firstException(setValue("Name or service not known"))), false, MethodStacktrace},
		{"python chained: without the cause", fixture("python_chained"), fixture("python_chained", func(ev *event.Event) { ev.Exceptions = ev.Exceptions[1:] }), false, MethodStacktrace},
		{"java chained: other cause type", fixture("java_chained"), fixture("java_chained", firstException(setType("SQLTimeoutException"))), false, MethodStacktrace},

		// Messages
		{"message: other params, same template", fixture("python_message"), fixture("python_message", func(ev *event.Event) {
			ev.Message = "Payment pay_91bc failed for bo@example.org"
		}), true, MethodMessage},
		{"message: other template", fixture("python_message"), fixture("python_message", func(ev *event.Event) { ev.MessageTemplate = "Refund %s failed for %s" }), false, MethodMessage},
		{"message: attached stack trace wins", fixture("python_message_stack"), fixture("python_message_stack", setMessage("Inventory for SKU 99 is negative (again)")), true, MethodStacktrace},

		// Fingerprints
		{"fingerprint overrides stack", fixture("python", setFingerprint("payment-failed")), fixture("java", setFingerprint("payment-failed")), true, MethodFingerprint},
		{"fingerprint: other value", fixture("python", setFingerprint("payment-failed")), fixture("python", setFingerprint("payment-declined")), false, MethodFingerprint},
		{"fingerprint: {{ default }} alone is the default", fixture("python"), fixture("python", setFingerprint("{{ default }}")), true, MethodStacktrace},
		{"fingerprint: {{default}} spelled tight", fixture("python", setFingerprint("{{ default }}", "tenant-a")), fixture("python", setFingerprint("{{default}}", "tenant-a")), true, MethodFingerprint},
		{"fingerprint: {{ default }} + extra is stable", fixture("python", setFingerprint("{{ default }}", "tenant-a")), fixture("python", setFingerprint("{{ default }}", "tenant-a"), shiftLines(3), newIdentity), true, MethodFingerprint},
		{"fingerprint: {{ default }} + other extra", fixture("python", setFingerprint("{{ default }}", "tenant-a")), fixture("python", setFingerprint("{{ default }}", "tenant-b")), false, MethodFingerprint},
		{"fingerprint: {{ default }} follows the stack", fixture("python", setFingerprint("{{ default }}", "tenant-a")), fixture("python", setFingerprint("{{ default }}", "tenant-a"), renameFunction("load_user", "load_account")), false, MethodFingerprint},
		{"fingerprint: {{ transaction }}", fixture("python", setFingerprint("{{ transaction }}")), fixture("python", setFingerprint("{{ transaction }}"), func(ev *event.Event) { ev.Transaction = "/api/orders" }), false, MethodFingerprint},
		{"fingerprint: {{ error.type }} ignores the stack", fixture("python", setFingerprint("{{ error.type }}")), fixture("python", setFingerprint("{{ error.type }}"), renameFunction("load_user", "load_account")), true, MethodFingerprint},
		{"fingerprint: {{ error.value }}", fixture("python", setFingerprint("{{ error.value }}")), fixture("python", setFingerprint("{{ error.value }}"), lastException(setValue("'user:43'"))), false, MethodFingerprint},
		{"fingerprint: {{ level }}", fixture("python", setFingerprint("x", "{{ level }}")), fixture("python", setFingerprint("x", "{{ level }}"), func(ev *event.Event) { ev.Level = event.LevelWarning }), false, MethodFingerprint},
		{"fingerprint: {{ message }}", fixture("python_message", setFingerprint("{{ message }}")), fixture("python_message", setFingerprint("{{ message }}"), setMessage("Payment pay_91bc failed for bo@example.org")), false, MethodFingerprint},
		{"fingerprint: {{ function }} of the crash frame", fixture("python", setFingerprint("{{ function }}")), fixture("python", setFingerprint("{{ function }}"), renameFunction("user_detail", "user_list")), true, MethodFingerprint},
		{"fingerprint: {{ tags.tenant }}", fixture("python", setFingerprint("{{ tags.tenant }}"), func(ev *event.Event) { ev.Tags = []event.Tag{{Key: "tenant", Value: "a"}} }), fixture("python", setFingerprint("{{ tags.tenant }}"), func(ev *event.Event) { ev.Tags = []event.Tag{{Key: "tenant", Value: "b"}} }), false, MethodFingerprint},
		{"built-in rule: chunk load errors are one issue", fixture("javascript_browser", lastException(setType("ChunkLoadError"))), fixture("javascript_vite", lastException(setType("ChunkLoadError"))), true, MethodFingerprint},
		{"built-in rule: hydration errors per transaction", fixture("javascript_browser", lastException(setValue("Text content does not match server-rendered HTML."))), fixture("javascript_browser", lastException(setValue("Text content does not match server-rendered HTML.")), renameFunction("renderUser", "renderCard")), true, MethodFingerprint},
		{"built-in rule: client fingerprint wins", fixture("javascript_browser", lastException(setType("ChunkLoadError")), setFingerprint("mine")), fixture("python", setFingerprint("mine")), true, MethodFingerprint},

		// JavaScript in the browser
		{"browser: cache-busting hashes and query strings", fixture("javascript_browser"), fixture("javascript_browser", replaceInFrames("3f2a1b9c", "9e8d7c6b", "1a2b3c4d", "5e6f7a8b", "v=1730540000", "v=1730999999"), shiftLines(1)), true, MethodStacktrace},
		{"browser: Vite hashes", fixture("javascript_vite"), fixture("javascript_vite", replaceInFrames("BzK3a9Qf", "C1x_yq7P", "DiwrgTda", "BmZqPwTe")), true, MethodStacktrace},
		{"browser: other in-app function", fixture("javascript_browser"), fixture("javascript_browser", renameFunction("renderUser", "renderCart")), false, MethodStacktrace},
		{"browser: other script", fixture("javascript_browser"), fixture("javascript_browser", replaceInFrames("main.3f2a1b9c", "checkout.3f2a1b9c")), false, MethodStacktrace},
		{"browser: anonymous function spellings", fixture("javascript_browser"), fixture("javascript_browser", renameFunction("?", "<anonymous>")), true, MethodStacktrace},
		{"browser: receiver names differ between browsers", fixture("javascript_browser"), fixture("javascript_browser", renameFunction("UserCard.handleClick", "HTMLButtonElement.handleClick")), true, MethodStacktrace},
		{"browser: other value with stack", fixture("javascript_browser"), fixture("javascript_browser", lastException(setValue("Cannot read properties of null (reading 'name')"))), true, MethodStacktrace},

		// JavaScript on node
		{"node: build hash in file and module", fixture("node"), fixture("node", replaceInFrames("3f2a1b9c", "77aa88bb")), true, MethodStacktrace},
		{"node: line numbers only", fixture("node"), fixture("node", shiftLines(12)), true, MethodStacktrace},
		{"node: node_modules frames change", fixture("node"), fixture("node", replaceInFrames("pg-pool", "pg-pool2", "Pool.connect", "Pool._acquire")), true, MethodStacktrace},
		{"node: other in-app function", fixture("node"), fixture("node", renameFunction("handler", "listUsers")), false, MethodStacktrace},

		// Java
		{"java: generated class numbers", fixture("java"), fixture("java", replaceInFrames(
			"GeneratedMethodAccessor123", "GeneratedMethodAccessor456",
			"CGLIB$$5a6b7c8d", "CGLIB$$9f8e7d6c",
			"$$Lambda$1234/0x0000000800c1b440", "$$Lambda$877/0x00000008001a2b30",
			"OrderService$1", "OrderService$3",
			"HibernateProxy$oRWxjAWT", "HibernateProxy$Zt9QpL2m",
			"lambda$ship$0", "lambda$ship$4"), shiftLines(2)), true, MethodStacktrace},
		{"java: JDK 21 lambda class", fixture("java"), fixture("java", replaceInFrames("$$Lambda$1234/0x0000000800c1b440", "$$Lambda/0x000001f0011a6000")), true, MethodStacktrace},
		{"java: other in-app method", fixture("java"), fixture("java", renameFunction("markShipped", "markCancelled")), false, MethodStacktrace},
		{"java: framework frames change", fixture("java"), fixture("java", renameFunction("service", "doDispatch"), replaceInFrames("java.lang.Thread", "java.lang.VirtualThread")), true, MethodStacktrace},
		{"java: other value with stack", fixture("java"), fixture("java", lastException(setValue("Order 98 is already shipped"))), true, MethodStacktrace},

		// Go
		{"go: closure numbers", fixture("go"), fixture("go", replaceInFrames("routes.func1", "routes.func3", "Order.func2.1", "Order.func4.2")), true, MethodStacktrace},
		{"go: paths and lines", fixture("go"), fixture("go", replaceInFrames("/src/shop", "/home/ci/build/shop"), shiftLines(5)), true, MethodStacktrace},
		{"go: other in-app function", fixture("go"), fixture("go", renameFunction("(*Server).handleOrder", "(*Server).handleRefund")), false, MethodStacktrace},
		{"go: other package", fixture("go"), fixture("go", replaceInFrames("acme/shop/store", "acme/shop/cache")), false, MethodStacktrace},
		{"go: runtime frames change", fixture("go"), fixture("go", renameFunction("(*conn).serve", "(*http2serverConn).runHandler")), true, MethodStacktrace},

		// Cocoa and native
		{"cocoa: system frames change", fixture("cocoa"), fixture("cocoa", renameFunction("-[UIApplication sendAction:to:from:forEvent:]", "-[UIControl sendAction:to:forEvent:]"), renameFunction("___forwarding___", "_CF_forwarding_prep_0")), true, MethodStacktrace},
		{"cocoa: other in-app method", fixture("cocoa"), fixture("cocoa", renameFunction("-[CheckoutViewController payTapped:]", "-[CheckoutViewController cancelTapped:]")), false, MethodStacktrace},
		{"cocoa: Swift signature", fixture("cocoa"), fixture("cocoa", renameFunction("CheckoutViewController.submitOrder(items: [Shop.Item]) -> ()", "CheckoutViewController.submitOrder(items: [Shop.Item], coupon: Swift.String?) -> ()")), true, MethodStacktrace},
		{"cocoa: instance address in value", fixture("cocoa"), fixture("cocoa", lastException(setValue("-[__NSCFString objectForKey:]: unrecognized selector sent to instance 0x600001a0b0c0"))), true, MethodStacktrace},
		{"native: other threads change", fixture("native_threads"), fixture("native_threads", renameFunction("IOLoop::run()", "IOLoop::poll()")), true, MethodStacktrace},
		{"native: C++ signature", fixture("native_threads"), fixture("native_threads", renameFunction("Mesh::upload(GLContext&)", "Mesh::upload(GLContext&, bool)")), true, MethodStacktrace},
		{"native: other crashed-thread function", fixture("native_threads"), fixture("native_threads", renameFunction("Mesh::upload(GLContext&)", "Mesh::destroy()")), false, MethodStacktrace},
		{"native: below abort", fixture("native_threads"), fixture("native_threads", renameFunction("__pthread_kill", "pthread_kill")), true, MethodStacktrace},

		// Ruby, PHP, .NET
		{"ruby: ERB template numbers", fixture("ruby"), fixture("ruby", replaceInFrames("2816612871316371042_47010", "1100220033004400550_99881")), true, MethodStacktrace},
		{"ruby: block labels", fixture("ruby"), fixture("ruby", renameFunction("block in show", "block (2 levels) in show")), true, MethodStacktrace},
		{"php: anonymous class", fixture("php"), fixture("php", replaceInFrames("Converter.php:12$0", "Converter.php:14$1")), true, MethodStacktrace},
		{"php: vendor frames change", fixture("php"), fixture("php", replaceInFrames("Pipeline::Illuminate", "Hub::Illuminate")), true, MethodStacktrace},
		{".net: line numbers", fixture("dotnet"), fixture("dotnet", shiftLines(4)), true, MethodStacktrace},
		{".net: other in-app method", fixture("dotnet"), fixture("dotnet", editFrames(moduleHas("OrdersController"), func(f *event.Frame) {
			f.Function, f.RawFunction = "List", "Acme.Shop.Controllers.OrdersController.List()"
		})), false, MethodStacktrace},

		// Fallback
		{"fallback: empty events group", empty("python"), empty("python"), true, MethodFallback},
		{"fallback: per platform", empty("python"), empty("javascript"), false, MethodFallback},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b := Group(tt.a(t)), Group(tt.b(t))
			if (a.Hash == b.Hash) != tt.same {
				t.Errorf("same hash = %v, want %v (a %s, b %s)", a.Hash == b.Hash, tt.same, a.Hash, b.Hash)
			}
			if a.Method != tt.method || b.Method != tt.method {
				t.Errorf("methods %q, %q, want %q", a.Method, b.Method, tt.method)
			}
		})
	}
}

// TestGroup_SentryHashes pins the cases where Tocsin's hash is Sentry's.
func TestGroup_SentryHashes(t *testing.T) {
	t.Parallel()
	md5hex := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	tests := []struct {
		name string
		ev   *event.Event
		want string
	}{
		{"fingerprint", &event.Event{Fingerprint: []string{"payment", "declined"}}, md5hex("paymentdeclined")},
		{"message", &event.Event{Message: "Payment 42 declined"}, md5hex("Payment <int> declined")},
		{"type and value", &event.Event{Exceptions: []event.Exception{{Type: "ValueError", Value: "bad input"}}}, md5hex("ValueErrorbad input")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Group(tt.ev).Hash; got != tt.want {
				t.Errorf("hash %s, want %s", got, tt.want)
			}
		})
	}
}

func TestGroup_Result(t *testing.T) {
	t.Parallel()
	hashRe := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, ev := range []*event.Event{nil, {}, load(t, "python"), load(t, "cocoa")} {
		r := Group(ev)
		if !hashRe.MatchString(r.Hash) || r.Version != Version || r.Method == "" {
			t.Errorf("result %+v", r)
		}
	}
}

// BenchmarkGroup groups a 20-frame Python exception.
func BenchmarkGroup(b *testing.B) {
	frames := make([]event.Frame, 20)
	for i := range frames {
		inApp := i >= 12
		dir := "/usr/local/lib/python3.12/site-packages/django/core/"
		if inApp {
			dir = "/app/shop/"
		}
		frames[i] = event.Frame{
			Filename: fmt.Sprintf("mod%d.py", i), AbsPath: fmt.Sprintf("%smod%d.py", dir, i),
			Module: fmt.Sprintf("shop.mod%d", i), Function: fmt.Sprintf("handler_%d", i),
			ContextLine: fmt.Sprintf("    result = handler_%d(request, user_id=%d)", i+1, i), Lineno: 10 + i, InApp: &inApp,
		}
	}
	ev := &event.Event{Platform: "python", Exceptions: []event.Exception{{
		Type: "KeyError", Value: "'user:42' not in cache 10.0.0.7:6379",
		Mechanism: &event.Mechanism{Type: "django"}, Stacktrace: &event.Stacktrace{Frames: frames},
	}}}
	b.ReportAllocs()
	for b.Loop() {
		Group(ev)
	}
}
