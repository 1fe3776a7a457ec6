package grouping

import (
	"strings"
	"testing"
)

func TestTrimNativeFunction(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"-[UIApplication sendAction:to:from:forEvent:]", "-[UIApplication sendAction:to:from:forEvent:]"},
		{"unsigned int std::foo<int>::bar(char const*) const", "std::foo<T>::bar"},
		{"Renderer::drawFrame(Scene const&) const", "Renderer::drawFrame"},
		{"std::vector<Mesh, std::allocator<Mesh>>::operator[](unsigned long)", "std::vector<T>::operator[]"},
		{"CheckoutViewController.submitOrder(items: [Shop.Item]) -> ()", "CheckoutViewController.submitOrder"},
		{"main::{lambda(int)#1}::operator()(int) const", "main::lambda::operator()"},
		{"<T as core::fmt::Debug>::fmt::h0123456789abcdef", "core::fmt::Debug::fmt"},
		{"<Foo as core::fmt::Debug>::fmt", "Foo::fmt"},
		{"@_SomeFunc@12", "_SomeFunc"},
		{"<unknown>", "<unknown>"},
	}
	for _, tt := range tests {
		if got := trimNativeFunction(tt.in); got != tt.want {
			t.Errorf("trimNativeFunction(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestJavaScriptNames(t *testing.T) {
	t.Parallel()
	modules := []struct{ in, want string }{
		{"https://example.com/static/js/main.3f2a1b9c.chunk.js?v=12", "main.3f2a1b9c.chunk"},
		{"http://google.com/js/v1.0/foo/bar/baz.js", "foo/bar/baz"},
		{"https://cdn.example.com/0123456789abcdef0123456789abcdef/app/main.min.js", "app/main"},
		{"webpack:///./src/components/Cart.tsx", "src/components/Cart"},
		{"app:///main.js", "main"},
	}
	for _, tt := range modules {
		if got := generateModule(tt.in); got != tt.want {
			t.Errorf("generateModule(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	names := []struct{ in, want string }{
		{"main.3f2a1b9c.chunk", "main.chunk"},
		{"vendors~main.1a2b3c4d.chunk.js", "vendors~main.chunk.js"},
		{"index-BzK3a9Qf.js", "index.js"},
		{"index-C1x_yq7P.js", "index.js"},
		{"user-settings.js", "user-settings.js"},
		{"assets/cart-DiwrgTda", "assets/cart"},
		{"app.js?v=1730540000", "app.js"},
		{"static/3f2a1b9c8d/app", "static/app"},
		{"polyfills-es2015.js", "polyfills-es2015.js"},
		{"user-profile.js", "user-profile.js"},
		{"my_component", "my_component"},
	}
	for _, tt := range names {
		if got := stripBuildHashes(tt.in); got != tt.want {
			t.Errorf("stripBuildHashes(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestJavaModule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"com.acme.Foo", "com.acme.Foo", true},
		{"com.acme.Foo$$Lambda$123/0x0000000800c1b440", "", false},
		{"com.acme.Foo$$Lambda/0x000001f0011a6000", "", false},
		{"sun.reflect.GeneratedMethodAccessor12", "sun.reflect.GeneratedMethodAccessor", true},
		{"jdk.internal.reflect.GeneratedMethodAccessor7", "jdk.internal.reflect.GeneratedMethodAccessor", true},
		{"sun.reflect.GeneratedConstructorAccessor45", "sun.reflect.GeneratedConstructorAccessor<auto>", true},
		{"com.acme.Foo$$EnhancerBySpringCGLIB$$5a6b7c8d", "com.acme.Foo$$EnhancerBySpringCGLIB$$<auto>", true},
		{"com.acme.Foo$$EnhancerByGuice$$ae46b1bf$$FastClassByGuice$$caceacd2", "com.acme.Foo$$EnhancerByGuice$$<auto>$$FastClassByGuice$$<auto>", true},
		{"com.acme.User$HibernateProxy$oRWxjAWT", "com.acme.User$HibernateProxy$<auto>", true},
		{"com.acme.EntriesResource_$$_javassist_seam_74", "com.acme.EntriesResource_$$_javassist<auto>", true},
		{"myapp.core$fn__12345", "myapp.core$fn__<auto>", true},
		{"com.acme.Foo$1", "com.acme.Foo$<auto>", true},
		{"com.acme.Foo$Bar$2$1", "com.acme.Foo$Bar$<auto>$<auto>", true},
		{"com.acme.Foo$Inner", "com.acme.Foo$Inner", true},
	}
	for _, tt := range tests {
		got, ok := javaModule(tt.in)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("javaModule(%q) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestGoFunction(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"(*Server).routes.func1", "(*Server).routes.func"},
		{"(*Store).Order.func2.1", "(*Store).Order.func"},
		{"glob..func12", "glob..func"},
		{"main.gowrap3", "main.gowrap"},
		{"(*Server).handleOrder", "(*Server).handleOrder"},
		{"funcName", "funcName"},
	}
	for _, tt := range tests {
		if got := goFunction(tt.in); got != tt.want {
			t.Errorf("goFunction(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCollapseSpace(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", " ", "a", " a", "a ", "a b", "a  b", "\ta\tb\n", "  x = 1  # c ", "a\u00a0b", "é  ü", "   ", "a \t b"} {
		want := strings.Join(strings.Fields(s), " ")
		if got := collapseSpace(s); got != want {
			t.Errorf("collapseSpace(%q) = %q, want %q", s, got, want)
		}
	}
}
