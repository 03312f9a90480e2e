// The route table: which handler serves each method and path, and what it asks of the
// caller's token.

package webextest

import (
	"net/http"
	"strings"
	"time"
)

// access is what a route asks of the caller's token.
type access int

const (
	anyToken  access = iota // any valid token
	adminOnly               // a partner admin's token; other valid tokens get 403
	noToken                 // no bearer token (the OAuth token endpoint)
)

// route is one endpoint. Its handler runs with s.mu held.
type route struct {
	method  string
	pattern []string // path segments; "{}" is a parameter
	key     string   // method and pattern, the key of its operation's schemas
	access  access
	handle  func(q *request) reply
}

func (s *Sim) routeTable() []route {
	r := func(method, pattern string, a access, h func(*request) reply) route {
		segs := strings.Split(strings.Trim(pattern, "/"), "/")
		return route{method: method, pattern: segs, key: routeKey(method, segs), access: a, handle: h}
	}
	// Literal routes come before parameter routes of the same shape.
	return []route{
		r("GET", "/v1/people/me", anyToken, s.handleMe),
		r("GET", "/v1/people/{}", anyToken, s.handleGetPerson),
		r("GET", "/v1/people", anyToken, s.handleListPeople),
		r("POST", "/v1/messages", anyToken, s.handleCreateMessage),
		r("GET", "/v1/messages/{}", anyToken, s.handleGetMessage),
		r("PUT", "/v1/messages/{}", anyToken, s.handleEditMessage),
		r("DELETE", "/v1/messages/{}", anyToken, s.handleDeleteMessage),
		r("GET", "/v1/contents/{}", anyToken, s.handleGetContent),
		r("POST", "/v1/attachment/actions", anyToken, s.handleCreateAction),
		r("GET", "/v1/attachment/actions/{}", anyToken, s.handleGetAction),
		r("GET", "/v1/webhooks", anyToken, s.handleListWebhooks),
		r("POST", "/v1/webhooks", anyToken, s.handleCreateWebhook),
		r("GET", "/v1/webhooks/{}", anyToken, s.handleGetWebhook),
		r("PUT", "/v1/webhooks/{}", anyToken, s.handleUpdateWebhook),
		r("DELETE", "/v1/webhooks/{}", anyToken, s.handleDeleteWebhook),
		r("GET", "/v1/wholesale/customers", adminOnly, s.handleListCustomers),
		r("POST", "/v1/wholesale/customers", adminOnly, s.handleProvision),
		r("POST", "/v1/wholesale/customers/validate", adminOnly, s.handlePrecheck),
		r("GET", "/v1/wholesale/customers/{}", adminOnly, s.handleGetCustomer),
		r("PUT", "/v1/wholesale/customers/{}", adminOnly, s.handleUpdateCustomer),
		r("DELETE", "/v1/wholesale/customers/{}", adminOnly, s.handleDeleteCustomer),
		r("GET", "/v1/licenses", adminOnly, s.handleLicenses),
		r("GET", "/v1/organizations", adminOnly, s.handleListOrgs),
		r("GET", "/v1/organizations/{}", adminOnly, s.handleGetOrg),
		r("GET", "/v1/partner/organizations/{}/partnerAdmins", adminOnly, s.handlePartnerAdmins),
		r("POST", "/v1/access_token", noToken, s.handleAccessToken),
		r("GET", "/u2c/api/v1/catalog", anyToken, s.handleCatalog),
		r("GET", "/wdm/api/v1/devices", anyToken, s.handleListDevices),
		r("POST", "/wdm/api/v1/devices", anyToken, s.handleCreateDevice),
		r("DELETE", "/wdm/api/v1/devices/{}", anyToken, s.handleDeleteDevice),
		r("GET", "/conversation/api/v1/messages/{}", anyToken, s.handleLookupMessage),
		r("GET", "/conversation/api/v1/attachment/actions/{}", anyToken, s.handleLookupAction),
	}
}

// authenticateLocked returns who the bearer token belongs to, or nil.
func (s *Sim) authenticateLocked(h http.Header, now time.Time) *principal {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil
	}
	p := s.tokens[strings.TrimSpace(token)]
	if p == nil || p.revoked || (!p.expires.IsZero() && !now.Before(p.expires)) {
		return nil
	}
	return p
}

// dispatchLocked routes q, checks the token and runs the handler.
func (s *Sim) dispatchLocked(q *request, who *principal) reply {
	s.purgeDeletedLocked(q.now)
	segs := strings.Split(strings.Trim(q.path, "/"), "/")
	methodMismatch := false
	for _, rt := range s.routes {
		params, ok := matchSegments(rt.pattern, segs)
		if !ok {
			continue
		}
		if rt.method != q.method {
			methodMismatch = true
			continue
		}
		switch {
		case rt.access != noToken && who == nil:
			return errReply(failf(http.StatusUnauthorized, msgUnauthorized))
		case rt.access == adminOnly && !who.admin:
			return errReply(failf(http.StatusForbidden, msgForbidden))
		}
		if rt.access != noToken {
			q.who = who
		}
		if rep, ok := s.checkShapeLocked(rt, q); !ok {
			return rep
		}
		q.params = params
		return rt.handle(q)
	}
	if methodMismatch {
		return errReply(failf(http.StatusMethodNotAllowed, "The request method %s is not supported for %s.", q.method, q.path))
	}
	return errReply(failf(http.StatusNotFound, msgNotFound))
}

// matchSegments matches path segments against a route pattern and returns the parameters.
func matchSegments(pattern, segs []string) ([]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	var params []string
	for i, p := range pattern {
		switch {
		case p == "{}" && segs[i] != "":
			params = append(params, segs[i])
		case p != segs[i]:
			return nil, false
		}
	}
	return params, true
}

// normalizePath removes a trailing slash, so that collection paths work either way.
func normalizePath(p string) string {
	if len(p) > 1 {
		p = strings.TrimRight(p, "/")
	}
	if p == "" {
		return "/"
	}
	return p
}
