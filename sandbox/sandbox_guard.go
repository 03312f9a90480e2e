package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"attachbot/store"
)

// The sandbox's guards. The sandbox is a toy that anyone at the keyboard may play with, so it
// must not reach what is not a toy: it never opens a real attachbot store, and its API, which
// posts as anyone, answers only the page it serves, not another web site that the browser
// happens to show (a cross-site form or a DNS-rebound name).

// sandboxDefaultListenAddr is where the sandbox listens unless LISTEN_ADDR says otherwise:
// the loopback interface only, as nobody else needs to reach it.
const sandboxDefaultListenAddr = "127.0.0.1:8080"

// prepareSandboxStore makes sure the file at path is the sandbox's own store: a missing or
// empty file becomes a new store with the sandbox's mark, and an existing file must carry
// that mark. It is looked at read-only first, so that a real attachbot store (or one a
// running attachbot holds) is refused without being changed.
func prepareSandboxStore(ctx context.Context, path string) error {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) || (err == nil && info.Mode().IsRegular() && info.Size() == 0):
		db, err := store.Open(path, store.Options{})
		if err != nil {
			return fmt.Errorf("SANDBOX_DB=%s: create the sandbox's store: %w", path, err)
		}
		return errors.Join(db.MarkSandbox(ctx), db.Close())
	case err != nil:
		return fmt.Errorf("SANDBOX_DB=%s: %w", path, err)
	}
	db, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("SANDBOX_DB=%s is not a store the sandbox can use: %w", path, err)
	}
	marked, err := db.IsSandbox(ctx)
	if err := errors.Join(err, db.Close()); err != nil {
		return fmt.Errorf("SANDBOX_DB=%s: %w", path, err)
	}
	if !marked {
		return fmt.Errorf("SANDBOX_DB=%s is an attachbot store that the sandbox did not create (it lacks the sandbox's mark): "+
			"the sandbox never opens a real store. Name a new file, or leave SANDBOX_DB unset for a temporary one", path)
	}
	return nil
}

// sameOrigin guards the sandbox API. Every request must be addressed to an IP address or
// localhost (a DNS name could be rebound to this machine by another site), and come from the
// sandbox's own page when the browser says where it comes from (Origin, Sec-Fetch-Site).
// A refusal is 403 with {"error"} saying why.
func sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !localHost(r.Host) {
			writeError(w, http.StatusForbidden, fmt.Sprintf("the sandbox API answers only on localhost or an IP address, not on %q: open the page at the URL the sandbox printed", r.Host))
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" {
			u, err := url.Parse(origin)
			if err != nil || u.Host != r.Host || (u.Scheme != "http" && u.Scheme != "https") {
				writeError(w, http.StatusForbidden, fmt.Sprintf("the sandbox API answers only its own page: the request comes from %q, not from http://%s", origin, r.Host))
				return
			}
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			writeError(w, http.StatusForbidden, fmt.Sprintf("the sandbox API answers only its own page: the browser says the request comes from a %s page", site))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// jsonOnly refuses, with 415, a request whose body is not application/json: a cross-site
// form or a simple fetch cannot send that type without the browser asking first.
func jsonOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mediaType != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("the sandbox API takes a JSON body with Content-Type: application/json, not %q", r.Header.Get("Content-Type")))
			return
		}
		next(w, r)
	}
}

// localHost reports whether a Host header names localhost or an IP address, which no other
// site can point at this machine the way it can point a DNS name.
func localHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.ToLower(host) == "localhost" || net.ParseIP(host) != nil
}
